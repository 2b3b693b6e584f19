"""The graph of a generated 200-member workspace, in process: target <= 50 ms (read the pyproject files + order).

Each round clears what uvtools keeps in memory and runs with its disk cache off, so every round reads and parses
the 200 pyproject.toml files. The
baseline, measured in the same rounds, is the floor any reader pays: `tomllib.loads` of the same 200 files. The
script prints medians and the per-round ratio of uvtools to that floor.

Run: `uv run --all-packages python benchmarks/uvtools_graph.py [--members 200] [--rounds 25]`.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import tomllib
from pathlib import Path

from codegen_lab.uvtools import Graph, load_workspace
from codegen_lab.uvtools._model import normalize_name
from codegen_lab.uvtools._requirements import parse_requirement
from codegen_lab.uvtools._tomlcache import clear_memory

TARGET_MS = 50.0


def generate(root: Path, size: int, seed: int = 7) -> None:
    """A virtual root over `packages/*`: member i depends on up to 3 earlier members and 2 external packages."""
    rng = random.Random(seed)
    (root / "pyproject.toml").write_text('[tool.uv.workspace]\nmembers = ["packages/*"]\n', encoding="utf-8")
    for index in range(size):
        name = f"member-{index:03d}"
        internal = rng.sample(range(index), k=min(index, rng.randint(0, 3)))
        deps = [f"member-{dep:03d}>=0.1,<0.2" for dep in internal] + ["anyio>=4", "idna>=3; python_version < '3.14'"]
        sources = "".join(f"member-{dep:03d} = {{ workspace = true }}\n" for dep in internal)
        folder = root / "packages" / name
        folder.mkdir(parents=True)
        (folder / "pyproject.toml").write_text(
            f'[project]\nname = "{name}"\nversion = "0.1.0"\nrequires-python = ">=3.12"\n'
            f'dependencies = {deps!r}\n\n[dependency-groups]\ndev = ["pytest>=8"]\n\n'
            f"[tool.uv.sources]\n{sources}\n"
            '[build-system]\nrequires = ["uv_build>=0.13.6,<0.14"]\nbuild-backend = "uv_build"\n',
            encoding="utf-8",
        )


def forget_parsed() -> None:
    """Clear what uvtools keeps in memory (parsed files, names, requirements), as in a new process."""
    clear_memory()
    parse_requirement.cache_clear()
    normalize_name.cache_clear()


def arguments(description: str) -> argparse.Namespace:
    """`--members` and `--rounds`, shared by the workspace benchmarks."""
    parser = argparse.ArgumentParser(description=description.splitlines()[0])
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=25)
    return parser.parse_args()


def main() -> None:
    args = arguments(__doc__ or "")
    os.environ["CODEGEN_LAB_UVTOOLS_CACHE"] = "off"  # every round parses every file: no disk cache
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        generate(root, args.members)
        files = sorted(root.glob("packages/*/pyproject.toml"))
        ours: list[float] = []
        cpu: list[float] = []
        floor: list[float] = []
        ratios: list[float] = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            for path in files:
                tomllib.loads(path.read_text(encoding="utf-8"))
            baseline = time.perf_counter() - started
            forget_parsed()
            started, started_cpu = time.perf_counter(), time.process_time()
            graph = Graph.of(load_workspace(root, members_from="pyproject"))
            order = graph.order()
            elapsed = time.perf_counter() - started
            cpu.append(time.process_time() - started_cpu)
            assert len(order) == args.members
            ours.append(elapsed)
            floor.append(baseline)
            ratios.append(elapsed / baseline)
    median = statistics.median(ours) * 1000
    print(f"graph of {args.members} members, {args.rounds} rounds, in process")
    print(f"  uvtools load_workspace + Graph.order : median {median:7.2f} ms  (target <= {TARGET_MS:.0f} ms)")
    print(f"    its CPU time (this process only)   : median {statistics.median(cpu) * 1000:7.2f} ms")
    print(f"  baseline tomllib.loads of the files  : median {statistics.median(floor) * 1000:7.2f} ms")
    print(f"  ratio uvtools / baseline             : median {statistics.median(ratios):7.2f}x")
    print(f"  target met (wall): {median <= TARGET_MS}; (CPU): {statistics.median(cpu) * 1000 <= TARGET_MS}")


if __name__ == "__main__":
    main()
