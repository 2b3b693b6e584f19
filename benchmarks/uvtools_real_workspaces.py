"""uvtools against uv itself on real workspaces: members, member edges, and the time of `graph`.

For each workspace root given (a checkout with a uv.lock, such as pydantic-ai, python-sdk or
opentelemetry-python-contrib): the members `uv workspace list` names against ours, the member edges uv.lock holds
(read with tomllib, each `(member, member, kind)`) against `workspace_edges`, and the medians of
`codegen-lab-uvtools graph` and `uv workspace list` as processes, and of load + edges + order in process.

Run: `uv run --all-packages python benchmarks/uvtools_real_workspaces.py ROOT [ROOT ...] [--rounds 5]`.
"""

from __future__ import annotations

import argparse
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


def median_ms(command: list[str], cwd: Path, rounds: int) -> float:
    times: list[float] = []
    for _ in range(rounds):
        started = time.perf_counter()
        subprocess.run(command, cwd=cwd, capture_output=True, check=False)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("roots", nargs="+", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    uv = find_uv_bin()
    ours_cli = shutil.which("codegen-lab-uvtools", path=str(Path(sys.executable).parent)) or "codegen-lab-uvtools"
    print(
        "| workspace | members uv / ours | edges lock / ours (pairs) | mismatches | graph ms | uv list ms | in process ms |"
    )
    print("|---|---|---|---|---|---|---|")
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
        graph_ms = median_ms([ours_cli, "graph"], root, args.rounds)
        uv_ms = median_ms([uv, "workspace", "list"], root, args.rounds)
        print(
            f"| {root.name} | {len(uv_members)} / {len(workspace.names)} | {len(expected)} / {len(ours)} ({pairs}) "
            f"| {mismatches} | {graph_ms:.0f} | {uv_ms:.0f} | {in_process:.0f} ({edges.origin}) |"
        )


if __name__ == "__main__":
    main()
