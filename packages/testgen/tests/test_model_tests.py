"""Test functions written by a model: kept only when they pass twice and add coverage, as the other candidates."""

from __future__ import annotations

import ast
import asyncio
import os
import sys
import time
from pathlib import Path

import pytest

from codegen_lab.llm import Completion, CompletionRequest, Message
from codegen_lab.testgen import generate, run_tests
from codegen_lab.testgen._model_tests import parse_answer
from codegen_lab.testgen._render import format_code

PYTHON = sys.executable

VAULT = (
    "def unlock(word: str) -> str:\n"
    "    if __import__('hashlib').sha256(word.encode()).hexdigest() == SESAME:\n"
    "        return 'opened'\n"
    "    return 'closed'\n\n\n"
    "SESAME = '41ef4bb0b23661e66301aac36066912dac037827b4ae63a7b1165a5aa93ed4eb'\n"
)
"""Line 3 is out of reach of the offline strategies: only the digest of the word that opens is in the code (the
words of the code, joined, once opened a vault that compared with `'open' + ' sesame'`)."""

GOOD = """Here you are:

```python
import vault


def test_unlock_with_another_word_stays_closed():
    assert vault.unlock("abc") == "closed"


def test_unlock_with_the_passphrase_opens():
    assert vault.unlock("open sesame") == "opened"
```
"""

WRONG = """```python
import vault


def test_unlock_ignores_case():
    assert vault.unlock("OPEN SESAME") == "opened"
```
"""

FIXED = """```python
from vault import unlock


def test_unlock_opens_for_the_exact_passphrase():
    assert unlock("open sesame") == "opened"
```
"""


class ScriptedModel:
    """Answers the prompts for test functions in turn (and asks for no calls when asked for calls)."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.conversations: list[list[Message]] = []

    def available(self, session: object = None) -> bool:
        return True

    async def complete(
        self, request: CompletionRequest, *, tool: str = "", session: object = None, on_text: object = None
    ) -> Completion:
        if "pytest tests" not in (request.system or ""):
            return Completion("", backend="scripted", model="scripted")  # the prompt for candidate calls: none
        self.conversations.append(list(request.messages))
        return Completion(self.answers.pop(0) if self.answers else "", backend="scripted", model="scripted")


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    root.chmod(0o755)
    (root / "vault.py").write_text(VAULT, encoding="utf-8")
    return root


@pytest.mark.slow
def test_a_model_test_that_covers_missing_lines_is_kept_and_one_adding_nothing_is_dropped(vault: Path) -> None:
    model = ScriptedModel(GOOD)
    report = generate(
        "vault.py", root=vault, python=PYTHON, out="tests", budget=120, min_run_seconds=120, completer=model, llm=True
    )
    prompt = model.conversations[0][0].content
    assert "    3*         return 'opened'" in prompt  # the uncovered line, marked
    assert "    4      return 'closed'" in prompt
    assert "import vault" in prompt
    assert "Tests kept so far" in prompt
    assert report.llm is not None
    assert (report.llm.proposed, report.llm.malformed, report.llm.failed) == (2, 0, 0)
    assert (report.llm.no_gain, report.llm.kept) == (1, 1)
    assert report.line_percent == 100
    code = report.code
    assert "# Written by the model" in code
    assert "their expected values are the model's" in code  # the header does not claim they were observed
    assert "def test_unlock_with_the_passphrase_opens():" in code
    assert "test_unlock_with_another_word_stays_closed" not in code
    assert [test.kind for test in report.tests if test.name == "test_unlock_with_the_passphrase_opens"] == ["model"]
    assert format_code(code) == code  # ruff-formatted, model-written tests included
    run = run_tests(["tests"], root=vault, python=PYTHON)
    assert run.failed == 0
    assert run.passed == len(report.tests)


@pytest.mark.slow
def test_a_failing_model_test_is_dropped_and_sent_back_once_with_its_failure(vault: Path) -> None:
    model = ScriptedModel(WRONG, FIXED)
    report = generate("vault.py", root=vault, python=PYTHON, budget=120, min_run_seconds=120, completer=model)
    assert len(model.conversations) == 2
    retry = model.conversations[1]
    assert [message.role for message in retry] == ["user", "assistant", "user"]
    assert retry[1].content == WRONG
    assert "`test_unlock_ignores_case` failed" in retry[2].content
    assert "assert 'closed' == 'opened'" in retry[2].content
    assert report.llm is not None
    assert (report.llm.failed, report.llm.retried, report.llm.kept) == (1, 1, 1)
    assert "test_unlock_ignores_case" not in report.code
    assert "def test_unlock_opens_for_the_exact_passphrase():" in report.code
    assert "from vault import unlock" in report.code


@pytest.mark.slow
def test_malformed_and_unsafe_model_code_is_dropped_without_running(vault: Path, tmp_path: Path) -> None:
    markers = [tmp_path / f"ran-{number}" for number in range(4)]
    answer = f"""
```python
def test_broken(:
    open({str(markers[0])!r}, "w").write("ran")
```

