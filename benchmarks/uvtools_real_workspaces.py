"""uvtools against uv itself on real workspaces: members, member edges, and the time of `graph`.

For each workspace root given (a checkout with a uv.lock, such as pydantic-ai, python-sdk or
opentelemetry-python-contrib): the members `uv workspace list` names against ours, the member edges uv.lock holds
(read with tomllib, each `(member, member, kind)`) against `workspace_edges`, and the time of load + edges + order
in process. Then, interleaved in the same rounds, `uv workspace list`, `codegen-lab-uvtools graph`, `codegen-lab ws
graph` (the umbrella) and, in a git work tree, `codegen-lab ws affected --since HEAD`: the medians of each one's CPU
(user + system of the child, which a busy machine inflates less than wall time) and wall time, and each one's ratio
to `uv workspace list` (the targets: graph <= 5x, affected <= 10x).

Run: `uv run --all-packages python benchmarks/uvtools_real_workspaces.py ROOT [ROOT ...] [--rounds 5]`.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import time
import tomllib
from pathlib import Path

from uv import find_uv_bin

from codegen_lab.uvtools import Graph, load_workspace, workspace_edges
from codegen_lab.uvtools._model import normalize_name

Edge = tuple[str, str, str]


def lock_edges(root: Path) -> set[Edge]:
    """The member-to-member edges in uv.lock, read with tomllib: what uv resolved."""
    document = tomllib.loads((root / "uv.lock").read_text(encoding="utf-8"))
    members = set(document["manifest"]["members"])
    found: set[Edge] = set()
    for package in document["package"]:
        local = any(key in package["source"] for key in ("editable", "virtual", "directory"))
        if package["name"] not in members or not local:
            continue
        tables = [("project", package.get("dependencies", []))]
        tables += [(f"extra:{name}", items) for name, items in package.get("optional-dependencies", {}).items()]
        tables += [(f"group:{name}", items) for name, items in package.get("dev-dependencies", {}).items()]
        found |= {
            (package["name"], item["name"], kind)
            for kind, items in tables
            for item in items
            if item["name"] in members and item["name"] != package["name"]
        }
    return found


def timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """CPU seconds (user + system of the child) and wall seconds of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, capture_output=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def medians_ms(commands: dict[str, list[str]], cwd: Path, rounds: int) -> dict[str, tuple[float, float]]:
    """Each command's median CPU and wall milliseconds, the commands interleaved in each round after a warm-up."""
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for round_number in range(rounds + 1):
        for name, command in commands.items():
            result = timed(command, cwd)
            if round_number:
                runs[name].append(result)
    return {
        name: (statistics.median(c for c, _ in found) * 1000, statistics.median(w for _, w in found) * 1000)
        for name, found in runs.items()
    }


def cell(found: dict[str, tuple[float, float]], name: str) -> str:
    """`cpu / wall (ratios to uv workspace list)` of one command."""
    if name not in found:
        return "(not a git work tree)"
    cpu, wall = found[name]
    return f"{cpu:.0f} / {wall:.0f} ({cpu / found['uv'][0]:.1f}x / {wall / found['uv'][1]:.1f}x)"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("roots", nargs="+", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    uv = find_uv_bin()
    binaries = Path(sys.executable).parent
    ours_cli = shutil.which("codegen-lab-uvtools", path=str(binaries)) or "codegen-lab-uvtools"
    umbrella = shutil.which("codegen-lab", path=str(binaries)) or "codegen-lab"
    print(
        "| workspace | members uv / ours | edges lock / ours (pairs) | mismatches | in process ms "
        "| uv list cpu / wall ms | graph cpu / wall ms (x uv) | ws graph cpu / wall ms (x uv) "
        "| ws affected cpu / wall ms (x uv) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for root in args.roots:
        listed = subprocess.run([uv, "workspace", "list"], cwd=root, capture_output=True, text=True, check=True)
        uv_members = {normalize_name(name) for name in listed.stdout.split()}
        started = time.perf_counter()
        workspace = load_workspace(root)
        edges = workspace_edges(workspace)
        Graph.of(workspace, edges=edges).order()
        in_process = (time.perf_counter() - started) * 1000
        ours = {tuple(edge) for edge in edges.edges}
        expected = lock_edges(root)
        mismatches = len(uv_members ^ set(workspace.names)) + len(expected ^ ours)
        pairs = len({(a, b) for a, b, _ in ours})
        commands = {
            "uv": [uv, "workspace", "list"],
            "graph": [ours_cli, "graph"],
            "ws graph": [umbrella, "ws", "graph"],
        }
        in_git = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, check=False)
        if in_git.returncode == 0:
            commands["ws affected"] = [umbrella, "ws", "affected", "--since", "HEAD"]
        found = medians_ms(commands, root, args.rounds)
        uv_cpu, uv_wall = found["uv"]

        print(
            f"| {root.name} | {len(uv_members)} / {len(workspace.names)} | {len(expected)} / {len(ours)} ({pairs}) "
            f"| {mismatches} | {in_process:.0f} ({edges.origin}) | {uv_cpu:.0f} / {uv_wall:.0f} "
            f"| {cell(found, 'graph')} | {cell(found, 'ws graph')} | {cell(found, 'ws affected')} |"
        )


if __name__ == "__main__":
    main()
