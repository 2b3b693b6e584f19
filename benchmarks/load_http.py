"""Load over Streamable HTTP: concurrent MCP clients against the composed server for a fixed time.

Starts `codegen-lab serve --transport http` on a free loopback port with a small generated project as its root
(a uv workspace of three members, Cursor rules, source files), then runs `--clients` MCP clients (the SDK's
Streamable HTTP client, one session each) that call a mix of read-only tools as fast as they are answered for
`--seconds`. Prints calls, errors, p50 and p99 latency per tool and overall, and the server's peak RSS.

Targets (issue 7): zero errors; peak RSS < 256 MB.

With `--hostile`, after a warm-up, the normal clients run through `--rounds` pairs of windows, `--seconds` in all
for each kind: a quiet window, then one while a second process attacks the server with a read-only token: slow
headers (`--slow` connections that send part of their headers and a line more every 2 s, reopened when closed),
a session flood (initialize after initialize, never closed) and 100,000-deep JSON bodies. Taking the windows in
turn keeps a drift in the machine's load from passing for the attack's effect. The normal clients' p50 and p99,
errors, the server's peak RSS and CPU time are printed for each kind of window, with what the attacker got.
Targets: normal p99 under attack within 2x of the quiet windows', no normal error, no crash, RSS < 256 MiB.

With `--replicas N`, stateless replicas instead (`load_replicas.py`): one replica alone, and N behind
`--balancer nginx` (deploy/nginx), with `--redis` also sharing state in a redis-server: calls/s, p50/p99, errors,
CPU per call and RSS per replica for each, the scaling factor, and the cost of Redis per call, measured with ONE
client calling a replica with Redis and one without in alternating batches (unsaturated: under `--clients`
saturating clients a p50 difference is waiting in line), as p50 and CPU time per call (target: p50 + 2 ms).

Run: `uv run --all-packages python benchmarks/load_http.py [--clients 16] [--seconds 60] [--hostile [--slow 1500]]`,
or `... load_http.py --replicas 3 --balancer nginx --redis [--clients 8] [--seconds 20] [--rounds 2]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

RSS_TARGET_MIB = 256.0
NORMAL_TOKEN = secrets.token_urlsafe(24)
HOSTILE_TOKEN = secrets.token_urlsafe(24)
DEEP_JSON = b'{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
INITIALIZE = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "flood", "version": "0"},
        },
    }
).encode()
MIX: list[tuple[str, dict[str, Any], int]] = [
    ("server_info", {}, 30),
    ("rules_for_path", {"path": "packages/alpha/src/alpha/core.py"}, 25),
    ("rules_list", {}, 15),
    ("rules_render", {"paths": ["packages/beta/src/beta/api.py"]}, 10),
    ("ws_graph", {}, 8),
    ("ws_lint", {}, 7),
    ("tools/list", {}, 5),
]


def make_project(root: Path) -> None:
    """A uv workspace of three members with rules, as a user's repository has them."""
    (root / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0.1.0"\nrequires-python = ">=3.12"\n\n'
        '[tool.uv.workspace]\nmembers = ["packages/*"]\n',
        encoding="utf-8",
    )
    for name, needs in (("alpha", []), ("beta", ["alpha"]), ("gamma", ["alpha", "beta"])):
        member = root / "packages" / name
        (member / "src" / name).mkdir(parents=True)
        dependencies = ", ".join(f'"{need}"' for need in needs)
        sources = "".join(f"{need} = {{ workspace = true }}\n" for need in needs)
        (member / "pyproject.toml").write_text(
            f'[project]\nname = "{name}"\nversion = "0.1.0"\nrequires-python = ">=3.12"\n'
            f"dependencies = [{dependencies}]\n\n[tool.uv.sources]\n{sources}",
            encoding="utf-8",
        )
        for module in ("core", "api"):
            (member / "src" / name / f"{module}.py").write_text(f"def {module}() -> str:\n    return '{name}'\n")
    rules = root / ".cursor" / "rules"
    rules.mkdir(parents=True)
    for index, glob in enumerate(["**/*.py", "packages/alpha/**", "packages/beta/**/*.py", "**/*.toml"]):
        (rules / f"rule{index}.mdc").write_text(
            f"---\ndescription: Rule {index}\nglobs: {glob}\nalwaysApply: false\n---\n"
            + "\n".join(f"- Guidance line {line} of rule {index}." for line in range(40))
            + "\n",
            encoding="utf-8",
        )
    (root / "AGENTS.md").write_text("# Agents\n\nUse type hints everywhere.\n", encoding="utf-8")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RssWatch:
    """The peak resident set of a process, sampled every 0.2 s and read from VmHWM at the end."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kib = 0
        self.window_kib = 0
        """The peak since a caller last set it to 0."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _field(self, name: str) -> int:
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith(name + ":"):
                    return int(line.split()[1])
        except OSError:
            return 0
        return 0

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            now = self._field("VmRSS")
            self.peak_kib = max(self.peak_kib, now)
            self.window_kib = max(self.window_kib, now)

    def __enter__(self) -> RssWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.peak_kib = max(self.peak_kib, self._field("VmHWM"))
        self._stop.set()
        self._thread.join()


