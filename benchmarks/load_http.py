"""Load over Streamable HTTP: concurrent MCP clients against the composed server for a fixed time.

Starts `codegen-lab serve --transport http` on a free loopback port with a small generated project as its root
(a uv workspace of three members, Cursor rules, source files), then runs `--clients` MCP clients (the SDK's
Streamable HTTP client, one session each) that call a mix of read-only tools as fast as they are answered for
`--seconds`. Prints calls, errors, p50 and p99 latency per tool and overall, and the server's peak RSS.

Targets (issue 7): zero errors; peak RSS < 256 MB.

Run: `uv run --all-packages python benchmarks/load_http.py [--clients 16] [--seconds 60]`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
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
from mcp import Client

RSS_TARGET_MIB = 256.0
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
            self.peak_kib = max(self.peak_kib, self._field("VmRSS"))

    def __enter__(self) -> RssWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.peak_kib = max(self.peak_kib, self._field("VmHWM"))
        self._stop.set()
        self._thread.join()


async def one_client(
    url: str, deadline: float, seed: int, latencies: dict[str, list[float]], errors: list[str]
) -> None:
    chooser = random.Random(seed)
    names = [name for name, _, _ in MIX]
    weights = [weight for _, _, weight in MIX]
    arguments = {name: args for name, args, _ in MIX}
    async with Client(url) as client:
        while time.monotonic() < deadline:
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


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def start_server(work: Path, root: Path) -> tuple[subprocess.Popen[bytes], str]:
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
    }
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
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="codegen-lab-load-"))
    root = work / "project"
    root.mkdir()
    make_project(root)
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
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    return report(latencies, errors, elapsed, rss.peak_kib / 1024)


if __name__ == "__main__":
    sys.exit(main())
