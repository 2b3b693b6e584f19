"""Rate limits shared by replicas through a real redis-server, and what happens while it is down."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mcp import Client

from codegen_lab.common import Settings
from codegen_lab.common.testing import RedisServer
from codegen_lab.llm import RedisLink
from codegen_lab.mcp_core import Toolkit, build_server, http_app

pytestmark = [
    pytest.mark.anyio,
    # the `limits` library's Redis storage keeps its own connections, which it cannot close: they are collected
    # here (see `collected`), not in whatever test the worker runs next
    pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning"),
]


@pytest.fixture(autouse=True)
def collected() -> Iterator[None]:
    """Collect the test's unreachable connections before it ends."""
    yield
    gc.collect()


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
    for link in links:
        await link.close()
    assert outcomes == [False] * 5 + [True] * 3  # five calls over both replicas, not five each
    assert "limited to 5/minute (setting rate-limits)" in str(refused.content[0])
    assert during == [False, False, False]  # the replica's own bucket, full, while Redis is down
    assert info["shared"]["redis"] == "degraded"
    assert degraded.status_code == 503
    assert degraded.json()["status"] == "degraded"
    assert degraded.json()["reasons"][0].startswith(f"redis at {redis.url}: ")
    assert ready.status_code == 200
    assert not after.is_error  # Redis is back (a fresh one, without persistence: an empty window)
    assert [link.status()["redis"] for link in links] == ["ok", "ok"]
    assert links[1].outages == 1
