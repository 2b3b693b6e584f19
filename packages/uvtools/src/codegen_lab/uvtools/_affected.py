"""Which members a change touches: changed files, the members that own them, then their transitive dependents."""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from codegen_lab.uvtools._graph import Graph
from codegen_lab.uvtools._lockops import check_ref, diff_locks, lock_at
from codegen_lab.uvtools._model import Workspace, glob_members
from codegen_lab.uvtools._process import git, git_together
from codegen_lab.uvtools.errors import CommandError, LockFileError

__all__ = ["Affected", "affected", "changed_files"]

logger = logging.getLogger(__name__)

# Root files that change how every member is resolved or run.
_WHOLE_WORKSPACE = frozenset({".python-version", "uv.toml"})


@dataclass(frozen=True, slots=True)
class Affected:
    """The outcome of `affected`.

    Attributes:
        since: The git revision compared with the working tree.
        files: The changed files, relative to the workspace root (untracked ones included).
        changed: Members that own a changed file, or that a change to a root file or the lock touches. Sorted.
        affected: `changed` and every member that depends on one of them, transitively. Sorted.
        reasons: For each changed member, the files (or `uv.lock: NAME`) that make it changed.
    """

    since: str
    files: tuple[str, ...]
    changed: tuple[str, ...]
    affected: tuple[str, ...]
    reasons: dict[str, list[str]] = field(default_factory=dict[str, list[str]])

    def as_json(self) -> dict[str, Any]:
        """The JSON contract: `{"changed": [...], "affected": [...]}`."""
        return {"changed": list(self.changed), "affected": list(self.affected)}


def changed_files(root: Path, since: str) -> list[str]:
    """Files that differ between `since` and the working tree under `root`, plus untracked ones, sorted.

    Raises:
        WorkspaceError: When `since` is not a known revision (or looks like an option).
        CommandError: When git fails otherwise (not a repository).
    """
    if not since or since.startswith("-"):
        check_ref(root, since)
    diff, untracked = git_together(
        root,
        ["diff", "--name-only", "--no-renames", "--relative", "-z", since, "--"],
        ["ls-files", "--others", "--exclude-standard", "-z"],
    )
    if diff.returncode != 0:
        check_ref(root, since)  # names an unknown revision as the caller's mistake
        raise CommandError(diff.args, diff.returncode, diff.stderr)
    if untracked.returncode != 0:
        raise CommandError(untracked.args, untracked.returncode, untracked.stderr)
    return sorted({name for name in (*diff.stdout.split("\0"), *untracked.stdout.split("\0")) if name})


def _root_pyproject_changes(workspace: Workspace, since: str) -> tuple[set[str], str]:
    """Members touched by a change of the root pyproject.toml, and why."""
    completed = git(workspace.root, "show", f"{since}:./pyproject.toml", check=False)
    if completed.returncode != 0:
        return set(workspace.names), "pyproject.toml (new)"
    try:
        before = tomllib.loads(completed.stdout)
        after = tomllib.loads((workspace.root / "pyproject.toml").read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, OSError):
        return set(workspace.names), "pyproject.toml (unreadable)"
    uv_before = dict(cast("dict[str, Any]", before.get("tool", {}).get("uv", {})))
    uv_after = dict(cast("dict[str, Any]", after.get("tool", {}).get("uv", {})))
    table_before = cast("dict[str, Any]", uv_before.pop("workspace", {}))
    table_after = cast("dict[str, Any]", uv_after.pop("workspace", {}))
    if uv_before != uv_after:
        return set(workspace.names), "pyproject.toml [tool.uv]"
    if table_before == table_after:
        return set(), ""
    old = set(
        glob_members(workspace.root, tuple(table_before.get("members", [])), tuple(table_before.get("exclude", [])))
    )
    added = {member.name for member in workspace.members if member.relative != "." and member.path not in old}
    return added, "pyproject.toml [tool.uv.workspace]"


def affected(workspace: Workspace, since: str, *, graph: Graph | None = None) -> Affected:
    """The members a change since `since` touches, and every member that depends on them.

    A file belongs to the deepest member whose folder holds it (the root, when it is a project, holds the rest).
    A change to `uv.lock` touches the members whose locked dependencies changed; one to the root's `[tool.uv]`,
    `.python-version` or `uv.toml` touches every member; one to `[tool.uv.workspace]` touches the members it adds.

    Raises:
        WorkspaceError: When `since` is not a usable revision.
        CommandError: When git fails.
    """
    files = changed_files(workspace.root, since)
    reasons: dict[str, list[str]] = {}
    names = set(workspace.names)

    def touch(names: set[str] | list[str], why: str) -> None:
        for name in names:
            reasons.setdefault(name, []).append(why)

    for name in files:
        owner = workspace.owner_of(name)
        if name == "uv.lock":
            try:
                diff = diff_locks(lock_at(workspace.root, since), lock_at(workspace.root, None))
                touch([member for member in diff.members if member in names], "uv.lock")
            except LockFileError as exc:
                logger.info("uv.lock cannot be compared with %s (%s): every member is touched", since, exc)
                touch(list(workspace.names), "uv.lock (new or unreadable)")
            continue
        if name == "pyproject.toml":
            names, why = _root_pyproject_changes(workspace, since)
            touch(names, why)
        elif name in _WHOLE_WORKSPACE:
            touch(list(workspace.names), name)
        if owner is not None:
            touch([owner.name], name)
    changed = sorted(reasons)
    dependents = (graph or Graph.of(workspace)).dependents_of(changed)
    return Affected(since, tuple(files), tuple(changed), tuple(dependents), reasons)
