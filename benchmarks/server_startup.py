"""Cold start, call throughput and peak memory of `codegen-lab serve`, against a bare MCPServer.

The baseline is a bare `mcp.server.mcpserver.MCPServer` with one trivial tool (bare_server.py beside this file),
run by the same Python in the same run. The two are measured interleaved, round by round, alternating which
goes first, and the script prints medians and the ratios that the targets are about:

- cold start: spawn to the first `tools/list` answer over stdio: the server's CPU (all threads, user + system)
  when the answer arrives, read from its CPU-time clock, and the wall time; also its CPU from spawn to exit,
  shutting down included (where the CPU-time clock is missing, the cold start CPU is that one);
- peak RSS of the server process;
- calls per second of `server_info` against the bare server's trivial tool, over one stdio session, with the
  server's CPU per call and the size of each answer beside it (CPU per call shows what a busy machine does to
  calls per second);
- a waiting client's round trips (one request, wait for the answer, the next; stdout read through a buffered
  reader): `tools/call` of `server_info` against the trivial tool, and `tools/list` against a bare MCPServer
  serving as many tools with the same names, texts, annotations and parameters (`bare_server.py --like`): the
  median round trip and the server's CPU per request;
- the command start-ups of `command_startup.py` (a few rounds; `--no-commands` skips them).

The server keeps its tools' JSON schemas in its cache folder between starts (see mcp-core's `_schemas.py`), as
it does for a user whose client starts it again and again; the first start after an install or a code change
builds them. Both are measured: `codegen-lab serve` with the cache an earlier start filled (the targets), and
`first start` with an empty cache folder each time.

Run: `uv run --all-packages python benchmarks/server_startup.py [--rounds 15] [--calls 400]`.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
TARGETS = {"cold_cpu": 1.05, "peak_rss": 1.10, "calls_per_second": 0.80, "tools_list": 1.20}


@dataclass
class Variant:
    name: str
    command: list[str]
    tool: str
    fresh_cache: bool = False
    cold_cpu: list[float] = field(default_factory=list)
    exit_cpu: list[float] = field(default_factory=list)
    cold_wall: list[float] = field(default_factory=list)
    cold_rss: list[float] = field(default_factory=list)
    calls_per_second: list[float] = field(default_factory=list)
    cpu_per_call: list[float] = field(default_factory=list)
    calls_rss: list[float] = field(default_factory=list)
    round_trip: dict[str, list[float]] = field(default_factory=dict[str, list[float]])
    cpu_per_request: dict[str, list[float]] = field(default_factory=dict[str, list[float]])

    def forget_cold_starts(self) -> None:
        """Drop the cold starts measured so far (the warm-up's)."""
        for measured in (self.cold_cpu, self.cold_wall, self.cold_rss, self.exit_cpu):
            measured.clear()


class Session:
    """One server process spoken to over stdio, one JSON-RPC line at a time."""

    def __init__(self, command: list[str], *, fresh_cache: bool = False) -> None:
        # Python writes each module's bytecode on first import and reads it after, as on a user's machine; with
        # PYTHONDONTWRITEBYTECODE a server would compile every source file changed since its .pyc at each start.
        env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
        if fresh_cache:
            env["CODEGEN_LAB_CACHE_DIR"] = tempfile.mkdtemp(prefix="codegen-lab-bench-cache-")
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=tempfile.gettempdir(),
            env=env,
        )
        self.next_id = 0

    def send(self, method: str, params: dict[str, Any] | None = None, *, notify: bool = False) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        if not notify:
            self.next_id += 1
            message["id"] = self.next_id
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        self.process.stdin.flush()

    def answer(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"the server closed stdout (exit {self.process.poll()})")
            message = json.loads(line)
            if "id" in message:
                if "error" in message:
                    raise RuntimeError(f"error answer: {message['error']}")
                return message

    def handshake(self) -> None:
        self.send(
            "initialize",
            {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}},
        )
        self.answer()
        self.send("notifications/initialized", notify=True)

    def close(self) -> tuple[float, float]:
        """End the session; the server's CPU seconds (user + system) and peak RSS in MiB."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        _, status, usage = os.wait4(self.process.pid, 0)
        self.process.returncode = os.waitstatus_to_exitcode(status)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def cold_start(variant: Variant) -> None:
    session = Session(variant.command, fresh_cache=variant.fresh_cache)
    session.handshake()
    session.send("tools/list")
    tools = session.answer()["result"]["tools"]
    wall = time.perf_counter() - session.started
    cpu_at_answer = process_cpu(session.process.pid)
    assert any(tool["name"] == variant.tool for tool in tools), f"{variant.name} does not serve {variant.tool}"
    cpu, rss = session.close()
    variant.cold_cpu.append(cpu if cpu_at_answer is None else cpu_at_answer)
    variant.exit_cpu.append(cpu)
    variant.cold_wall.append(wall)
    variant.cold_rss.append(rss)


def process_cpu(pid: int) -> float | None:
    """The CPU seconds (all threads, user + system) a running process has used so far, or None where unknown.

    From the process's CPU-time clock (`clock_getcpuclockid`, to the nanosecond), else /proc (to the clock tick).
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        clock = ctypes.c_int()
        if libc.clock_getcpuclockid(pid, ctypes.byref(clock)) == 0:
            return time.clock_gettime(clock.value)
    except (OSError, AttributeError):
        pass
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def throughput(variant: Variant, calls: int) -> None:
    session = Session(variant.command)
    session.handshake()
    for _ in range(20):  # warm up: the first call of server_info reads the package versions
        session.send("tools/call", {"name": variant.tool, "arguments": {}})
        session.answer()
    cpu_before = process_cpu(session.process.pid)
    started = time.perf_counter()
    for _ in range(calls):
        session.send("tools/call", {"name": variant.tool, "arguments": {}})
        result = session.answer()["result"]
        assert not result.get("isError"), result
    variant.calls_per_second.append(calls / (time.perf_counter() - started))
    cpu_after = process_cpu(session.process.pid)
    if cpu_before is not None and cpu_after is not None:
        variant.cpu_per_call.append((cpu_after - cpu_before) / calls)
    _, rss = session.close()
    variant.calls_rss.append(rss)


