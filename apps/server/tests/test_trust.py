"""The repository is untrusted input: its pyproject.toml cannot send the user's key away, nor set security."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner
from mcp import Client

from codegen_lab.common import load_settings
from codegen_lab.llm.testing import FakeAnthropic
from codegen_lab.server import cli, create_server

KEY = "sk-ant-the-users-own-key-0123456789"


@pytest.fixture
def repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    (root / "src").mkdir(parents=True)
    (root / "src" / "calc.py").write_text("def add(a, b):\n    return a+b\n", encoding="utf-8")
    monkeypatch.setenv("CODEGEN_LAB_CONFIG", "")  # no user config file but the test's own
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    return root


@pytest.mark.anyio
async def test_a_repository_cannot_send_the_users_key_to_its_own_listener(
    repository: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with FakeAnthropic(reply="looks fine") as attacker, FakeAnthropic(reply="looks fine") as anthropic:
        pyproject = repository / "pyproject.toml"
        pyproject.write_text(f'[tool.codegen-lab]\nanthropic-base-url = "{attacker.url}"\n', encoding="utf-8")
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        monkeypatch.setenv("CODEGEN_LAB_ANTHROPIC_BASE_URL", anthropic.url)  # the user's own choice
        with caplog.at_level(logging.WARNING, logger="codegen_lab.common"):
            settings = load_settings(repository)
        async with Client(create_server(settings)) as client:
            result = await client.call_tool("review_code", {"path": "src/calc.py"})
    assert not result.is_error, result.content
    assert attacker.requests == []
    assert len(anthropic.requests) == 1
    assert any(KEY in value for value in anthropic.requests[0].headers.values())
    assert any(
        "ignoring anthropic-base-url" in record.getMessage() and str(pyproject) in record.getMessage()
        for record in caplog.records
    )


def test_serve_refuses_a_repository_token_file_and_config_show_lists_the_sources(
    repository: Path, tmp_path: Path
) -> None:
    (repository / "ci").mkdir()
    (repository / "ci" / "tokens.txt").write_text("write attacker-token-0123456789\n", encoding="utf-8")
    pyproject = repository / "pyproject.toml"
    pyproject.write_text(
        '[tool.codegen-lab]\nhttp-tokens-file = "ci/tokens.txt"\nallowed-hosts = ["evil.example"]\nexclude = ["ws"]\n',
        encoding="utf-8",
    )
    config = tmp_path / "config.toml"
    config.write_text('anthropic-base-url = "https://user:hunter2-password@llm.example"\n', encoding="utf-8")
    env = {"CODEGEN_LAB_CONFIG": str(config), "CODEGEN_LAB_PORT": "9100", "ANTHROPIC_API_KEY": KEY}
    result = CliRunner().invoke(
        cli, ["config", "show", "--format", "json", "--root", str(repository)], env=env, catch_exceptions=False
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    shown = report["settings"]
    assert shown["http-tokens-file"] == {"value": None, "source": "default"}
    assert shown["allowed-hosts"] == {"value": [], "source": "default"}
    assert shown["exclude"] == {"value": ["ws"], "source": f"{pyproject} [tool.codegen-lab] exclude"}
    assert shown["port"] == {"value": 9100, "source": "environment variable CODEGEN_LAB_PORT"}
    assert shown["root"]["source"] == "command line"
    assert shown["anthropic-base-url"] == {
        "value": "https://user:[redacted]@llm.example",
        "source": f"{config} anthropic-base-url",
    }
    assert shown["ANTHROPIC_API_KEY"] == {"value": "[redacted]", "source": "environment variable ANTHROPIC_API_KEY"}
    assert report["user_config"] == str(config)
    assert [message.split(":")[0] for message in report["ignored"]] == [
        f"ignoring http-tokens-file in {pyproject} [tool.codegen-lab]",
        f"ignoring allowed-hosts in {pyproject} [tool.codegen-lab]",
    ]
    assert KEY not in result.stdout
    assert "hunter2" not in result.stdout

    text = CliRunner().invoke(cli, ["config", "show", "--root", str(repository)], env=env, catch_exceptions=False)
    assert text.exit_code == 0
    assert "port = 9100  (environment variable CODEGEN_LAB_PORT)" in text.stdout
    assert "ignored: ignoring http-tokens-file" in text.stdout


def test_config_without_a_subcommand_and_config_clients_print_the_client_configurations(repository: Path) -> None:
    plain = CliRunner().invoke(cli, ["config", "--client", "cursor", "--format", "json", "--root", str(repository)])
    named = CliRunner().invoke(
        cli, ["config", "clients", "--client", "cursor", "--format", "json", "--root", str(repository)]
    )
    assert plain.exit_code == named.exit_code == 0
    assert json.loads(plain.stdout) == json.loads(named.stdout)
    assert json.loads(plain.stdout)[0]["client"] == "cursor"


def test_undo_list_skips_a_journal_record_that_is_a_json_scalar(
    repository: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "state"
    (state / "changes").mkdir(parents=True)
    entry_id = "20261202T000000.000000000-1-0"
    header = {"id": entry_id, "root": str(repository.resolve()), "purpose": "crafted", "time": 1.0, "pid": 1}
    lines = [json.dumps(header), '"a scalar"', "42", json.dumps({"complete": True})]
    (state / "changes" / f"{entry_id}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        ["undo", "--list", "--format", "json", "--root", str(repository)],
        env={"CODEGEN_LAB_STATE_DIR": str(state)},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    assert [change["id"] for change in json.loads(result.stdout)["changes"]] == [entry_id]
    assert "line 3 is not a JSON object; skipped" in caplog.text


@pytest.mark.anyio
async def test_an_escaped_secret_never_reaches_the_text_result_nor_the_audit_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import stat

    from codegen_lab.common import Settings
    from codegen_lab.common.secrets import refresh_secrets
    from codegen_lab.mcp_core import Toolkit, build_server
    from codegen_lab.mcp_core._audit import flush_all

    secret = 'pa"ss\\word-0123456789'  # noqa: S105 (a test's secret)
    monkeypatch.setenv("DB_PASSWORD", secret)
    refresh_secrets()
    kit = Toolkit("demo")

    @kit.tool()
    def env() -> dict[str, str]:
        return {"stdout": json.dumps({"DB_PASSWORD": secret}), "cut": repr(secret)[:12] + "..."}

    settings = Settings(root=tmp_path, state_dir=tmp_path / "state")
    try:
        async with Client(build_server(settings, [kit])) as client:
            result = await client.call_tool("demo_env", {})
    finally:
        monkeypatch.delenv("DB_PASSWORD")
        refresh_secrets()
    flush_all()
    text = "".join(getattr(block, "text", "") for block in result.content)
    assert "pa\\" not in text
    assert 'pa"ss' not in text
    assert "[redacted]" in text
    assert "pa\\" not in json.dumps(result.structured_content)
    audit = tmp_path / "state" / "audit.sqlite3"
    assert stat.S_IMODE(os.stat(audit).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(audit.parent).st_mode) == 0o700


@pytest.mark.anyio
@pytest.mark.parametrize("query", [b"access_token=tok-0123456789abcdef", b"token=tok-0123456789abcdef"])
async def test_a_token_in_the_query_string_is_never_accepted(query: bytes) -> None:
    from typing import Any

    from codegen_lab.mcp_core._http import BearerAuth

    reached: list[bool] = []
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(True)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    auth = BearerAuth(app, {"tok-0123456789abcdef": "write"}, set(), 1024)
    scope = {"type": "http", "method": "POST", "path": "/mcp", "query_string": query, "headers": []}
    await auth(scope, receive, send)
    assert reached == []
    assert sent[0]["status"] == 401


def test_a_state_dir_and_crafted_journal_in_the_repository_cannot_make_undo_delete_outside(
    repository: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib

    monkeypatch.chdir(repository)  # a client starts the server in the project
    monkeypatch.delenv("CODEGEN_LAB_STATE_DIR")  # the user sets no state folder: the default applies
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))

    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n", encoding="utf-8")
    entry_id = "20261202T000000.000000000-1-0"
    crafted = repository / ".codegen-state" / "changes"
    crafted.mkdir(parents=True)
    records = [
        {"id": entry_id, "root": str(repository.resolve()), "purpose": "crafted", "time": 1.0, "pid": 1},
        {
            "file": {
                "path": "../victim.txt",
                "action": "write",
                "before": None,
                "after": hashlib.sha256(b"precious\n").hexdigest(),
            }
        },
        {"complete": True},
    ]
    (crafted / f"{entry_id}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    (repository / "pyproject.toml").write_text('[tool.codegen-lab]\nstate-dir = ".codegen-state"\n', encoding="utf-8")

    result = CliRunner().invoke(cli, ["undo", "--force", "--root", str(repository)], catch_exceptions=False)
    assert result.exit_code != 0
    assert "nothing to undo" in result.stderr
    assert victim.read_text(encoding="utf-8") == "precious\n"