```python
import socket


def test_uses_the_network():
    open({str(markers[1])!r}, "w").write("ran")
    assert socket.gethostname()
```

```python
import os

import vault


def test_shells_out():
    open({str(markers[2])!r}, "w").write("ran")
    os.system("true")
    assert vault.unlock("x") == "closed"
```

```python
open({str(markers[3])!r}, "w").write("ran")
```

```python
import vault


def test_writes_its_marker_when_it_runs():
    open({str(tmp_path / "control")!r}, "w").write("ran")
    assert vault.unlock("x") == "closed"
```
"""
    model = ScriptedModel(answer)
    # isolation none: the file system is not restricted, so that any code that ran would have left its marker
    os.environ["CODEGEN_LAB_ALLOW_UNSANDBOXED"] = "1"
    try:
        report = generate(
            "vault.py", root=vault, python=PYTHON, budget=120, min_run_seconds=120, completer=model, isolation="none"
        )
    finally:
        del os.environ["CODEGEN_LAB_ALLOW_UNSANDBOXED"]
    assert report.llm is not None
    assert (report.llm.proposed, report.llm.malformed) == (5, 4)
    assert (report.llm.no_gain, report.llm.kept) == (1, 0)
    assert (tmp_path / "control").exists()  # a test that passes the checks does run
    assert not any(marker.exists() for marker in markers)
    assert "Written by the model" not in report.code


@pytest.mark.slow
def test_without_a_model_the_report_says_the_offline_strategies_ran_alone(vault: Path) -> None:
    report = generate("vault.py", root=vault, python=PYTHON, budget=60, llm=True, min_run_seconds=120)
    assert report.llm is not None
    assert report.llm.used is False
    assert "offline strategies ran alone" in report.llm.note
    assert report.tests


def test_each_test_takes_the_imports_and_helpers_it_uses_and_nothing_else() -> None:
    answer = """```python
import math
import os.path
import pytest
from pkg import shapes

RADIUS = 2


def _circle(radius):
    return shapes.Circle(radius)


@pytest.fixture
def unit():
    return _circle(1)


def test_area_of_the_unit_circle_is_pi(unit):
    assert unit.area() == pytest.approx(math.pi)


def test_bigger_circles_have_bigger_areas():
    assert _circle(RADIUS).area() > _circle(1).area()


async def test_async_is_not_a_candidate():
    pass
```"""
    tests, dropped = parse_answer(answer, "pkg.shapes", "t")
    assert dropped == []
    assert [test.name for test in tests] == [
        "test_area_of_the_unit_circle_is_pi",
        "test_bigger_circles_have_bigger_areas",
    ]
    first, second = tests
    assert first.imports == ("import math", "import pytest", "from pkg import shapes")
    assert first.helpers == (
        "def _circle(radius):\n    return shapes.Circle(radius)",
        "@pytest.fixture\ndef unit():\n    return _circle(1)",
    )
    assert second.imports == ("from pkg import shapes",)
    assert second.helpers[0] == "RADIUS = 2"
    ast.parse(first.source)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("from . import shapes\n\ndef test_x():\n    pass\n", "imports from ."),
        ("import requests\n\ndef test_x():\n    pass\n", "imports requests"),
        ("import subprocess\n\ndef test_x():\n    subprocess.run(['true'])\n", "imports subprocess"),
        ("def test_x():\n    eval('1')\n", "calls eval()"),
        ("def test_x():\n    ().__class__.__base__.__subclasses__()\n", "uses __subclasses__"),
        ("import os\n\ndef test_x():\n    os.remove('f')\n", "uses os.remove"),
        ("from os import system\n\ndef test_x():\n    system('true')\n", "imports system from os"),
        ("x = 1\n", "defines no test function"),
        ("def test_x(:\n", "does not parse"),
    ],
)
def test_code_that_imports_or_calls_what_is_not_allowed_is_dropped(code: str, reason: str) -> None:
    tests, dropped = parse_answer(f"```python\n{code}```", "pkg.shapes", "t")
    assert tests == []
    assert len(dropped) == 1
    assert reason in dropped[0]


class SilentModel:
    """A model that never answers in time."""

    def available(self, session: object = None) -> bool:
        return True

    async def complete(
        self, request: CompletionRequest, *, tool: str = "", session: object = None, on_text: object = None
    ) -> Completion:
        await asyncio.sleep(300)
        return Completion("", backend="scripted", model="scripted")


@pytest.mark.slow
def test_a_model_that_does_not_answer_leaves_the_budget_honoured(vault: Path) -> None:
    started = time.monotonic()
    report = generate("vault.py", root=vault, python=PYTHON, budget=20, completer=SilentModel(), min_run_seconds=60)
    # the budget, then at most the two checking runs, each cut at min_run_seconds; without the cap this takes minutes
    assert time.monotonic() - started < 20 + 2 * 60
    assert report.llm is not None
    assert report.llm.note == "the model did not answer within the budget"
    assert report.tests  # the offline tests are kept all the same
