"""Each tool of the composed server counts against the rate limit of its class."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mcp import Client
from mcp_types import TextContent

from codegen_lab.common import load_settings
from codegen_lab.server import create_server

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("tool", "arguments", "rate_class"),
    [
        ("generate_code", {"task": "t", "target_path": "src/new.py"}, "llm"),
        ("review_code", {"path": "missing.py"}, "llm"),
        ("testgen_run", {"paths": []}, "tests"),
        ("testgen_coverage", {"paths": []}, "tests"),
        ("ws_graph", {"path": "missing"}, "subprocess"),
        ("ws_run", {"command": ["true"], "path": "missing"}, "subprocess"),
    ],
)
async def test_the_second_call_over_a_limit_of_one_names_the_class(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tool: str, arguments: dict[str, object], rate_class: str
) -> None:
    limits = {"llm": "1/hour", "tests": "1/hour", "subprocess": "1/hour"}
    monkeypatch.setenv("CODEGEN_LAB_RATE_LIMITS", json.dumps(limits))
    async with Client(create_server(load_settings(tmp_path))) as client:
        await client.call_tool(tool, arguments)  # counted, whatever its outcome (a refused path is not)
        refused = await client.call_tool(tool, arguments)
        info = await client.call_tool("server_info", {})
    assert refused.is_error
    block = refused.content[0]
    assert isinstance(block, TextContent)
    assert f"rate limit reached: {tool!r} is in the tool class {rate_class!r}, limited to 1/hour" in block.text
    assert not info.is_error


async def test_a_call_refused_for_its_path_does_not_use_up_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEGEN_LAB_RATE_LIMITS", json.dumps({"subprocess": "1/hour"}))
    async with Client(create_server(load_settings(tmp_path))) as client:
        escapes = [await client.call_tool("ws_graph", {"path": "../elsewhere"}) for _ in range(3)]
        allowed = await client.call_tool("ws_graph", {"path": "."})
        refused = await client.call_tool("ws_graph", {"path": "."})
    assert all(result.is_error and "outside the root" in str(result.content[0]) for result in escapes)
    assert "rate limit" not in str(allowed.content[0])
    assert refused.is_error
    assert "rate limit reached" in str(refused.content[0])