async def one_client(
    url: str,
    deadline: float,
    seed: int,
    latencies: dict[str, list[float]],
    errors: list[str],
    token: str | None = None,
    phase_of: Any = None,
) -> None:
    chooser = random.Random(seed)
    names = [name for name, _, _ in MIX]
    weights = [weight for _, _, weight in MIX]
    arguments = {name: args for name, args, _ in MIX}
    headers = {"Authorization": f"Bearer {token}"} if token else None
    finished = False
    while not finished and time.monotonic() < deadline:
        try:
            async with (
                create_mcp_http_client(headers=headers) as http,
                Client(streamable_http_client(url, http_client=http)) as client,
            ):
                while time.monotonic() < deadline:
                    if phase_of is not None:
                        phase = phase_of()
                        if phase is None:
                            finished = True
                            break
                        latencies, errors = phase
                    name = chooser.choices(names, weights)[0]
                    started = time.perf_counter()
                    try:
                        if name == "tools/list":
                            await client.list_tools()
                        else:
                            result = await client.call_tool(name, arguments[name])
                            if result.is_error:
                                errors.append(f"{name}: {result.content[0]}")
                    except Exception as exc:
                        errors.append(f"{name}: {type(exc).__name__}: {exc}")
                    latencies[name].append(time.perf_counter() - started)
        except Exception as exc:  # the session itself broke (a connection the server closed): an error, then again
            errors.append(f"session: {describe(exc)}")


def describe(exc: BaseException) -> str:
    """The class and message of what failed, inside the exception groups of task groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def start_server(work: Path, root: Path, *, tokens: bool = False) -> tuple[subprocess.Popen[bytes], str]:
    """`codegen-lab serve --transport http` on a free loopback port, once it listens; its URL."""
    script = Path(sys.executable).parent / "codegen-lab"
    port = free_port()
    env = {
        **os.environ,
        "CODEGEN_LAB_STATE_DIR": str(work / "state"),
        "CODEGEN_LAB_CACHE_DIR": str(work / "cache"),
        "CODEGEN_LAB_LOG_LEVEL": "WARNING",
        # the limits are for runaway clients; a load test measures the server, not its limiter
        "CODEGEN_LAB_RATE_LIMITS": json.dumps({"llm": "off", "tests": "off", "subprocess": "off"}),
        "CODEGEN_LAB_CLIENT_RATE_LIMITS": json.dumps({"llm": "off", "tests": "off", "subprocess": "off"}),
    }
    if tokens:
        env["CODEGEN_LAB_HTTP_TOKENS"] = f"write:{NORMAL_TOKEN},read:{HOSTILE_TOKEN}"
    command = [str(script), "serve", "--transport", "http", "--port", str(port), "--root", str(root)]
    with (work / "server.log").open("wb") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 60
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited: {(work / 'server.log').read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        except OSError:
            if time.monotonic() > deadline:
                server.kill()
                raise
            time.sleep(0.05)
        else:
            return server, f"http://127.0.0.1:{port}/mcp"


class Attack:
    """The hostile mix, run in a process of its own so that it takes no CPU from the normal clients' process."""

    def __init__(self, url: str, token: str, slow: int) -> None:
        self.host, _, rest = url.removeprefix("http://").partition(":")
        self.port = int(rest.split("/")[0])
        self.url = url
        self.token = token
        self.slow = slow
        self.counts: dict[str, int] = defaultdict(int)

    async def slow_headers(self, deadline: float) -> None:
        """Keep a connection sending headers a line every 2 s, reopening it when the server closes it."""
        while time.monotonic() < deadline:
            try:  # asyncio's own streams: no name lookup in a thread for each of many connections
                reader, writer = await asyncio.open_connection(self.host, self.port)
            except OSError as exc:
                self.counts[f"slow: connect failed ({type(exc).__name__})"] += 1
                await anyio.sleep(0.1)
                continue
            self.counts["slow: opened"] += 1
            try:
                writer.write(f"POST /mcp HTTP/1.1\r\nHost: {self.host}\r\n".encode())
                while time.monotonic() < deadline:
                    await anyio.sleep(2)
                    if reader.at_eof():
                        self.counts["slow: closed by server"] += 1
                        break
                    writer.write(b"X-Slow: 1\r\n")
                    await writer.drain()
            except OSError:
                self.counts["slow: closed by server"] += 1
            finally:
                writer.close()

    async def post_again_and_again(self, http: httpx2.AsyncClient, deadline: float, what: str, body: bytes) -> None:
        """POST `body` with the read token until `deadline`, counting the answers: a session flood, deep JSON."""
        while time.monotonic() < deadline:
            try:
                response = await http.post(self.url, content=body)
                self.counts[f"{what}: {response.status_code}"] += 1
            except httpx2.HTTPError as exc:
                self.counts[f"{what}: {type(exc).__name__}"] += 1
                await anyio.sleep(0.1)

    async def run(self, seconds: float, rounds: int, start: float) -> None:
        """Attack in the hostile windows of the schedule: the second of each of `rounds` pairs of windows."""
        window = seconds / rounds
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
        }
        async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
            for index in range(rounds):
                await anyio.sleep(max(0.0, start + (2 * index + 1) * window - time.time()))
                deadline = time.monotonic() + max(0.0, start + (2 * index + 2) * window - time.time())
                async with anyio.create_task_group() as group:
                    for _ in range(self.slow):
                        group.start_soon(self.slow_headers, deadline)
                    for _ in range(2):  # sessions opened and never closed; JSON too deep to parse
                        group.start_soon(self.post_again_and_again, http, deadline, "sessions", INITIALIZE)
                        group.start_soon(self.post_again_and_again, http, deadline, "deep JSON", DEEP_JSON)
                    await anyio.sleep(max(0.0, deadline - time.monotonic()))
                    group.cancel_scope.cancel()  # the slow connections close with the window


