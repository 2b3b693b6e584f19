"""What testgen's sandbox adds to starting the code under test, against the same interpreter started bare.

Each round starts `python -c pass` three ways, interleaved: bare (`subprocess.run`, the baseline), in the sandbox
with resource limits only, and in the bubblewrap sandbox (when it works here). Target: bubblewrap adds <= 100 ms
(median) to a start, which a test run (seconds) does not notice.

Run: `uv run --all-packages python benchmarks/sandbox_overhead.py [--rounds 40]`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from codegen_lab.testgen._interpreter import probe_python
from codegen_lab.testgen._sandbox import Sandbox, bubblewrap_path

TARGET_ADDED = 0.100


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    rounds = parser.parse_args().rounds
    python = probe_python(sys.executable)
    workdir = Path(tempfile.mkdtemp(prefix="sandbox-bench-"))
    workdir.chmod(0o755)

    def bare() -> None:
        subprocess.run([sys.executable, "-c", "pass"], check=True)

    def sandboxed(isolation: Literal["rlimits", "bubblewrap"]) -> Callable[[], None]:
        box = Sandbox(python, isolation=isolation)

        def start() -> None:
            result = box.run_python(["-c", "pass"], workdir=workdir)
            assert result.returncode == 0, result.stderr

        return start

    ways: dict[str, Callable[[], None]] = {"bare": bare, "rlimits": sandboxed("rlimits")}
    if bubblewrap_path() is not None:
        ways["bubblewrap"] = sandboxed("bubblewrap")
    times: dict[str, list[float]] = {name: [] for name in ways}
    for way in ways.values():  # warm up
        way()
    for index in range(rounds):
        order = list(ways.items())
        for name, way in order[index % len(order) :] + order[: index % len(order)]:
            started = time.perf_counter()
            way()
            times[name].append(time.perf_counter() - started)
    base = statistics.median(times["bare"])
    print(f"{rounds} starts of `python -c pass` each, interleaved")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(
            f"  {name:<10} median {median * 1000:7.1f} ms  ratio {median / base:5.2f}  added {(median - base) * 1000:6.1f} ms"
        )
    if "bubblewrap" not in times:
        print("  bubblewrap is not usable here: only the resource-limit sandbox was measured")
        return 0
    added = statistics.median(times["bubblewrap"]) - base
    print(
        f"  bubblewrap adds {added * 1000:.1f} ms (target <= {TARGET_ADDED * 1000:.0f} ms: {'ok' if added <= TARGET_ADDED else 'MISSED'})"
    )
    return 0 if added <= TARGET_ADDED else 1


if __name__ == "__main__":
    sys.exit(main())
