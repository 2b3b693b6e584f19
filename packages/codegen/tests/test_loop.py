"""The code loop with what it is given: fake rules, a scripted model and a recording test runner."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from codegen_lab.codegen import CodeLoop, TestOutcome
from codegen_lab.common.errors import LLMUnavailableError, UsageError
from codegen_lab.common.files import recent_changes
from codegen_lab.llm import Completion, CompletionRequest, StreamCallback

pytestmark = pytest.mark.anyio

GOOD = "```python\ndef add(a: int, b: int) -> int:\n    return a + b\n```"
BROKEN = "```python\ndef add(a, b)\n    return a + b\n```"
SNEAKY = "```python\nimport os\n\ngetattr(os, 'sys' + 'tem')('id')\n```"


@dataclass(frozen=True)
class Named:
    relpath: str


@dataclass
class Rules:
    root: Path

    def relative(self, path: str) -> str:
        resolved = (self.root / path).resolve()
        if self.root.resolve() not in resolved.parents:
            raise UsageError(f"path {path!r} is outside the root")
        return resolved.relative_to(self.root.resolve()).as_posix()

    def rules_for(self, path: str) -> Sequence[Named]:
        return [Named(".cursor/rules/python.mdc")] if path.endswith(".py") else []

    def render(self, paths: Sequence[str]) -> str:
        return "RULE: annotate types."


@dataclass
class Model:
    answers: list[str]
    requests: list[CompletionRequest] = field(default_factory=list[CompletionRequest])
    up: bool = True

    def available(self, session: Any = None) -> bool:
        return self.up

    async def complete(
        self,
        request: CompletionRequest,
        *,
        tool: str = "",
        session: Any = None,
        on_text: StreamCallback | None = None,
    ) -> Completion:
        if not self.up:
            raise LLMUnavailableError("no backend")
        self.requests.append(request)
        return Completion(self.answers.pop(0), backend="scripted", model="scripted", stop_reason="end_turn")


@dataclass
class Runner:
    outcome: TestOutcome
    calls: list[tuple[list[str], str]] = field(default_factory=list[tuple[list[str], str]])

    def __call__(self, tests: Sequence[str], root: Path, python: Path | None) -> TestOutcome:
        self.calls.append((list(tests), (root / "src" / "calc.py").read_text(encoding="utf-8")))
        return self.outcome


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "src").mkdir(parents=True)
    (root / "src" / "calc.py").write_text("def add(a, b):\n    return a+b\n", encoding="utf-8")
    (root / "tests").mkdir()
    (root / "tests" / "test_calc.py").write_text("def test_add():\n    pass\n", encoding="utf-8")
    return root


def loop(root: Path, model: Model, runner: Runner | None, state: Path) -> CodeLoop:
    return CodeLoop(root=root, llm=model, rules=Rules, run_tests=runner, state_dir=state, repair_rounds=1)


async def test_valid_code_runs_the_targets_tests_and_is_written_with_undo(project: Path, tmp_path: Path) -> None:
    runner = Runner(TestOutcome(passed=1, failed=0, isolation="bubblewrap"))
    result = await loop(project, Model([GOOD]), runner, tmp_path / "state").generate(
        task="annotate", target_path="src/calc.py", write=True
    )
    assert result.validation.passed
    assert runner.calls == [(["tests/test_calc.py"], GOOD.split("\n", 1)[1].rsplit("```", 1)[0])]
    assert result.written
    assert (project / "src" / "calc.py").read_text(encoding="utf-8").startswith("def add(a: int")
    assert [change.purpose for change in recent_changes(project, state_dir=tmp_path / "state")] == [
        "generate_code src/calc.py"
    ]


async def test_code_that_fails_static_validation_never_reaches_the_test_runner(project: Path, tmp_path: Path) -> None:
    runner = Runner(TestOutcome(passed=1, failed=0, isolation="bubblewrap"))
    model = Model([SNEAKY, SNEAKY])
    result = await loop(project, model, runner, tmp_path / "state").generate(
        task="t", target_path="src/calc.py", write=True
    )
    assert runner.calls == []
    assert not result.validation.passed
    assert not result.written
    assert len(model.requests) == 2  # one repair round, which failed too


async def test_a_failing_answer_goes_back_with_its_failures_and_the_repair_is_kept(
    project: Path, tmp_path: Path
) -> None:
    model = Model([BROKEN, GOOD])
    result = await loop(project, model, None, tmp_path / "state").generate(
        task="t", target_path="src/calc.py", write=True
    )
    assert len(model.requests) == 2
    second = model.requests[1]
    assert [message.role for message in second.messages] == ["user", "assistant", "user"]
    assert "syntax" in second.messages[-1].content.lower()
    assert result.validation.passed
    assert result.written


async def test_without_a_runner_the_tests_are_said_not_run(project: Path, tmp_path: Path) -> None:
    result = await loop(project, Model([GOOD]), None, tmp_path / "state").generate(task="t", target_path="src/calc.py")
    assert result.validation.tests is not None
    assert result.validation.tests["skipped"] == "not run: no test runner is configured"
    assert not result.written  # not asked to write


async def test_a_target_outside_the_root_or_not_python_is_refused(project: Path, tmp_path: Path) -> None:
    code_loop = loop(project, Model([GOOD]), None, tmp_path / "state")
    with pytest.raises(UsageError, match="outside the root"):
        await code_loop.generate(task="t", target_path="../elsewhere.py")
    with pytest.raises(UsageError, match="not a Python file"):
        await code_loop.generate(task="t", target_path="src/notes.txt")


async def test_review_is_static_when_no_model_can_answer(project: Path, tmp_path: Path) -> None:
    (project / "src" / "bad.py").write_text("import os\nos.system('ls')\n", encoding="utf-8")
    result = await loop(project, Model([], up=False), None, tmp_path / "state").review(path="src/bad.py")
    assert result.mode == "static"
    assert result.rules == [".cursor/rules/python.mdc"]
    assert "os.system" in result.review
