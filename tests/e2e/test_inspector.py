"""`codegen-lab serve` driven by a real client process no one here wrote: the MCP Inspector CLI."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def run_inspector(inspector: Path, env: dict[str, str], *args: str) -> dict[str, Any]:
    # the Inspector gives a server 15 s to start by default: too little on a loaded machine
    command = [str(inspector), "--cli", "--connect-timeout", "120000", *args]
    completed = subprocess.run(command, capture_output=True, timeout=300, env=env, check=False)
    assert completed.returncode == 0, completed.stderr.decode() + completed.stdout.decode()
    return json.loads(completed.stdout)


def test_stdio_list_tools(
    inspector: Path, inspector_env: dict[str, str], codegen_lab: list[str], tmp_path: Path
) -> None:
    answer = run_inspector(
        inspector, inspector_env, *codegen_lab, "serve", "--root", str(tmp_path), "--method", "tools/list"
    )
    tools = {tool["name"]: tool for tool in answer["tools"]}
    assert "server_info" in tools
    assert tools["server_info"]["annotations"]["readOnlyHint"] is True


def test_stdio_call_server_info(
    inspector: Path, inspector_env: dict[str, str], codegen_lab: list[str], tmp_path: Path
) -> None:
    answer = run_inspector(
        inspector,
        inspector_env,
        *codegen_lab,
        "serve",
        "--root",
        str(tmp_path),
        "--method",
        "tools/call",
        "--tool-name",
        "server_info",
    )
    assert answer.get("isError") in (None, False)
    info = answer["structuredContent"]
    assert info["name"] == "codegen-lab"
    assert info["workspace_root"] == str(tmp_path.resolve())
    assert info["toolkits"][0]["tools"] == ["server_info"]


def test_stdio_read_the_info_resource(
    inspector: Path, inspector_env: dict[str, str], codegen_lab: list[str], tmp_path: Path
) -> None:
    answer = run_inspector(
        inspector,
        inspector_env,
        *codegen_lab,
        "serve",
        "--root",
        str(tmp_path),
        "--method",
        "resources/read",
        "--uri",
        "codegen-lab://server/info",
    )
    assert json.loads(answer["contents"][0]["text"])["name"] == "codegen-lab"


@pytest.mark.parametrize("mode", [(), ("--stateless",)], ids=["sessions", "stateless"])
def test_http_list_tools_and_call_server_info(
    inspector: Path, inspector_env: dict[str, str], http_server: Callable[..., Any], mode: tuple[str, ...]
) -> None:
    server = http_server(*mode)
    listed = run_inspector(inspector, inspector_env, server.url, "--transport", "http", "--method", "tools/list")
    assert "server_info" in [tool["name"] for tool in listed["tools"]]
    called = run_inspector(
        inspector,
        inspector_env,
        server.url,
        "--transport",
        "http",
        "--method",
        "tools/call",
        "--tool-name",
        "server_info",
    )
    assert called["structuredContent"]["name"] == "codegen-lab"
    assert called["structuredContent"]["uptime_seconds"] >= 0


def test_stdio_a_toolkit_tool_through_the_real_client(
    inspector: Path, inspector_env: dict[str, str], codegen_lab: list[str], tmp_path: Path
) -> None:
    rules = tmp_path / ".cursor" / "rules"
    rules.mkdir(parents=True)
    (rules / "python.mdc").write_text("---\nglobs: **/*.py\n---\nUse type hints.\n", encoding="utf-8")
    answer = run_inspector(
        inspector,
        inspector_env,
        *codegen_lab,
        "serve",
        "--root",
        str(tmp_path),
        "--method",
        "tools/call",
        "--tool-name",
        "rules_for_path",
        "--tool-arg",
        "path=src/app.py",
    )
    attached = answer["structuredContent"]["attached"]
    assert [(entry["rule"], entry["pattern"]) for entry in attached] == [(".cursor/rules/python.mdc", "**/*.py")]
