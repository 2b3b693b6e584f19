"""Load over stateless replicas: one replica alone, N behind nginx, with and without Redis; `load_http.py --replicas`.

Each configuration serves the same generated project with `codegen-lab serve --transport http --stateless`
replicas (rate limits set far above the load, so that each limited call is counted, in Redis when it is on, and
none refused); `--clients` concurrent clients post JSON-RPC tool calls (a mix of `server_info`, `rules_for_path`
and `ws_graph`, which is rate-limited) for `--seconds`. The configurations run in turn for `--rounds` rounds, so
that a drift in the machine's load spreads over all of them. Printed per configuration: calls/s, p50, p99,
errors, the replicas' CPU time per call and the peak RSS of each replica; then the scaling factor of N replicas
over one (both behind nginx).

The cost of Redis per call is measured apart, where a latency difference means something: with `--clients`
closed-loop clients a replica is saturated, and the p50 there is mostly waiting in line (clients / calls per
second), so a slower replica's p50 grows by far more than what Redis adds to a call. Here two single replicas run
side by side, one with Redis and one without, and ONE client calls them in alternating batches of the same calls
(unsaturated: one call at a time): the difference of their p50 is what Redis adds to a call's latency, and the
difference of CPU time per call (the replica's, and redis-server's) is what it costs in CPU: on a busy machine,
where each round trip to another process waits for a core, the CPU time is the steadier of the two. Target: p50
+ 2 ms at most.

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
HEADERS = {"accept": "application/json, text/event-stream"}


@dataclass
class Result:
    """What one configuration gave over every round."""

    latencies: list[float] = field(default_factory=list[float])
    errors: list[str] = field(default_factory=list[str])
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    """The replicas' CPU time (user and system) while the calls were measured."""
    peak_rss_mib: list[float] = field(default_factory=list[float])

    def cpu_ms_per_call(self) -> float:
        return 1000 * self.cpu_seconds / len(self.latencies) if self.latencies else 0.0

    def line(self, name: str) -> str:
        if not self.latencies:
            return f"{name:34} no calls; errors {len(self.errors)}"
        ordered = sorted(self.latencies)
        p50 = 1000 * statistics.median(ordered)
        p99 = 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        rss = ", ".join(f"{value:.0f}" for value in self.peak_rss_mib)
        return (
            f"{name:34} {len(ordered) / self.seconds:8.1f} {p50:8.2f} {p99:8.2f} {len(self.errors):7d} "
            f"{self.cpu_ms_per_call():8.2f}   [{rss}] MiB"
        )


def cpu_seconds(pids: list[int]) -> float:
    """The CPU time (user and system, with waited-for children) the processes have used so far."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return total / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid: int) -> float:
    """The peak resident set of a process (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def replicas(work: Path, root: Path, count: int, redis_url: str | None) -> Iterator[list[tuple[int, int]]]:
    """`count` stateless replicas on free loopback ports, once each answers /healthz and has served each tool of the
    mix once (its first calls import and connect what the tools need, Redis too); (pid, port) of each."""
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
            for _, port in started:  # each tool once on each replica: lazy imports, caches, Redis connections
                for name, arguments, _ in MIX:
                    params = {"name": name, "arguments": arguments}
                    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}
                    client.post(f"http://127.0.0.1:{port}/mcp", json=body, headers=HEADERS, timeout=120)
        yield [(process.pid, port) for process, port in started]
    finally:
        for process, _ in started:
            process.terminate()
        for process, _ in started:
            process.wait(timeout=30)


def pick(chooser: random.Random) -> str:
    """A tool of the mix, drawn by its weight."""
    return chooser.choices([name for name, _, _ in MIX], [weight for _, _, weight in MIX])[0]


async def timed_call(http: httpx.AsyncClient, url: str, name: str, number: int, result: Result) -> None:
    """One tool call: its latency into `result`, and what went wrong, if anything."""
    arguments = {tool: args for tool, args, _ in MIX}[name]
    body = {"jsonrpc": "2.0", "id": number, "method": "tools/call", "params": {"name": name, "arguments": arguments}}
    started = time.perf_counter()
    try:
        answer = await http.post(url, json=body)
        data = answer.json()
        is_error = answer.status_code != 200 or (data.get("result", {}).get("isError") and name != "ws_graph")
        if is_error or "rate limit" in json.dumps(data):
            result.errors.append(f"{name}: {answer.status_code} {answer.text[:200]}")
    except (httpx.HTTPError, ValueError) as exc:
        result.errors.append(f"{name}: {type(exc).__name__}: {exc}")
    result.latencies.append(time.perf_counter() - started)


async def load(url: str, clients: int, seconds: float, result: Result, pids: list[int] | None = None) -> None:
    """`clients` clients posting tool calls to `url` for `seconds`; the CPU time of `pids` meanwhile."""

    async def client(seed: int, deadline: float) -> None:
        chooser = random.Random(seed)
        async with httpx.AsyncClient(timeout=60, headers=HEADERS) as http:
            number = 0
            while time.monotonic() < deadline:
                number += 1
                await timed_call(http, url, pick(chooser), number, result)

    began, cpu = time.monotonic(), cpu_seconds(pids or [])
    async with anyio.create_task_group() as group:
        for seed in range(clients):
            group.start_soon(client, seed, began + seconds)
    result.seconds += time.monotonic() - began
    result.cpu_seconds += cpu_seconds(pids or []) - cpu


