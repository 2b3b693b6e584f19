"""Load over stateless replicas: one replica alone, N behind nginx, with and without Redis; `load_http.py --replicas`.

Each configuration serves the same generated project with `codegen-lab serve --transport http --stateless`
replicas (rate limits set far above the load, so that each limited call is counted, in Redis when it is on, and
none refused); `--clients` concurrent clients post JSON-RPC tool calls (a mix of `server_info`, `rules_for_path`
and `ws_graph`, which is rate-limited) for `--seconds`. The configurations run in turn for `--rounds` rounds, so
that a drift in the machine's load spreads over all of them. Printed per configuration: calls/s, p50, p99,
errors, and the peak RSS of each replica; then the scaling factor of N replicas over one (both behind nginx)
and the cost of Redis per call (p50 of one replica with Redis minus without, direct).

The load generator runs on the same machine: on 2 cores, the replicas and the clients share them, so the
scaling factor says how much a replica adds here, not on a machine per replica.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import httpx

from codegen_lab.common.testing import NginxBalancer, RedisServer, free_port

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
MIX: list[tuple[str, dict[str, object], int]] = [
    ("server_info", {}, 40),
    ("rules_for_path", {"path": "packages/alpha/src/alpha/core.py"}, 35),
    ("ws_graph", {"path": "missing"}, 25),  # rate-limited (class subprocess): counted in Redis when it is on
]
HIGH = "1000000/minute"


@dataclass
class Result:
    """What one configuration gave over every round."""

    latencies: list[float] = field(default_factory=list[float])
    errors: list[str] = field(default_factory=list[str])
    seconds: float = 0.0
    peak_rss_mib: list[float] = field(default_factory=list[float])

    def line(self, name: str) -> str:
        if not self.latencies:
            return f"{name:34} no calls; errors {len(self.errors)}"
        ordered = sorted(self.latencies)
        p50 = 1000 * statistics.median(ordered)
        p99 = 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        rss = ", ".join(f"{value:.0f}" for value in self.peak_rss_mib)
        return f"{name:34} {len(ordered) / self.seconds:8.1f} {p50:8.2f} {p99:8.2f} {len(self.errors):7d}   [{rss}] MiB"


def peak_rss_mib(pid: int) -> float:
    """The peak resident set of a process (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def replicas(work: Path, root: Path, count: int, redis_url: str | None) -> Iterator[list[tuple[int, int]]]:
    """`count` stateless replicas on free loopback ports, once each answers /healthz; (pid, port) of each."""
    program = Path(sys.executable).parent / "codegen-lab"
    started: list[tuple[subprocess.Popen[bytes], int]] = []
    limits = json.dumps({"llm": HIGH, "tests": HIGH, "subprocess": HIGH})
    try:
        for number in range(count):
            port = free_port()
            home = work / f"replica-{port}"
            home.mkdir()
            env = {
                **os.environ,
                "CODEGEN_LAB_STATE_DIR": str(home / "state"),
                "CODEGEN_LAB_CACHE_DIR": str(home / "cache"),
                "CODEGEN_LAB_LOG_LEVEL": "WARNING",
                "CODEGEN_LAB_AUDIT": "false",
                "CODEGEN_LAB_RATE_LIMITS": limits,
                "CODEGEN_LAB_CLIENT_RATE_LIMITS": limits,
            }
            if redis_url is not None:
                env["CODEGEN_LAB_REDIS_URL"] = redis_url
            command = [str(program), "serve", "--transport", "http", "--stateless", "--port", str(port)]
            with (home / "log").open("wb") as log:
                process = subprocess.Popen([*command, "--root", str(root)], stdout=log, stderr=log, env=env)
            started.append((process, port))
            del number
        deadline = time.monotonic() + 120
        with httpx.Client(timeout=5) as client:
            for process, port in started:
                while True:
                    try:
                        if client.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"the replica on port {port} did not start")
                    time.sleep(0.05)
        yield [(process.pid, port) for process, port in started]
    finally:
        for process, _ in started:
            process.terminate()
        for process, _ in started:
            process.wait(timeout=30)


