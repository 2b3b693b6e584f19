"""`affected` on a generated 200-member workspace in a git repository: target <= 20 ms beyond `git diff`.

Each round times `git diff --name-only REF` alone (the baseline), then uvtools' `affected` in process on a
workspace already read (as the MCP server or a caller holding a `Workspace` runs it: `git diff` and the untracked
files listed together, files mapped to members, dependents collected), then the same including reading the 200
pyproject files (parse cache cleared). It prints medians, and the time beyond `git diff` for both.

Run: `uv run --all-packages python benchmarks/uvtools_affected.py [--members 200] [--rounds 25]`.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from uvtools_graph import arguments, generate

from codegen_lab.uvtools import affected, load_workspace
from codegen_lab.uvtools._model import _read_cached, normalize_name
from codegen_lab.uvtools._requirements import parse_requirement

TARGET_MS = 20.0


def git(root: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.com"}
    env |= {"GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.com"}
    subprocess.run([shutil.which("git") or "git", "-C", str(root), *args], check=True, capture_output=True, env=env)


def main() -> None:
    args = arguments(__doc__ or "")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        generate(root, args.members)
        git(root, "init", "-q", "-b", "main")
        git(root, "add", "-A")
        git(root, "commit", "-qm", "start")
        for index in (3, 50, 120):
            (root / "packages" / f"member-{index:03d}" / "pyproject.toml").open("a").write("# changed\n")
        executable = shutil.which("git") or "git"
        baseline: list[float] = []
        ours: list[float] = []
        loaded: list[float] = []
        workspace = load_workspace(root, members_from="pyproject")
        for _ in range(args.rounds):
            started = time.perf_counter()
            subprocess.run(
                [executable, "-C", str(root), "diff", "--name-only", "HEAD"], check=True, capture_output=True
            )
            baseline.append(time.perf_counter() - started)
            started = time.perf_counter()
            affected(workspace, "HEAD")
            loaded.append(time.perf_counter() - started)
            _read_cached.cache_clear()
            parse_requirement.cache_clear()
            normalize_name.cache_clear()
            started = time.perf_counter()
            result = affected(load_workspace(root, members_from="pyproject"), "HEAD")
            ours.append(time.perf_counter() - started)
            assert len(result.changed) == 3
    git_ms = statistics.median(baseline) * 1000
    ours_ms = statistics.median(ours) * 1000
    loaded_ms = statistics.median(loaded) * 1000
    print(f"affected on {args.members} members, 3 changed, {args.rounds} rounds ({len(result.affected)} affected)")
    print(f"  git diff --name-only alone               : median {git_ms:7.2f} ms")
    print(f"  uvtools affected, workspace already read : median {loaded_ms:7.2f} ms")
    print(f"    beyond git diff                        : {loaded_ms - git_ms:7.2f} ms  (target <= {TARGET_MS:.0f} ms)")
    print(f"  uvtools affected, reading the workspace  : median {ours_ms:7.2f} ms")
    print(f"    beyond git diff                        : {ours_ms - git_ms:7.2f} ms")
    print(f"  target met (workspace already read): {loaded_ms - git_ms <= TARGET_MS}")


if __name__ == "__main__":
    main()
