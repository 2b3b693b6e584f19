"""Rate limits shared by replicas through a real redis-server, and what happens while it is down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client

from codegen_lab.common import RateLimitError, Settings
from codegen_lab.common.testing import RedisServer
from codegen_lab.llm import RedisLink
from codegen_lab.mcp_core import RateLimits, ServerInfo, Toolkit, build_server, close_server, http_app

pytestmark = pytest.mark.anyio


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


def _toolkit() -> Toolkit:
    toolkit = Toolkit("demo", description="Demo tools.", rate_class="tests")

    @toolkit.tool()
    def demo_run() -> str:
        """Run."""
        return "ran"

    return toolkit


async def test_replicas_share_the_limit_of_a_class_and_fall_back_while_redis_is_down(
    tmp_path: Path, redis: RedisServer
) -> None:
    settings = Settings(
        root=tmp_path,
        state_dir=tmp_path / "state",
        audit=False,
        redis_url=redis.url,
        rate_limits={"tests": "5/minute"},
        client_rate_limits={"tests": "off"},
    )
    links = [RedisLink(redis.url, prefix=f"{tmp_path.name}:", retry_after=0.0) for _ in range(2)]
    servers = [build_server(settings, [_toolkit()], shared=link) for link in links]
    outcomes: list[bool] = []
    async with Client(servers[0]) as first, Client(servers[1]) as second:
        for number in range(8):
            result = await (first if number % 2 else second).call_tool("demo_run", {})
            outcomes.append(result.is_error)
        refused = await first.call_tool("demo_run", {})
        redis.stop()
        during = [(await second.call_tool("demo_run", {})).is_error for _ in range(3)]
        info = (await second.call_tool("server_info", {})).structured_content or {}
        app = await http_app(servers[1], settings, stateless=True, tokens={})
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as http:
            degraded = await http.get("/readyz")
            redis.start()
            ready = await http.get("/readyz")
        after = await first.call_tool("demo_run", {})
        await second.call_tool("server_info", {})
    for server in servers:
        await close_server(server)
    assert outcomes == [False] * 5 + [True] * 3  # five calls over both replicas, not five each
    assert "limited to 5/minute (setting rate-limits)" in str(refused.content[0])
    assert during == [False, False, False]  # the replica's own bucket, full, while Redis is down
    assert info["shared"]["redis"] == "degraded"
    shared = ServerInfo.model_validate(info).shared  # what the tool's output schema says is what it sends
    assert shared is not None
    assert (shared.redis, shared.outages > 0) == ("degraded", True)
    assert degraded.status_code == 503
    assert degraded.json()["status"] == "degraded"
    assert degraded.json()["reasons"][0].startswith(f"redis at {redis.url}: ")
    assert ready.status_code == 200
    assert not after.is_error  # Redis is back (a fresh one, without persistence: an empty window)
    assert [link.status()["redis"] for link in links] == ["ok", "ok"]
    assert links[1].outages == 1


async def _refused_by(limits: RateLimits, client: str) -> str | None:
    """The setting of the limit that refuses one call of `client`, or None when the call is allowed."""
    try:
        await limits.acheck("tests", "demo_run", client)
    except RateLimitError as exc:
        return exc.setting
    return None


async def test_a_refused_call_takes_nothing_from_the_other_window(tmp_path: Path, redis: RedisServer) -> None:
    links = [RedisLink(redis.url, prefix=f"{tmp_path.name}:") for _ in range(2)]
    # two replicas: the same window per client; the first also limits the class, the second does not
    first = RateLimits({"tests": "3/minute"}, per_client={"tests": "2/minute"}, shared=links[0])
    second = RateLimits({"tests": "off"}, per_client={"tests": "2/minute"}, shared=links[1])
    a = [await _refused_by(first, "a") for _ in range(3)]
    b = await _refused_by(first, "b")  # the third call of the class: a's refused one took no place in it
    c_first = [await _refused_by(first, "c") for _ in range(3)]
    c_second = [await _refused_by(second, "c") for _ in range(3)]
    a_second = await _refused_by(second, "a")
    for limits in (first, second):
        await limits.close()
    for link in links:
        await link.close()
    assert a == [None, None, "client-rate-limits"]
    assert b is None
    assert c_first == ["rate-limits"] * 3
    assert c_second == [None, None, "client-rate-limits"]  # the class's refusals took nothing of c's own window
    assert a_second == "client-rate-limits"  # a's window is shared by the replicas


def _clients(redis: RedisServer) -> int:
    """How many connections the redis-server has now, besides the one asking."""
    import redis as redis_py

    with redis_py.Redis.from_url(redis.url) as admin:
        info: dict[str, Any] = admin.info("clients")  # pyright: ignore[reportUnknownMemberType]
        return int(info["connected_clients"]) - 1


async def test_the_http_app_closes_the_connections_to_redis_when_it_shuts_down(
    tmp_path: Path, redis: RedisServer
) -> None:
    settings = Settings(
        root=tmp_path, state_dir=tmp_path / "state", audit=False, redis_url=redis.url, rate_limits={"tests": "5/minute"}
    )
    server = build_server(settings, [_toolkit()], shared=RedisLink(redis.url, prefix=f"{tmp_path.name}:"))
    app = await http_app(server, settings, stateless=True, tokens={})
    to_app, app_receives = anyio.create_memory_object_stream[dict[str, Any]](4)
    app_sends, from_app = anyio.create_memory_object_stream[dict[str, Any]](4)
    async with to_app, app_receives, app_sends, from_app, anyio.create_task_group() as group:
        group.start_soon(
            app, {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, app_receives.receive, app_sends.send
        )
        await to_app.send({"type": "lifespan.startup"})
        assert (await from_app.receive())["type"] == "lifespan.startup.complete"
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as http:
            ready = await http.get("/readyz")
            called = await http.post(
                "/mcp",
                json={
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "tools/call",
                    "params": {"name": "demo_run", "arguments": {}},
                },
                headers={"accept": "application/json, text/event-stream", "mcp-protocol-version": "2025-06-18"},
            )
        serving = _clients(redis)
        await to_app.send({"type": "lifespan.shutdown"})
        assert (await from_app.receive())["type"] == "lifespan.shutdown.complete"
    assert ready.status_code == 200
    assert called.json()["result"]["content"][0]["text"] == "ran", called.text
    assert serving == 2  # the link's (the readiness check) and the rate limits' own
    assert _clients(redis) == 0