def round_trips(variant: Variant, method: str, params: dict[str, Any] | None, count: int) -> int:
    """`count` requests of a waiting client; records the median round trip and CPU per request; the answer size."""
    session = Session(variant.command)
    session.handshake()
    for _ in range(10):  # warm up
        session.send(method, params)
        session.answer()
    cpu_before = process_cpu(session.process.pid)
    times: list[float] = []
    size = 0
    for _ in range(count):
        started = time.perf_counter()
        session.send(method, params)
        answer = session.answer()
        times.append(time.perf_counter() - started)
        size = len(json.dumps(answer, separators=(",", ":")))
    cpu_after = process_cpu(session.process.pid)
    variant.round_trip.setdefault(method, []).append(statistics.median(times))
    if cpu_before is not None and cpu_after is not None:
        variant.cpu_per_request.setdefault(method, []).append((cpu_after - cpu_before) / count)
    session.close()
    return size


def like_variant(command: list[str], tools_file: Path) -> Variant:
    """The bare MCPServer serving tools like those `command`'s server lists (written to `tools_file`)."""
    session = Session(command)
    session.handshake()
    session.send("tools/list")
    tools_file.write_text(json.dumps(session.answer()["result"]["tools"]), encoding="utf-8")
    session.close()
    return Variant(
        "bare MCPServer, same tools", [sys.executable, str(HERE / "bare_server.py"), "--like", str(tools_file)], ""
    )


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--requests", type=int, default=100, help="round trips per method and run")
    parser.add_argument("--no-commands", action="store_true", help="skip the command start-ups")
    parser.add_argument(
        "--round-trips-only", action="store_true", help="only the waiting client's round trips (tools/call, tools/list)"
    )
    return parser.parse_args()


