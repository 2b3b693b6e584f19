from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

from codegen_lab.common import Settings, UsageError
from codegen_lab.mcp_core import Toolkit, build_server
from codegen_lab.mcp_core._audit import AuditLog, flush_all, redact

pytestmark = pytest.mark.anyio
CANARY = "canary-secret-9f8e7d6c5b4a"


def audited_toolkit() -> Toolkit:
    kit = Toolkit("demo")

    @kit.tool()
    def echo(text: str, api_token: str = "") -> str:
        if text == "bad":
            raise UsageError("text must not be 'bad'")
        return text

    return kit


async def test_every_call_is_recorded_without_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", CANARY)
    settings = Settings(root=tmp_path, state_dir=tmp_path / "state")
    async with Client(build_server(settings, [audited_toolkit()])) as client:
        await client.call_tool("demo_echo", {"text": f"hello {CANARY}", "api_token": "tok-1234567890"})
        await client.call_tool("demo_echo", {"text": "bad"})
        await client.call_tool("demo_echo", {"wrong": 1})
    flush_all()
    log = AuditLog(tmp_path / "state" / "audit.sqlite3")
    newest, middle, oldest = log.entries()
    assert oldest["tool"] == "demo_echo"
    assert oldest["outcome"] == "ok"
    assert oldest["arguments"] == '{"api_token": "[redacted]", "text": "hello [redacted]"}'
    assert len(oldest["digest"]) == 64
    assert middle["outcome"] == "error: text must not be 'bad'"
    assert newest["outcome"].startswith("error: invalid arguments for tool 'demo_echo'")
    assert all(entry["duration"] >= 0 for entry in (newest, middle, oldest))
    assert (tmp_path / "state" / "audit.sqlite3").read_bytes().find(CANARY.encode()) == -1


async def test_the_audit_can_be_turned_off(tmp_path: Path) -> None:
    settings = Settings(root=tmp_path, state_dir=tmp_path / "state", audit=False)
    async with Client(build_server(settings, [audited_toolkit()])) as client:
        await client.call_tool("demo_echo", {"text": "x"})
    assert not (tmp_path / "state" / "audit.sqlite3").exists()


def test_old_rows_rotate_out(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.sqlite3", max_rows=5)
    for index in range(12):
        log.record(tool=f"t{index}", client=None, arguments={}, outcome="ok", duration=0.0)
    assert [entry["tool"] for entry in log.entries(100)] == ["t11", "t10", "t9", "t8", "t7"]


def test_redaction_of_names_and_values() -> None:
    assert redact(
        {"password": "p", "nested": [{"Authorization": "Bearer x"}, "has s3cr3t-value inside"]}, ["s3cr3t-value"]
    ) == {"password": "[redacted]", "nested": [{"Authorization": "[redacted]"}, "has [redacted] inside"]}


def test_the_summary_counts_calls_and_errors_per_tool_with_percentiles(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.sqlite3")
    for duration in range(1, 101):  # 1 ms .. 100 ms
        log.record(tool="rules_list", client=None, arguments={}, outcome="ok", duration=duration / 1000)
    log.record(tool="ws_run", client=None, arguments={}, outcome="error: boom", duration=2.0)
    log.record(tool="ws_run", client=None, arguments={}, outcome="ok", duration=1.0)
    summary = {item["tool"]: item for item in log.summary()}
    assert [item["tool"] for item in log.summary()] == ["rules_list", "ws_run"]
    assert (summary["rules_list"]["calls"], summary["rules_list"]["errors"]) == (100, 0)
    assert (summary["rules_list"]["p50"], summary["rules_list"]["p99"]) == (0.05, 0.099)
    assert (summary["ws_run"]["calls"], summary["ws_run"]["errors"], summary["ws_run"]["p99"]) == (2, 1, 2.0)
    assert log.summary(limit=1)[0]["calls"] == 1
    log.close()


async def test_a_call_that_asks_a_model_records_its_llm_calls_and_their_cost(tmp_path: Path) -> None:
    from codegen_lab.llm import CompletionRequest, Message
    from codegen_lab.llm.testing import FakeAnthropic, fake_service

    ask = CompletionRequest(messages=(Message("user", "Say hello"),), max_tokens=64)
    costs: list[float | None] = []
    with FakeAnthropic(reply="Hello.") as fake:
        llm = fake_service(fake, tmp_path)
        kit = audited_toolkit()

        @kit.tool()
        async def ask_twice() -> str:
            first = await llm.complete(ask)  # asked
            second = await llm.complete(ask)  # from the cache: counted, free
            costs.append(first.cost_usd)
            return first.text + second.text

        settings = Settings(root=tmp_path, state_dir=tmp_path / "state")
        async with Client(build_server(settings, [kit])) as client:
            await client.call_tool("demo_ask_twice", {})
            await client.call_tool("demo_echo", {"text": "x"})
    flush_all()
    plain, asked = AuditLog(tmp_path / "state" / "audit.sqlite3").entries()
    assert costs[0] is not None
    assert costs[0] > 0
    assert (asked["tool"], asked["llm_calls"], asked["cost_usd"]) == ("demo_ask_twice", 2, round(costs[0], 6))
    assert (plain["llm_calls"], plain["cost_usd"]) == (0, None)


def test_a_log_from_before_the_cost_columns_gains_them(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "audit.sqlite3"
    with sqlite3.connect(path) as old:
        old.execute(
            "CREATE TABLE calls (id INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, client TEXT, "
            "tool TEXT NOT NULL, digest TEXT NOT NULL, arguments TEXT NOT NULL, outcome TEXT NOT NULL, "
            "duration REAL NOT NULL)"
        )
        old.execute("INSERT INTO calls VALUES (1, 0, NULL, 'old', 'd', '{}', 'ok', 0.5)")
    old.close()
    log = AuditLog(path)
    log.record(tool="new", client=None, arguments={}, outcome="ok", duration=0.1, llm_calls=1, cost_usd=0.25)
    newest, oldest = log.entries()
    log.close()
    assert (newest["tool"], newest["llm_calls"], newest["cost_usd"]) == ("new", 1, 0.25)
    assert (oldest["tool"], oldest["llm_calls"], oldest["cost_usd"]) == ("old", 0, None)
