"""The rules -> LLM -> validated code loop, through the composed server, against a loopback Anthropic API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from codegen_lab.common import load_settings
from codegen_lab.llm.testing import FakeAnthropic
from codegen_lab.server import create_server
from codegen_lab.server._codegen import validate_code

pytestmark = pytest.mark.anyio

GOOD = "```python\ndef add(a: int, b: int) -> int:\n    return a + b\n```\nThat is all."
BROKEN = "```python\ndef add(a, b)\n    return a + b\n```"


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    (root / ".cursor" / "rules").mkdir(parents=True)
    (root / ".cursor" / "rules" / "python.mdc").write_text(
        "---\nglobs: **/*.py\n---\nAlways annotate types. RULE-PYTHON\n", encoding="utf-8"
    )
    (root / ".cursor" / "rules" / "web.mdc").write_text("---\nglobs: **/*.ts\n---\nRULE-WEB\n", encoding="utf-8")
    (root / "src").mkdir()
    (root / "src" / "calc.py").write_text("def add(a, b):\n    return a+b\n", encoding="utf-8")
    monkeypatch.setenv("CODEGEN_LAB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("CODEGEN_LAB_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    return root


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    replies = iter([GOOD, BROKEN, GOOD])

    def reply(body: dict[str, Any]) -> str:
        return next(replies, GOOD)

    with FakeAnthropic(reply=reply) as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        yield server


async def call(root: Path, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    async with Client(create_server(load_settings(root))) as client:
        result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    return result.structured_content or {}


async def test_generate_sends_only_the_rules_that_apply_and_validates(workspace: Path, fake: FakeAnthropic) -> None:
    result = await call(workspace, "generate_code", {"task": "Annotate add", "target_path": "src/calc.py"})
    assert result["code"] == "def add(a: int, b: int) -> int:\n    return a + b\n"
    assert result["validation"]["passed"] is True
    assert result["rules"] == [".cursor/rules/python.mdc"]
    assert result["written"] is False
    system = fake.requests[0].body["system"]
    assert "RULE-PYTHON" in system
    assert "RULE-WEB" not in system
    assert "def add(a, b):" in fake.requests[0].body["messages"][0]["content"]
    assert (workspace / "src" / "calc.py").read_text(encoding="utf-8") == "def add(a, b):\n    return a+b\n"


async def test_write_is_atomic_with_a_backup_and_invalid_code_is_never_written(
    workspace: Path, fake: FakeAnthropic
) -> None:
    from codegen_lab.common.files import recent_changes, undo_last

    target = workspace / "src" / "calc.py"
    written = await call(workspace, "generate_code", {"task": "t", "target_path": "src/calc.py", "write": True})
    assert written["written"] is True
    assert "codegen-lab undo" in written["note"]
    assert target.read_text(encoding="utf-8").startswith("def add(a: int, b: int)")
    broken = await call(workspace, "generate_code", {"task": "t2", "target_path": "src/calc.py", "write": True})
    assert broken["written"] is False
    assert broken["validation"]["syntax_error"].startswith("line 1:")
    assert target.read_text(encoding="utf-8").startswith("def add(a: int, b: int)")
    [change] = recent_changes(workspace)
    assert (change.purpose, [item.path for item in change.files]) == ("generate_code src/calc.py", ["src/calc.py"])
    assert undo_last(workspace).restored == ("src/calc.py",)
    assert target.read_text(encoding="utf-8") == "def add(a, b):\n    return a+b\n"


async def test_a_target_outside_the_root_is_refused(workspace: Path, fake: FakeAnthropic) -> None:
    async with Client(create_server(load_settings(workspace))) as client:
        result = await client.call_tool("generate_code", {"task": "t", "target_path": "../evil.py", "write": True})
    assert result.is_error
    assert not (workspace.parent / "evil.py").exists()
    assert fake.requests == []


async def test_review_is_static_without_an_llm_and_says_so(workspace: Path) -> None:
    (workspace / "src" / "bad.py").write_text("import os\nos.system('ls')\nx = eval('1')\n", encoding="utf-8")
    result = await call(workspace, "review_code", {"path": "src/bad.py"})
    assert result["mode"] == "static"
    assert result["rules"] == [".cursor/rules/python.mdc"]
    assert {item["call"] for item in result["validation"]["policy"]} == {"os.system", "eval"}
    assert "static review" in result["review"]


async def test_review_with_an_llm(workspace: Path, fake: FakeAnthropic) -> None:
    result = await call(workspace, "review_code", {"path": "src/calc.py"})
    assert result["mode"] == "llm"
    assert result["llm"]["backend"] == "anthropic"
    assert "RULE-PYTHON" in fake.requests[0].body["system"]


def test_validation_reports_lint_security_and_policy() -> None:
    report = validate_code("import subprocess\nsubprocess.run('ls', shell=True)\nimport pickle\npickle.loads(b'')\n")
    assert not report.passed
    assert {item["call"] for item in report.policy} == {"subprocess.run", "pickle.loads"}
    assert any(item["code"].startswith("S") for item in report.lint)
    assert validate_code("def f() -> int:\n    return 1\n").passed


def test_the_cli_generates_and_reviews(workspace: Path, fake: FakeAnthropic) -> None:
    import json

    from click.testing import CliRunner

    from codegen_lab.server import cli

    runner = CliRunner()
    generated = runner.invoke(
        cli,
        ["generate", "--task", "Annotate add", "--target", "src/calc.py", "--root", str(workspace), "--format", "json"],
    )
    assert generated.exit_code == 0, generated.output
    assert json.loads(generated.stdout)["validation"]["passed"] is True
    failed = runner.invoke(cli, ["generate", "--task", "x", "--target", "src/calc.py", "--root", str(workspace)])
    assert failed.exit_code == 1
    assert "validation: syntax error at line 1" in failed.stderr
    reviewed = runner.invoke(cli, ["review", "src/calc.py", "--root", str(workspace)])
    assert reviewed.exit_code == 0
    assert reviewed.stdout.startswith("src/calc.py (llm review; rules: .cursor/rules/python.mdc)")


async def test_the_targets_tests_run_in_the_sandbox_against_the_new_code(workspace: Path, fake: FakeAnthropic) -> None:
    tests = workspace / "tests"
    tests.mkdir()
    (tests / "test_calc.py").write_text(
        "import sys\nsys.path.insert(0, 'src')\nfrom calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
        encoding="utf-8",
    )
    for folder in (workspace.parent, workspace.parent.parent):  # the sandbox's unprivileged uid reads the project
        folder.chmod(0o755)
    result = await call(workspace, "generate_code", {"task": "Annotate add", "target_path": "src/calc.py"})
    report = result["validation"]["tests"]
    assert report["tests"] == ["tests/test_calc.py"]
    assert (report["passed"], report["failed"]) == (1, 0), report
    assert report["isolation"] in {"bubblewrap", "namespaces", "uid"}
    assert result["validation"]["passed"] is True
    assert (workspace / "src" / "calc.py").read_text(encoding="utf-8") == "def add(a, b):\n    return a+b\n"


async def test_code_that_fails_the_targets_tests_is_not_written(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tests = workspace / "tests"
    tests.mkdir()
    (tests / "test_calc.py").write_text(
        "import sys\nsys.path.insert(0, 'src')\nfrom calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
        encoding="utf-8",
    )
    for folder in (workspace.parent, workspace.parent.parent):
        folder.chmod(0o755)
    wrong = "```python\ndef add(a: int, b: int) -> int:\n    return a - b\n```"
    with FakeAnthropic(reply=wrong) as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        result = await call(workspace, "generate_code", {"task": "t", "target_path": "src/calc.py", "write": True})
    assert result["validation"]["tests"]["failed"] == 1
    assert "assert -1 == 5" in result["validation"]["tests"]["failures"][0]["message"]
    assert result["validation"]["passed"] is False
    assert result["written"] is False
    assert (workspace / "src" / "calc.py").read_text(encoding="utf-8") == "def add(a, b):\n    return a+b\n"


def test_typecheck_runs_basedpyright() -> None:
    report = validate_code('def half(n: int) -> int:\n    return "half"\n', typecheck=True)
    assert not report.passed
    assert any(item["code"].startswith("basedpyright:") and item["line"] == 2 for item in report.lint), report.lint
    assert validate_code("def half(n: int) -> float:\n    return n / 2\n", typecheck=True).passed


async def test_the_result_carries_the_llm_usage(workspace: Path, fake: FakeAnthropic) -> None:
    result = await call(workspace, "generate_code", {"task": "Annotate add", "target_path": "src/calc.py"})
    assert result["llm"]["usage"]["output_tokens"] > 0
    assert result["llm"]["cached"] is False


async def test_the_streamed_answer_feeds_progress_notifications(workspace: Path, fake: FakeAnthropic) -> None:
    updates: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append(progress)

    async with Client(create_server(load_settings(workspace))) as client:
        result = await client.call_tool(
            "generate_code", {"task": "Annotate add", "target_path": "src/calc.py"}, progress_callback=on_progress
        )
    assert not result.is_error
    assert len(updates) > 1
    assert updates == sorted(updates)
    assert fake.requests[0].body["stream"] is True