BATCH = 20
"""Calls in each batch of the unsaturated comparison, before the client turns to the other replica."""


async def one_client_in_turn(
    urls: dict[str, str], pids: dict[str, list[int]], seconds: float, results: dict[str, Result], seed: int
) -> None:
    """ONE client calling each replica in turn, a batch of the same calls each, for `seconds` in all; the CPU time
    of each one's `pids` (the replica, and redis-server for the one with Redis) during its batches."""
    chooser = random.Random(seed)
    number = 0
    async with httpx.AsyncClient(timeout=60, headers=HEADERS) as http:
        for url in urls.values():  # warm: the first calls build caches and open connections
            for _ in range(BATCH):
                number += 1
                await timed_call(http, url, pick(chooser), number, Result())
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            batch = [pick(chooser) for _ in range(BATCH)]
            for name, url in urls.items():
                began, cpu = time.monotonic(), cpu_seconds(pids[name])
                for tool in batch:
                    number += 1
                    await timed_call(http, url, tool, number, results[name])
                results[name].seconds += time.monotonic() - began
                results[name].cpu_seconds += cpu_seconds(pids[name]) - cpu


def replicas_main(args: argparse.Namespace, work: Path, root: Path) -> int:
    """Run every configuration in turn for `args.rounds` rounds, then the unsaturated Redis comparison; print both."""
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
    unsaturated = {name: Result() for name in ("without Redis", "with Redis")}
    print(f"{args.clients} clients, {args.seconds:.0f} s per configuration and round, {args.rounds} rounds")
    with ExitStack() as stack:
        redis = RedisServer(work / "redis")
        redis.start()
        stack.callback(redis.stop)
        for round_number in range(args.rounds):
            for name, size, balanced, shared in configurations:
                with replicas(work, root, size, redis.url if shared else None) as running:
                    pids = [pid for pid, _ in running]
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
                        anyio.run(load, url, args.clients, args.seconds, results[name], pids)
                        if round_number == args.rounds - 1:
                            results[name].peak_rss_mib = [peak_rss_mib(pid) for pid in pids]
                    finally:
                        if balancer is not None:
                            balancer.stop()
            with (
                replicas(work, root, 1, None) as plain,
                replicas(work, root, 1, redis.url) as shared_state,
            ):
                urls = {
                    "without Redis": f"http://127.0.0.1:{plain[0][1]}/mcp",
                    "with Redis": f"http://127.0.0.1:{shared_state[0][1]}/mcp",
                }
                assert redis.process is not None
                watched = {"without Redis": [plain[0][0]], "with Redis": [shared_state[0][0], redis.process.pid]}
                anyio.run(one_client_in_turn, urls, watched, args.seconds, unsaturated, round_number)
    return report(results, unsaturated, count, args.clients)


def report(results: dict[str, Result], unsaturated: dict[str, Result], count: int, clients: int) -> int:
    """Print each configuration, the scaling factor and Redis's cost per call; 0 when no call failed."""
    print(
        f"\n{'configuration':34} {'calls/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'CPU ms':>8}"
        "   peak RSS per replica"
    )
    for name, result in results.items():
        print(result.line(name))
    print("(CPU ms: the replicas' CPU time, user and system, per call)")
    throughput = {name: len(result.latencies) / result.seconds for name, result in results.items() if result.seconds}
    one, many = "1 replica, nginx", f"{count} replicas, nginx"
    if one in throughput and many in throughput:
        factor = throughput[many] / throughput[one]
        per_added = (factor - 1) / (count - 1) if count > 1 else 0.0
        print(f"\nscaling: {count} replicas {factor:.2f}x one replica's calls/s ({per_added:+.2f}x per added replica)")
    plain, shared = unsaturated["without Redis"], unsaturated["with Redis"]
    if plain.latencies and shared.latencies:
        print(f"\none client, one call at a time, the two replicas in alternating batches of {BATCH} same calls:")
        for name, result in unsaturated.items():
            print(result.line(f"1 replica, direct, {name}"))
        added = 1000 * (statistics.median(shared.latencies) - statistics.median(plain.latencies))
        cpu = shared.cpu_ms_per_call() - plain.cpu_ms_per_call()
        print(
            f"Redis per call (one client, unsaturated, interleaved): p50 {added:+.2f} ms (target <= 2 ms); "
            f"CPU per call (the replica's, and redis-server's) {cpu:+.2f} ms"
        )
    saturated_plain, saturated_shared = results["1 replica, direct"], results["1 replica, direct, Redis"]
    if saturated_plain.latencies and saturated_shared.latencies:
        queued = 1000 * (statistics.median(saturated_shared.latencies) - statistics.median(saturated_plain.latencies))
        cpu = saturated_shared.cpu_ms_per_call() - saturated_plain.cpu_ms_per_call()
        print(
            f"under {clients} closed-loop clients (saturated) the p50 difference is {queued:+.2f} ms: waiting in "
            f"line ({clients} clients / calls per second), not what Redis adds to a call; CPU per call {cpu:+.2f} ms"
        )
    every = [*results.values(), *unsaturated.values()]
    for result in every:
        for error in result.errors[:3]:
            print(f"  error: {error}")
    return 0 if sum(len(result.errors) for result in every) == 0 else 1