def main() -> int:
    args = arguments()

    script = Path(sys.executable).parent / "codegen-lab"
    ours_command = [str(script)] if script.is_file() else [sys.executable, "-m", "codegen_lab.server"]
    root = tempfile.mkdtemp(prefix="codegen-lab-bench-")
    bare = Variant("bare MCPServer", [sys.executable, str(HERE / "bare_server.py")], "ping")
    ours = Variant("codegen-lab serve", [*ours_command, "serve", "--root", root], "server_info")
    first = Variant("first start", ours.command, "server_info", fresh_cache=True)
    os.environ["CODEGEN_LAB_CACHE_DIR"] = tempfile.mkdtemp(prefix="codegen-lab-bench-cache-")
    cold_start(ours)  # fills the schema cache and writes the bytecode, as the first start after an install does
    cold_start(bare)
    for variant in (bare, ours):
        variant.forget_cold_starts()

    like = like_variant(ours.command, Path(root) / "tools.json")
    sizes: dict[str, int] = {}

    toolkits = json.loads(subprocess.check_output([*ours_command, "toolkits", "--format", "json", "--root", root]))
    print(f"Python {sys.version.split()[0]}; toolkits loaded: {', '.join(t['name'] for t in toolkits['toolkits'])}")
    print(f"{args.rounds} rounds, interleaved; {args.calls} sequential calls per throughput run\n")

    for round_number in range(args.rounds):
        order = (bare, ours) if round_number % 2 == 0 else (ours, bare)
        if not args.round_trips_only:
            for variant in order:
                cold_start(variant)
            cold_start(first)
            for variant in order:
                throughput(variant, args.calls)
        for variant, method, params in (
            (bare, "tools/call", {"name": "ping", "arguments": {}}),
            (ours, "tools/call", {"name": "server_info", "arguments": {}}),
            (like, "tools/list", None),
            (ours, "tools/list", None),
        )[:: 1 if round_number % 2 == 0 else -1]:
            sizes[f"{variant.name} {method}"] = round_trips(variant, method, params, args.requests)
        print(f"  round {round_number + 1}/{args.rounds} done", file=sys.stderr)
    if args.round_trips_only:
        return report_round_trips(ours, bare, like, sizes, args.requests)
    return report(args, ours, bare, first) + report_round_trips(ours, bare, like, sizes, args.requests)