def attack_main(url: str, token: str, args: argparse.Namespace) -> int:
    attack = Attack(url, token, args.slow)
    print("ready", flush=True)
    start = float(sys.stdin.readline())
    anyio.run(attack.run, args.seconds, args.rounds, start)
    attack.counts["attacker CPU s"] = round(cpu_seconds(os.getpid()))
    print(json.dumps(dict(sorted(attack.counts.items()))))
    return 0


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def summary(latencies: dict[str, list[float]]) -> tuple[int, float, float]:
    every = [value for values in latencies.values() for value in values]
    if not every:
        return 0, 0.0, 0.0
    return len(every), 1000 * statistics.median(every), 1000 * percentile(every, 0.99)


def hostile_run(args: argparse.Namespace, server: subprocess.Popen[bytes], url: str, rss: RssWatch) -> dict[str, Any]:
    """Normal clients through a warm-up, then quiet and hostile windows in turn; what each phase measured."""
    window = args.seconds / args.rounds
    command = [sys.executable, __file__, "--attack", url, "--seconds", str(args.seconds)]
    command += ["--slow", str(args.slow), "--rounds", str(args.rounds)]
    env = {**os.environ, "ATTACK_TOKEN": HOSTILE_TOKEN}
    attacker = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    assert attacker.stdin is not None
    assert attacker.stdout is not None
    if attacker.stdout.readline() != b"ready\n":  # its imports done, it can keep a schedule
        raise RuntimeError("the attacker's process did not start")
    start = time.time() + args.warmup  # wall-clock time: the attacker's process keeps the same schedule
    attacker.stdin.write(f"{start!r}\n".encode())
    attacker.stdin.close()
    phases: dict[str, dict[str, Any]] = {
        name: {"latencies": defaultdict(list), "errors": [], "cpu": 0.0, "rss": 0.0} for name in ("quiet", "hostile")
    }
    current: list[str | None] = ["warm-up"]
    output: list[bytes] = []

    def phase_of() -> tuple[dict[str, list[float]], list[str]] | None:
        name = current[0]
        if name is None:
            return None
        if name == "warm-up":
            return defaultdict(list), []
        return phases[name]["latencies"], phases[name]["errors"]

    async def attack() -> None:
        assert attacker.stdout is not None
        output.append(await anyio.to_thread.run_sync(attacker.stdout.read))
        await anyio.to_thread.run_sync(attacker.wait)

    async def run() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(attack)
            for seed in range(args.clients):
                group.start_soon(one_client, url, float("inf"), seed, {}, [], NORMAL_TOKEN, phase_of)
            for index in range(2 * args.rounds):
                await anyio.sleep(max(0.0, start + index * window - time.time()))
                name = "hostile" if index % 2 else "quiet"
                current[0], cpu, rss.window_kib = name, cpu_seconds(server.pid), 0
                await anyio.sleep(max(0.0, start + (index + 1) * window - time.time()))
                phases[name]["cpu"] += cpu_seconds(server.pid) - cpu
                phases[name]["rss"] = max(phases[name]["rss"], rss.window_kib / 1024)
            current[0] = None  # the normal clients stop; the attacker ends its last window

    anyio.run(run)
    phases["attacker"] = json.loads(output[0] or b"{}") if output else {}
    return phases


