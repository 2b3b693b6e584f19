"""The `serve` command as a real process over stdio. Streamable HTTP is tested end to end in the root `tests/`."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

pytestmark = pytest.mark.anyio


async def test_stdio_serves_server_info(tmp_path: Path) -> None:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "codegen_lab.server", "serve", "--root", str(tmp_path)]
    )
    with anyio.fail_after(60):
        async with Client(params) as client:
            tools = [tool.name for tool in (await client.list_tools()).tools]
            result = await client.call_tool("server_info", {})
    assert "server_info" in tools
    info: dict[str, Any] = result.structured_content or {}
    assert info["workspace_root"] == str(tmp_path.resolve())
    assert info["name"] == "codegen-lab"


def test_stdout_carries_only_json_rpc_even_with_debug_logs(tmp_path: Path) -> None:
    messages = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "test", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "server_info", "arguments": {}}},
    ]
    process = subprocess.Popen(
        [sys.executable, "-m", "codegen_lab.server", "serve", "--root", str(tmp_path), "--log-level", "DEBUG"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    watchdog = threading.Timer(60, process.kill)
    watchdog.start()
    with process:
        try:
            process.stdin.write("".join(json.dumps(message) + "\n" for message in messages).encode())
            process.stdin.flush()
            answers = [json.loads(process.stdout.readline()) for _ in range(3)]
            rest, stderr = process.communicate(timeout=30)  # closes stdin: the end of input shuts the server down
        finally:
            watchdog.cancel()
            if process.poll() is None:
                process.kill()
    assert process.returncode == 0, stderr.decode()
    assert rest == b""
    assert [answer.get("id") for answer in answers] == [1, 2, 3]
    assert all(answer["jsonrpc"] == "2.0" for answer in answers)
    assert answers[0]["result"]["serverInfo"]["name"] == "codegen-lab"
    assert answers[2]["result"]["structuredContent"]["workspace_root"] == str(tmp_path.resolve())
    assert b"DEBUG" in stderr
