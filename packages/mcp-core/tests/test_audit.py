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
