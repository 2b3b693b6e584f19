"""The uv.lock reader against `tomllib.loads` on the same ~1.5 MB lock, side by side: target <= 0.5x.

The lock is this repository's own uv.lock, its packages repeated under new names until it weighs ~1.5 MB (a lock
as uv writes it: the same shape, sizes and wheels lists). Each round times both readers on the same text,
alternating which goes first; the script prints medians and the median of the per-round ratios.

Run: `uv run --all-packages python benchmarks/uvtools_lock.py [--rounds 21] [--megabytes 1.5]`.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
import tomllib
from pathlib import Path

from codegen_lab.uvtools import parse_lock

TARGET = 0.5
ROOT = Path(__file__).resolve().parent.parent


def big_lock(megabytes: float) -> str:
    text = (ROOT / "uv.lock").read_text(encoding="utf-8")
    head, _, body = text.partition("[[package]]\n")
    packages = ["[[package]]\n" + chunk for chunk in body.split("[[package]]\n")]
    copies: list[str] = []
    copy = 0
    name = re.compile(r'name = "([^"]+)"')
    size = len(text)
    while size + len(text) - len(head) <= megabytes * 1_000_000:
        copy += 1
        size += len(text) - len(head)
        copies.extend(name.sub(rf'name = "\1-copy{copy}"', package) for package in packages)
    return head + "".join(packages) + "".join(copies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--megabytes", type=float, default=1.5)
    args = parser.parse_args()
    text = big_lock(args.megabytes)
    lock = parse_lock(text)
    assert len(lock.packages) > 300
    ours: list[float] = []
    theirs: list[float] = []
    ratios: list[float] = []
    for round_number in range(args.rounds):
        timings: dict[str, float] = {}
        order = ("uvtools", "tomllib") if round_number % 2 == 0 else ("tomllib", "uvtools")
        for name in order:
            started = time.perf_counter()
            if name == "uvtools":
                parse_lock(text)
            else:
                tomllib.loads(text)
            timings[name] = time.perf_counter() - started
        ours.append(timings["uvtools"])
        theirs.append(timings["tomllib"])
        ratios.append(timings["uvtools"] / timings["tomllib"])
    ratio = statistics.median(ratios)
    print(f"uv.lock of {len(text) / 1e6:.2f} MB, {len(lock.packages)} packages, {args.rounds} rounds")
    print(f"  uvtools parse_lock : median {statistics.median(ours) * 1000:8.2f} ms")
    print(f"  tomllib.loads      : median {statistics.median(theirs) * 1000:8.2f} ms")
    print(f"  ratio              : median {ratio:8.3f}x  (target <= {TARGET}x)  target met: {ratio <= TARGET}")


if __name__ == "__main__":
    main()