def hostile_main(args: argparse.Namespace, work: Path, root: Path) -> int:
    """Quiet and hostile windows in turn against one server, then the normal clients' numbers for each."""
    server, url = start_server(work, root, tokens=True)
    print(
        f"{args.clients} normal clients: {args.warmup:.0f} s warm-up, then {args.rounds} rounds of "
        f"{args.seconds / args.rounds:.1f} s quiet and {args.seconds / args.rounds:.1f} s under attack "
        f"({args.slow} slow-header connections, a session flood, deep JSON; read token) (server pid {server.pid})"
    )
    try:
        with RssWatch(server.pid) as rss:
            phases = hostile_run(args, server, url, rss)
        crashed = server.poll() is not None
    finally:
        stop(server)
    print(
        f"\n{'phase':8} {'calls':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'peak RSS MiB':>13} {'server CPU s':>13}"
    )
    p99: dict[str, float] = {}
    for name in ("quiet", "hostile"):
        phase = phases[name]
        calls, p50, p99[name] = summary(phase["latencies"])
        errors = len(phase["errors"])
        print(f"{name:8} {calls:7d} {p50:8.1f} {p99[name]:8.1f} {errors:7d} {phase['rss']:13.1f} {phase['cpu']:13.1f}")
        for error in phase["errors"][:5]:
            print(f"  {name} error: {error[:200]}")
    print(f"\nthe attacker got: {json.dumps(phases['attacker'])}")
    ratio = p99["hostile"] / p99["quiet"] if p99["quiet"] else float("inf")
    peak = rss.peak_kib / 1024
    print(f"normal p99 under attack / quiet: {ratio:.2f} (target <= 2); server crashed: {crashed}")
    print(f"server peak RSS: {peak:.1f} MiB (target < {RSS_TARGET_MIB:.0f})")
    errors = len(phases["quiet"]["errors"]) + len(phases["hostile"]["errors"])
    return 0 if not errors and not crashed and ratio <= 2 and peak < RSS_TARGET_MIB else 1


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()


def report(latencies: dict[str, list[float]], errors: list[str], elapsed: float, peak_mib: float) -> int:
    every = [value for values in latencies.values() for value in values]
    print(f"\n{'call':18} {'calls':>7} {'p50 ms':>8} {'p99 ms':>8}")
    for name, _, _ in MIX:
        values = latencies.get(name, [])
        if values:
            p50, p99 = 1000 * statistics.median(values), 1000 * percentile(values, 0.99)
            print(f"{name:18} {len(values):7d} {p50:8.1f} {p99:8.1f}")
    print(f"{'all':18} {len(every):7d} {1000 * statistics.median(every):8.1f} {1000 * percentile(every, 0.99):8.1f}")
    print(f"\n{len(every) / elapsed:.1f} calls/s over {elapsed:.1f} s; errors: {len(errors)}")
    print(f"server peak RSS: {peak_mib:.1f} MiB (target < {RSS_TARGET_MIB:.0f})")
    for error in errors[:10]:
        print(f"  error: {error[:200]}")
    return 0 if not errors and peak_mib < RSS_TARGET_MIB else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--hostile", action="store_true", help="a quiet phase, then the same under attack")
    parser.add_argument("--slow", type=int, default=1500, help="slow-header connections of the attack")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of load not counted, before --hostile's")
    parser.add_argument("--rounds", type=int, default=2, help="quiet and hostile windows, in turn, with --hostile")
    parser.add_argument("--attack", metavar="URL", help=argparse.SUPPRESS)  # the attacker's own process
    parser.add_argument("--replicas", type=int, default=0, help="stateless replicas (load_replicas.py)")
    parser.add_argument("--balancer", choices=["nginx", "none"], default="nginx", help="in front of --replicas")
    parser.add_argument("--redis", action="store_true", help="with --replicas: also with state shared in Redis")
    args = parser.parse_args()
    if args.attack:
        return attack_main(args.attack, os.environ["ATTACK_TOKEN"], args)

    work = Path(tempfile.mkdtemp(prefix="codegen-lab-load-"))
    root = work / "project"
    root.mkdir()
    make_project(root)
    if args.hostile:
        return hostile_main(args, work, root)
    if args.replicas:
        from load_replicas import replicas_main

        return replicas_main(args, work, root)
    server, url = start_server(work, root)
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []

    async def run() -> None:
        end = time.monotonic() + args.seconds
        async with anyio.create_task_group() as group:
            for seed in range(args.clients):
                group.start_soon(one_client, url, end, seed, latencies, errors)

    print(f"{args.clients} clients for {args.seconds:.0f} s against codegen-lab serve over HTTP (pid {server.pid})")
    try:
        started = time.monotonic()
        with RssWatch(server.pid) as rss:
            anyio.run(run)
        elapsed = time.monotonic() - started
    finally:
        stop(server)
    return report(latencies, errors, elapsed, rss.peak_kib / 1024)


if __name__ == "__main__":
    sys.exit(main())
