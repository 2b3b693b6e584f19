"""Command start-up against the tools people compare us with, interleaved in the same rounds.

On a generated workspace of `--members` members (120 by default) each round runs, in turn:
- `uv workspace list` (the baseline for the workspace commands);
- `codegen-lab ws graph` and `codegen-lab-uvtools graph` (the same work through the umbrella and on its own);
- `codegen-lab ws affected --since HEAD` in a git repository of the workspace;
- `codegen-lab --version`;
- `codegen-lab rules lint` on a repository with one rule file.
It prints the median wall time and CPU (user + system of the child) of each, and the ratios the issues set targets
for: `ws graph` <= 5x `uv workspace list`, `ws affected` <= 10x, the umbrella <= 1.2x the library's own command,
`--version` <= 0.15 s CPU, `rules lint` <= 0.35 s CPU.

Bytecode is written, as on a user's machine (`PYTHONDONTWRITEBYTECODE` is removed for the programs timed), and a
warm-up round runs first.

Run: `uv run --all-packages python benchmarks/command_startup.py [--members 120] [--rounds 15]`.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from uv import find_uv_bin

BIN = Path(sys.executable).parent


def generate(root: Path, size: int) -> None:
    """A virtual workspace of `size` members in a chain of light dependencies, committed to git."""
    (root / "packages").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "root"\nversion = "0"\nrequires-python = ">=3.12"\n\n'
        '[tool.uv]\npackage = false\n\n[tool.uv.workspace]\nmembers = ["packages/*"]\n',
        encoding="utf-8",
    )
    for index in range(size):
        member = root / "packages" / f"m{index:03d}"
        (member / "src" / f"m{index:03d}").mkdir(parents=True)
        (member / "src" / f"m{index:03d}" / "__init__.py").write_text("", encoding="utf-8")
        needs = [f"m{other:03d}" for other in (index - 1, index - 7) if other >= 0]
        dependencies = ", ".join(f'"{name}"' for name in needs)
        sources = "".join(f"{name} = {{ workspace = true }}\n" for name in needs)
        (member / "pyproject.toml").write_text(
            f'[project]\nname = "m{index:03d}"\nversion = "0.1.0"\nrequires-python = ">=3.12"\n'
            f"dependencies = [{dependencies}]\n\n[tool.uv.sources]\n{sources}\n"
            '[build-system]\nrequires = ["uv_build>=0.13,<0.14"]\nbuild-backend = "uv_build"\n',
            encoding="utf-8",
        )
    git = ["git", "-C", str(root), "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "workspace"], check=True)
    (root / "packages" / "m010" / "src" / "m010" / "__init__.py").write_text("X = 1\n", encoding="utf-8")


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and child CPU seconds of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed ({completed.returncode}): {completed.stderr[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=120)
    parser.add_argument("--rounds", type=int, default=15)
    options = parser.parse_args()
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["UV_OFFLINE"] = "1"
    with tempfile.TemporaryDirectory(prefix="codegen-lab-bench-") as scratch:
        workspace = Path(scratch) / "workspace"
        generate(workspace, options.members)
        rules = Path(scratch) / "rules"
        (rules / ".cursor" / "rules").mkdir(parents=True)
        (rules / ".cursor" / "rules" / "python.mdc").write_text(
            "---\ndescription: Python\nglobs: **/*.py\n---\nAnnotate every function.\n", encoding="utf-8"
        )
        (rules / "app.py").write_text("def f() -> int:\n    return 1\n", encoding="utf-8")
        commands = {
            "uv workspace list": ([find_uv_bin(), "workspace", "list"], workspace),
            "codegen-lab ws graph": ([str(BIN / "codegen-lab"), "ws", "graph"], workspace),
            "codegen-lab-uvtools graph": ([str(BIN / "codegen-lab-uvtools"), "graph"], workspace),
            "codegen-lab ws affected --since HEAD": (
                [str(BIN / "codegen-lab"), "ws", "affected", "--since", "HEAD"],
                workspace,
            ),
            "codegen-lab --version": ([str(BIN / "codegen-lab"), "--version"], workspace),
            "codegen-lab rules lint": ([str(BIN / "codegen-lab"), "rules", "lint"], rules),
        }
        for command, cwd in commands.values():  # warm-up: bytecode, caches
            timed(command, cwd, env)
        walls: dict[str, list[float]] = {name: [] for name in commands}
        cpus: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(options.rounds):
            for name, (command, cwd) in commands.items():
                wall, cpu = timed(command, cwd, env)
                walls[name].append(wall)
                cpus[name].append(cpu)
    median = {name: statistics.median(values) for name, values in walls.items()}
    median_cpu = {name: statistics.median(values) for name, values in cpus.items()}
    print(f"{options.members} members, {options.rounds} interleaved rounds, medians")
    for name in commands:
        print(f"  {name:40s} wall {median[name] * 1000:7.1f} ms   cpu {median_cpu[name] * 1000:7.1f} ms")
    uv = median["uv workspace list"]
    checks = [
        ("ws graph / uv workspace list", median["codegen-lab ws graph"] / uv, 5.0),
        ("ws affected / uv workspace list", median["codegen-lab ws affected --since HEAD"] / uv, 10.0),
        (
            "codegen-lab ws graph / codegen-lab-uvtools graph",
            median["codegen-lab ws graph"] / median["codegen-lab-uvtools graph"],
            1.2,
        ),
        ("codegen-lab --version CPU (s)", median_cpu["codegen-lab --version"], 0.15),
        ("codegen-lab rules lint CPU (s)", median_cpu["codegen-lab rules lint"], 0.35),
    ]
    cpu_ratio = median_cpu["codegen-lab ws graph"] / median_cpu["uv workspace list"]
    print(f"  {'ws graph / uv workspace list, CPU (busy machines)':50s} {cpu_ratio:6.2f}")
    failed = False
    for label, value, target in checks:
        verdict = "ok" if value <= target else "over"
        failed |= value > target
        print(f"  {label:50s} {value:6.2f} (target <= {target:g}: {verdict})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