async def load(url: str, clients: int, seconds: float, result: Result) -> None:
    """`clients` clients posting tool calls to `url` for `seconds`."""
    names = [name for name, _, _ in MIX]
    weights = [weight for _, _, weight in MIX]
    arguments = {name: args for name, args, _ in MIX}
    headers = {"accept": "application/json, text/event-stream"}

    async def client(seed: int, deadline: float) -> None:
        chooser = random.Random(seed)
        async with httpx.AsyncClient(timeout=60, headers=headers) as http:
            number = 0
            while time.monotonic() < deadline:
                number += 1
                name = chooser.choices(names, weights)[0]
                body = {
                    "jsonrpc": "2.0",
                    "id": number,
                    "method": "tools/call",
                    "params": {"name": name, "arguments": arguments[name]},
                }
                started = time.perf_counter()
                try:
                    answer = await http.post(url, json=body)
                    data = answer.json()
                    is_error = answer.status_code != 200 or (
                        data.get("result", {}).get("isError") and name != "ws_graph"
                    )
                    if is_error or "rate limit" in json.dumps(data):
                        result.errors.append(f"{name}: {answer.status_code} {answer.text[:200]}")
                except (httpx.HTTPError, ValueError) as exc:
                    result.errors.append(f"{name}: {type(exc).__name__}: {exc}")
                result.latencies.append(time.perf_counter() - started)

    began = time.monotonic()
    async with anyio.create_task_group() as group:
        for seed in range(clients):
            group.start_soon(client, seed, began + seconds)
    result.seconds += time.monotonic() - began


def replicas_main(args: argparse.Namespace, work: Path, root: Path) -> int:
    """Run every configuration in turn for `args.rounds` rounds and print the comparison."""
    count: int = args.replicas
    configurations: list[tuple[str, int, bool, bool]] = [
        ("1 replica, direct", 1, False, False),
        ("1 replica, direct, Redis", 1, False, True),
        ("1 replica, nginx", 1, True, False),
        (f"{count} replicas, nginx", count, True, False),
    ]
    if args.redis:
        configurations.append((f"{count} replicas, nginx, Redis", count, True, True))
    if args.balancer != "nginx":
        configurations = [entry for entry in configurations if not entry[2]]
    results = {name: Result() for name, *_ in configurations}
    print(f"{args.clients} clients, {args.seconds:.0f} s per configuration and round, {args.rounds} rounds")
    with ExitStack() as stack:
        redis = RedisServer(work / "redis")
        redis.start()
        stack.callback(redis.stop)
        for round_number in range(args.rounds):
            for name, size, balanced, shared in configurations:
                with replicas(work, root, size, redis.url if shared else None) as running:
                    url = f"http://127.0.0.1:{running[0][1]}/mcp"
                    balancer = None
                    if balanced:
                        balancer = NginxBalancer(
                            work / f"nginx-{free_port()}", DEPLOY / "nginx", [p for _, p in running]
                        )
                        balancer.start()
                        url = f"{balancer.url}/mcp"
                    try:
                        warm = Result()
                        anyio.run(load, url, args.clients, 2.0, warm)  # first calls build caches
                        anyio.run(load, url, args.clients, args.seconds, results[name])
                        if round_number == args.rounds - 1:
                            results[name].peak_rss_mib = [peak_rss_mib(pid) for pid, _ in running]
                    finally:
                        if balancer is not None:
                            balancer.stop()
    return report(results, count)


def report(results: dict[str, Result], count: int) -> int:
    """Print each configuration, the scaling factor and Redis's cost per call; 0 when no call failed."""
    print(f"\n{'configuration':34} {'calls/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}   peak RSS per replica")
    for name, result in results.items():
        print(result.line(name))
    throughput = {name: len(result.latencies) / result.seconds for name, result in results.items() if result.seconds}
    one, many = "1 replica, nginx", f"{count} replicas, nginx"
    if one in throughput and many in throughput:
        factor = throughput[many] / throughput[one]
        per_added = (factor - 1) / (count - 1) if count > 1 else 0.0
        print(f"\nscaling: {count} replicas {factor:.2f}x one replica's calls/s ({per_added:+.2f}x per added replica)")
    plain, shared = results["1 replica, direct"], results["1 replica, direct, Redis"]
    if plain.latencies and shared.latencies:
        added = 1000 * (statistics.median(shared.latencies) - statistics.median(plain.latencies))
        print(f"Redis per call: p50 {added:+.2f} ms (target <= 2 ms)")
    errors = sum(len(result.errors) for result in results.values())
    for result in results.values():
        for error in result.errors[:3]:
            print(f"  error: {error}")
    return 0 if errors == 0 else 1
