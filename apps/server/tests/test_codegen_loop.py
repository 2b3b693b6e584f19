"""The rules -> LLM -> validated code loop, through the composed server, against a loopback Anthropic API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from mcp import Client

from codegen_lab.common import load_settings
from codegen_lab.llm.testing import FakeAnthropic
from codegen_lab.server import cli, create_server

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


CALC_TESTS = (
    "import sys\nsys.path.insert(0, 'src')\nfrom calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
)


def add_calc_tests(workspace: Path, text: str = CALC_TESTS) -> None:
    """`tests/test_calc.py`, which the sandbox's unprivileged uid can read."""
    tests = workspace / "tests"
    tests.mkdir()
    (tests / "test_calc.py").write_text(text, encoding="utf-8")
    for folder in (workspace.parent, workspace.parent.parent):
        folder.chmod(0o755)


async def call(root: Path, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    async with Client(create_server(load_settings(root))) as client:
        result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    return result.structured_content or {}


@pytest.mark.slow
async def test_generate_sends_only_the_rules_that_apply_and_validates(workspace: Path, fake: FakeAnthropic) -> None:
    result = await call(workspace, "generate_code", {"task": "Annotate add", "target_path": "src/calc.py"})
    assert result["code"] == "def add(a: int, b: int) -> int:\n    return a + b\n"
    assert result["validation"]["passed"] is True
    assert result["rules"] == [".cursor/rules/python.mdc"]
    assert result["written"] is False
    system = fake.requests[0].body["system"][0]["text"]
    assert "RULE-PYTHON" in system
    assert "RULE-WEB" not in system
    assert "def add(a, b):" in fake.requests[0].body["messages"][0]["content"]
    assert (workspace / "src" / "calc.py").read_text(encoding="utf-8") == "def add(a, b):\n    return a+b\n"


async def test_write_is_atomic_with_a_backup_and_invalid_code_is_never_written(
    workspace: Path, fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codegen_lab.common.files import recent_changes, undo_last

    monkeypatch.setenv("CODEGEN_LAB_LLM_REPAIR_ROUNDS", "0")
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
    assert {item["message"].split(":")[0] for item in result["validation"]["policy"]} == {"os.system", "eval"}
    assert "static review" in result["review"]


async def test_review_with_an_llm(workspace: Path, fake: FakeAnthropic) -> None:
    result = await call(workspace, "review_code", {"path": "src/calc.py"})
    assert result["mode"] == "llm"
    assert result["llm"]["backend"] == "anthropic"
    assert "RULE-PYTHON" in fake.requests[0].body["system"][0]["text"]


def test_the_cli_generates_and_reviews(workspace: Path, fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEGEN_LAB_LLM_REPAIR_ROUNDS", "0")
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
    add_calc_tests(workspace)
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
    add_calc_tests(workspace)
    wrong = "```python\ndef add(a: int, b: int) -> int:\n    return a - b\n```"
    monkeypatch.setenv("CODEGEN_LAB_LLM_REPAIR_ROUNDS", "0")
    with FakeAnthropic(reply=wrong) as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        result = await call(workspace, "generate_code", {"task": "t", "target_path": "src/calc.py", "write": True})
    assert result["validation"]["tests"]["failed"] == 1
    assert "assert -1 == 5" in result["validation"]["tests"]["failures"][0]["message"]
    assert result["validation"]["passed"] is False
    assert result["written"] is False
    assert (workspace / "src" / "calc.py").read_text(encoding="utf-8") == "def add(a, b):\n    return a+b\n"


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


async def test_code_that_fails_static_validation_never_runs(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    canary = tmp_path / "outside" / "canary"
    canary.parent.mkdir()
    canary.parent.chmod(0o777)
    add_calc_tests(
        workspace,
        "import sys\nsys.path.insert(0, 'src')\nimport calc\n\n\ndef test_add():\n    assert calc.add(2, 3) == 5\n",
    )
    evil = (
        "```python\nimport os\n\n"
        f"open({str(canary)!r}, 'w').write('ran')\n"
        "getattr(os, 'sys' + 'tem')('id')\n\n\ndef add(a: int, b: int) -> int:\n    return a + b\n```"
    )
    with FakeAnthropic(reply=evil) as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        result = await call(workspace, "generate_code", {"task": "t", "target_path": "src/calc.py", "write": True})
    assert result["validation"]["passed"] is False
    assert [item["rule"] for item in result["validation"]["policy"]] == ["dynamic"]
    assert result["validation"]["tests"]["skipped"].startswith("not run")
    assert not canary.exists()
    assert result["written"] is False
    assert [item["passed"] for item in result["rounds"]] == [False, False, False]  # the first answer, two repairs
    assert result["llm"]["requests"] == 3


# The LLM failing or wrong: repair rounds, what is cached, and failures that stay errors.

WRONG = "```python\ndef add(a: int, b: int) -> int:\n    return a - b\n```"


def serve(monkeypatch: pytest.MonkeyPatch, replies: list[str]) -> FakeAnthropic:
    answers = iter(replies)

    def reply(body: dict[str, Any]) -> str:
        return next(answers, replies[-1])

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
    monkeypatch.setenv("CODEGEN_LAB_LLM_MAX_RETRIES", "1")
    return FakeAnthropic(reply=reply)


@pytest.fixture
def good_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    with serve(monkeypatch, [GOOD]) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        yield server


async def call_raw(root: Path, tool: str, arguments: dict[str, Any]) -> Any:
    async with Client(create_server(load_settings(root))) as client:
        return await client.call_tool(tool, arguments)


def text_of(result: Any) -> str:
    return " ".join(getattr(item, "text", "") for item in result.content)


async def test_a_failing_answer_gets_a_repair_round_with_its_failures(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_calc_tests(workspace)
    with serve(monkeypatch, [WRONG, GOOD]) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        result = await call_raw(workspace, "generate_code", {"task": "t", "target_path": "src/calc.py", "write": True})
        requests = list(server.requests)
    assert not result.is_error, result.content
    content = result.structured_content or {}
    assert [item["passed"] for item in content["rounds"]] == [False, True]
    assert "assert -1 == 5" in content["rounds"][0]["failures"][0]
    assert content["written"] is True
    assert (workspace / "src" / "calc.py").read_text(encoding="utf-8") == GOOD.split("\n", 1)[1].rsplit("```", 1)[0]
    assert len(requests) == 2
    conversation = requests[1].body["messages"]
    assert [message["role"] for message in conversation] == ["user", "assistant", "user"]
    assert conversation[1]["content"] == WRONG
    assert "assert -1 == 5" in conversation[2]["content"]
    assert content["llm"]["requests"] == 2


async def test_only_an_answer_that_passed_validation_is_cached(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEGEN_LAB_LLM_REPAIR_ROUNDS", "0")
    with serve(monkeypatch, [BROKEN, GOOD]) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        arguments = {"task": "t", "target_path": "src/calc.py"}
        first = (await call_raw(workspace, "generate_code", arguments)).structured_content or {}
        second = (await call_raw(workspace, "generate_code", arguments)).structured_content or {}
        third = (await call_raw(workspace, "generate_code", arguments)).structured_content or {}
        fourth = (await call_raw(workspace, "generate_code", {**arguments, "cache": False})).structured_content or {}
        asked = len(server.requests)
    assert first["validation"]["passed"] is False
    assert (second["validation"]["passed"], second["llm"]["cached"]) == (True, False)  # the broken one was not kept
    assert (third["llm"]["cached"], third["llm"]["requests"]) == (True, 0)
    assert fourth["llm"]["cached"] is False
    assert asked == 3


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("cut", "connection lost mid-answer (RemoteProtocolError"),
        ("clean-cut", "the answer ended before the model finished it"),
        ("malformed-json", "malformed JSON in the answer"),
        ("bad-sse", "invalid answer (IndexError"),
    ],
)
async def test_a_broken_stream_is_a_tool_error_that_says_what_happened(
    workspace: Path, good_fake: FakeAnthropic, how: Any, message: str
) -> None:
    good_fake.misbehave(how, times=2)
    result = await call_raw(workspace, "generate_code", {"task": "t", "target_path": "src/calc.py"})
    assert result.is_error
    assert f"LLM unavailable: anthropic: {message}" in text_of(result)
    assert "(after 2 attempts)" in text_of(result)
    assert len(good_fake.requests) == 2
    again = await call_raw(workspace, "generate_code", {"task": "t", "target_path": "src/calc.py"})
    assert not again.is_error  # nothing broken was cached: the next call asks again and gets the good answer
    assert len(good_fake.requests) == 3


async def test_review_falls_back_to_the_static_review_on_malformed_json(
    workspace: Path, good_fake: FakeAnthropic
) -> None:
    good_fake.misbehave("malformed-json", times=2)
    result = await call_raw(workspace, "review_code", {"path": "src/calc.py"})
    content = result.structured_content or {}
    assert content["mode"] == "static"
    assert "LLM unavailable: anthropic: malformed JSON in the answer" in content["review"]


def test_the_cli_reports_an_llm_failure_in_one_line(workspace: Path, good_fake: FakeAnthropic) -> None:
    runner = CliRunner()
    good_fake.misbehave("cut", times=2)
    failed = runner.invoke(cli, ["generate", "--task", "t", "--target", "src/calc.py", "--root", str(workspace)])
    assert failed.exit_code == 1
    last = failed.stderr.strip().splitlines()[-1]  # after what streamed in before the cut
    assert last.startswith("Error: LLM unavailable: anthropic: connection lost mid-answer")
    assert failed.stderr.count("LLM unavailable") == 1
    assert "Traceback" not in failed.output
    good_fake.misbehave("malformed-json", times=2)
    reviewed = runner.invoke(cli, ["review", "src/calc.py", "--root", str(workspace), "--format", "json"])
    assert reviewed.exit_code == 0, reviewed.output
    assert json.loads(reviewed.stdout)["mode"] == "static"


def test_no_cache_asks_the_llm_again_and_cache_stats_show_the_cost(workspace: Path, good_fake: FakeAnthropic) -> None:
    runner = CliRunner()
    arguments = ["generate", "--task", "t", "--target", "src/calc.py", "--root", str(workspace), "--format", "json"]
    for extra in ([], [], ["--no-cache"]):
        assert runner.invoke(cli, [*arguments, *extra]).exit_code == 0
    assert len(good_fake.requests) == 2
    review = ["review", "src/calc.py", "--root", str(workspace), "--format", "json"]
    assert runner.invoke(cli, [*review, "--no-cache"]).exit_code == 0
    assert runner.invoke(cli, [*review, "--no-cache"]).exit_code == 0
    assert len(good_fake.requests) == 4
    stats = json.loads(runner.invoke(cli, ["cache", "stats", "--root", str(workspace), "--format", "json"]).stdout)
    assert stats["entries"] == 1  # --no-cache neither reads nor writes the cache
    assert stats["stored_cost_usd"] > 0
    text = runner.invoke(cli, ["cache", "stats", "--root", str(workspace)]).stdout
    assert "the stored answers cost $" in text
