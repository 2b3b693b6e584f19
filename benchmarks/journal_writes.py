"""What the journal costs: writing files through a `ChangeSet` against bare atomic writes (target: <= 3x).

A journaled write makes the backup of the previous content durable (a hard link, fsync of its folder), appends
and fsyncs its journal record, then writes the file (temporary file, fsync, rename, fsync of the folder). The
baseline, measured in the same rounds on the same files, is `replace_atomically` alone. The script prints medians of both for one
change set of `--files` files of `--kib` KiB each, the per-round ratio, and the median of `undo_last`.

Run: `uv run --all-packages python benchmarks/journal_writes.py [--files 10] [--kib 64] [--rounds 15]`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from codegen_lab.common.files import ChangeSet, replace_atomically, undo_last

TARGET_RATIO = 3.0


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--kib", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root, state = Path(folder) / "project", Path(folder) / "state"
        paths = [root / f"module_{index}.py" for index in range(args.files)]
        for path in paths:
            replace_atomically(path, b"#" * args.kib * 1024)
        bare: list[float] = []
        journaled: list[float] = []
        undone: list[float] = []
        for number in range(args.rounds):
            data = f"# round {number}\n".encode() * (args.kib * 1024 // 12)
            started = time.perf_counter()
            for path in paths:
                replace_atomically(path, data)
            bare.append(time.perf_counter() - started)
            started = time.perf_counter()
            with ChangeSet(root, f"round {number}", state_dir=state) as change:
                for path in paths:
                    change.write(path, data + b"\n")
            journaled.append(time.perf_counter() - started)
            started = time.perf_counter()
            undo_last(root, state_dir=state)
            undone.append(time.perf_counter() - started)
            assert paths[0].read_bytes() == data
    ratios = [ours / base for ours, base in zip(journaled, bare, strict=True)]
    ratio = statistics.median(ratios)
    print(f"{args.files} files of {args.kib} KiB, {args.rounds} rounds")
    print(f"bare atomic writes (baseline): median {statistics.median(bare) * 1000:.1f} ms")
    print(f"one journaled change set:      median {statistics.median(journaled) * 1000:.1f} ms")
    print(f"undo_last of that change set:  median {statistics.median(undone) * 1000:.1f} ms")
    print(f"ratio journaled / bare:        median {ratio:.2f}x (target <= {TARGET_RATIO:g}x)")
    if ratio > TARGET_RATIO:
        raise SystemExit(f"journaled writes cost {ratio:.2f}x bare atomic writes, over the {TARGET_RATIO:g}x target")


if __name__ == "__main__":
    main()
