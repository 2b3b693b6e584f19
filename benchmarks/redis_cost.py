"""What Redis adds to one tool call: the composed server with and without shared state, in process, interleaved.

Two servers from the same settings, one with a `RedisLink` to a local redis-server, are called through the SDK's
in-memory client: `ws_graph` (rate-limited: the limit is counted in Redis, a moving window per class and per
client) and `server_info` (the usage totals read from Redis). The two run in alternating batches, so that the
machine's load falls on both alike; the medians and their difference are printed. Target: p50 + 2 ms at most.

Run: `uv run --all-packages python benchmarks/redis_cost.py [--calls 300] [--batches 10]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
from mcp import Client

from codegen_lab.common import load_settings
from codegen_lab.common.testing import RedisServer
from codegen_lab.mcp_core import close_server
from codegen_lab.server._app import create_server

HIGH = "1000000/minute"
CALLS = [("ws_graph", {"path": "missing"}), ("server_info", {})]


async def timed(client: Client, tool: str, arguments: dict[str, object], calls: int, into: list[float]) -> None:
    for _ in range(calls):
        started = time.perf_counter()
        await client.call_tool(tool, arguments)
        into.append(time.perf_counter() - started)


async def measure(root: Path, redis_url: str, calls: int, batches: int) -> dict[str, dict[str, list[float]]]:
    limits = json.dumps({"llm": HIGH, "tests": HIGH, "subprocess": HIGH})
    environ = {"CODEGEN_LAB_RATE_LIMITS": limits, "CODEGEN_LAB_CLIENT_RATE_LIMITS": limits, "CODEGEN_LAB_AUDIT": "0"}
    local = create_server(load_settings(root, environ={**environ}))
    shared = create_server(load_settings(root, environ={**environ, "CODEGEN_LAB_REDIS_URL": redis_url}))
    found: dict[str, dict[str, list[float]]] = {tool: {"local": [], "redis": []} for tool, _ in CALLS}
    from redis.asyncio import Redis

    ping = Redis.from_url(redis_url)
    found["PING (one round trip)"] = {"local": [0.0], "redis": []}
    async with Client(local) as plain, Client(shared) as with_redis:
        for tool, arguments in CALLS:  # warm: schemas, the LLM service, the Redis connections
            await timed(plain, tool, arguments, 20, [])
            await timed(with_redis, tool, arguments, 20, [])
        for _ in range(batches):
            for tool, arguments in CALLS:
                await timed(plain, tool, arguments, calls // batches, found[tool]["local"])
                await timed(with_redis, tool, arguments, calls // batches, found[tool]["redis"])
            for _ in range(calls // batches):
                started = time.perf_counter()
                await ping.ping()
                found["PING (one round trip)"]["redis"].append(time.perf_counter() - started)
    await ping.aclose()
    for server in (local, shared):
        await close_server(server)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--batches", type=int, default=10)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="codegen-lab-redis-cost-"))
    redis = RedisServer(work / "redis")
    redis.start()
    try:
        found = anyio.run(measure, work, redis.url, args.calls, args.batches)
    finally:
        redis.stop()
    worst = 0.0
    print(f"{'tool':22} {'local p50 ms':>13} {'Redis p50 ms':>13} {'added ms':>9}")
    for tool, runs in found.items():
        local, shared = statistics.median(runs["local"]) * 1000, statistics.median(runs["redis"]) * 1000
        if not tool.startswith("PING"):
            worst = max(worst, shared - local)
        print(f"{tool:22} {local:13.2f} {shared:13.2f} {shared - local:+9.2f}")
    print(f"Redis per call: p50 +{worst:.2f} ms at most (target <= 2 ms)")
    return 0 if worst <= 2.0 else 1


if __name__ == "__main__":
    sys.exit(main())