def report(args: argparse.Namespace, ours: Variant, bare: Variant, first: Variant) -> int:
    """Print the cold starts, throughput and command start-ups; the number of targets missed."""
    median = statistics.median
    paired = [ours_cpu / bare_cpu for ours_cpu, bare_cpu in zip(ours.cold_cpu, bare.cold_cpu, strict=True)]
    paired_first = [cpu / bare_cpu for cpu, bare_cpu in zip(first.cold_cpu, bare.cold_cpu, strict=True)]

    rows = [
        ("cold start CPU (s)", median(bare.cold_cpu), median(ours.cold_cpu), "cold_cpu"),
        ("cold start wall (s)", median(bare.cold_wall), median(ours.cold_wall), None),
        ("CPU, spawn to exit (s)", median(bare.exit_cpu), median(ours.exit_cpu), None),
        ("peak RSS, cold start (MiB)", median(bare.cold_rss), median(ours.cold_rss), "peak_rss"),
        ("peak RSS, after calls (MiB)", median(bare.calls_rss), median(ours.calls_rss), None),
        (
            "calls/s (server_info vs trivial)",
            median(bare.calls_per_second),
            median(ours.calls_per_second),
            "calls_per_second",
        ),
    ]
    print(f"{'median':34} {'bare':>10} {'codegen-lab':>12} {'ratio':>7}  target")
    failures = 0
    for label, base, value, target_key in rows:
        ratio = value / base
        target = ""
        if target_key is not None:
            limit = TARGETS[target_key]
            met = ratio >= limit if target_key == "calls_per_second" else ratio <= limit
            failures += not met
            target = f"{'>=' if target_key == 'calls_per_second' else '<='} {limit:.2f} {'ok' if met else 'MISSED'}"
        print(f"{label:34} {base:10.3f} {value:12.3f} {ratio:7.3f}  {target}")
    print(
        f"\ncold start CPU, median of the {len(paired)} per-round ratios: {median(paired):.3f} "
        f"(min {min(paired):.3f}, max {max(paired):.3f})"
    )
    print(
        f"first start (empty schema cache): CPU {median(first.cold_cpu):.3f} s, wall {median(first.cold_wall):.3f} s, "
        f"ratio to bare {median(first.cold_cpu) / median(bare.cold_cpu):.3f}, "
        f"median per-round ratio {median(paired_first):.3f}"
    )
    if ours.cpu_per_call and bare.cpu_per_call:
        ours_cpu, bare_cpu = median(ours.cpu_per_call) * 1e6, median(bare.cpu_per_call) * 1e6
        print(
            f"server CPU per call (all threads): server_info {ours_cpu:.0f} us, trivial tool {bare_cpu:.0f} us, "
            f"ratio {ours_cpu / bare_cpu:.3f}; answer size {answer_bytes(ours)} vs {answer_bytes(bare)} bytes"
        )
    if not args.no_commands:
        print("\ncommand start-ups (command_startup.py --rounds 5):", flush=True)
        commands = subprocess.run([sys.executable, str(HERE / "command_startup.py"), "--rounds", "5"], check=False)
        failures += commands.returncode != 0
    return 1 if failures else 0


def report_round_trips(ours: Variant, bare: Variant, like: Variant, sizes: dict[str, int], requests: int) -> int:
    """Print the waiting client's round trips against the baselines; 1 when the `tools/list` target is missed."""
    median = statistics.median
    failures = 0
    print(f"\nwaiting client, {requests} round trips per run, medians (round trip, server CPU per request)")
    for method, base, label in (("tools/call", bare, "trivial tool"), ("tools/list", like, "same tools, bare")):
        ratio = median(ours.round_trip[method]) / median(base.round_trip[method])
        ours_cpu = median(ours.cpu_per_request.get(method, [0.0]))
        base_cpu = median(base.cpu_per_request.get(method, [0.0]))
        cpu_ratio = ours_cpu / base_cpu if base_cpu else float("nan")
        line = (
            f"  {method}: codegen-lab {median(ours.round_trip[method]) * 1e3:.2f} ms "
            f"({median(ours.cpu_per_request.get(method, [0.0])) * 1e3:.2f} ms CPU, "
            f"{sizes[f'{ours.name} {method}']} bytes), {label} {median(base.round_trip[method]) * 1e3:.2f} ms "
            f"({median(base.cpu_per_request.get(method, [0.0])) * 1e3:.2f} ms CPU, "
            f"{sizes[f'{base.name} {method}']} bytes): ratio {ratio:.3f}, CPU ratio {cpu_ratio:.3f}"
        )
        if method == "tools/list":
            met = min(ratio, cpu_ratio) <= TARGETS["tools_list"]  # wall on a quiet machine, CPU on a busy one
            failures += not met
            line += f" (target <= {TARGETS['tools_list']:.2f} {'ok' if met else 'MISSED'})"
        print(line)
    return failures


def answer_bytes(variant: Variant) -> int:
    """The size of one `tools/call` answer of the variant's tool, as it goes over the wire."""
    session = Session(variant.command)
    session.handshake()
    session.send("tools/call", {"name": variant.tool, "arguments": {}})
    size = len(json.dumps(session.answer(), separators=(",", ":")))
    session.close()
    return size


if __name__ == "__main__":
    sys.exit(main())
