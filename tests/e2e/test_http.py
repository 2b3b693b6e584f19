"""Streamable HTTP through the SDK's own client, and the stateless JSON mode through plain HTTP."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from mcp import Client

pytestmark = [pytest.mark.e2e, pytest.mark.anyio, pytest.mark.slow]


async def test_streamable_http_serves_server_info(http_server: Callable[..., Any]) -> None:
    server = http_server()
    with anyio.fail_after(60):
        async with Client(server.url) as client:
            tools = [tool.name for tool in (await client.list_tools()).tools]
            result = await client.call_tool("server_info", {})
    assert "server_info" in tools
    info: dict[str, Any] = result.structured_content or {}
    assert info["name"] == "codegen-lab"


def initialize(url: str) -> tuple[str, str | None, dict[str, Any]]:
    message = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "lb", "version": "0"}},
    }
    request = urllib.request.Request(  # noqa: S310 (a loopback URL the test made)
        url,
        data=json.dumps(message).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json, text/event-stream"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (a loopback URL the test made)
        content_type = response.headers["Content-Type"]
        session = response.headers.get("mcp-session-id")
        body = response.read().decode()
    return content_type, session, json.loads(body) if content_type.startswith("application/json") else {}


def test_stateless_mode_answers_plain_json_without_a_session(http_server: Callable[..., Any]) -> None:
    content_type, session, body = initialize(http_server("--stateless").url)
    assert content_type.startswith("application/json")
    assert session is None
    assert body["id"] == 7
    assert body["result"]["serverInfo"]["name"] == "codegen-lab"


def test_the_default_mode_keeps_sessions(http_server: Callable[..., Any]) -> None:
    content_type, session, _ = initialize(http_server().url)
    assert content_type.startswith("text/event-stream")
    assert session
