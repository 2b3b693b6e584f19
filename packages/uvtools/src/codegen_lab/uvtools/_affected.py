"""Which members a change touches: changed files, the members that own them, then their transitive dependents."""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from codegen_lab.uvtools._graph import Graph
from codegen_lab.uvtools._lockops import check_ref, diff_locks, lock_at, member_closure
from codegen_lab.uvtools._model import Workspace, glob_members, normalize_name
from codegen_lab.uvtools._process import git, git_together
from codegen_lab.uvtools.errors import CommandError, LockFileError, WorkspaceError

if TYPE_CHECKING:
    from codegen_lab.uvtools._tool_results import AffectedResult

__all__ = ["Affected", "GitRange", "affected", "changed_files", "github_matrix", "resolve_range"]

logger = logging.getLogger(__name__)

# Root files that change how every member is resolved or run.
_WHOLE_WORKSPACE = frozenset({".python-version", "uv.toml"})


@dataclass(frozen=True, slots=True)
class Affected:
    """The outcome of `affected`.

    Attributes:
        since: What was compared: a revision (its merge-base with HEAD to the working tree), `A..B` or `A...B`.
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

    def to_result(self) -> AffectedResult:
        """The outcome as the result the CLI prints as JSON and the MCP tool returns."""
        from codegen_lab.uvtools._tool_results import AffectedResult  # noqa: PLC0415

        return AffectedResult(
            changed=list(self.changed),
            affected=list(self.affected),
            files=list(self.files),
            reasons={name: list(files) for name, files in self.reasons.items()},
        )


@dataclass(frozen=True, slots=True)
class GitRange:
    """What `since` compares: the commit `base` with the commit `head`, or with the working tree when `head` is None.

    Attributes:
        base: The base commit id.
        head: The head commit id, or None for the working tree (HEAD, uncommitted and untracked files).
    """

    base: str
    head: str | None


def _commit(root: Path, ref: str) -> str:
    check_ref(root, ref)
    return git(root, "rev-parse", "--verify", "--end-of-options", f"{ref}^{{commit}}").stdout.strip()


def _merge_base(root: Path, first: str, second: str) -> str:
    one, two = _commit(root, first), _commit(root, second)
    completed = git(root, "merge-base", one, two, check=False)
    if completed.returncode == 0:
        return completed.stdout.strip()
    shallow = git(root, "rev-parse", "--is-shallow-repository", check=False).stdout.strip() == "true"
    if shallow:
        raise WorkspaceError(
            f"{first} and {second} have no common ancestor in this shallow clone",
            hint="Fetch more history: `git fetch --deepen=200` (or `git fetch --unshallow`)",
        )
    raise WorkspaceError(f"{first} and {second} have no common ancestor", hint="Pass A..B to compare two commits")


def _require_git(root: Path) -> None:
    completed = git(root, "rev-parse", "--is-inside-work-tree", check=False)
    if completed.returncode != 0 or completed.stdout.strip() != "true":
        raise WorkspaceError(
            "not a git repository (or not its work tree): changes are found by comparing git revisions",
            path=root,
            hint="Run it in a git checkout",
        )


def resolve_range(root: Path, since: str) -> GitRange:
    """What `since` means, as Nx and Pants read `--changed-since`.

    `REF`: from `merge-base(REF, HEAD)` to the working tree (HEAD, uncommitted and untracked files);
    `A..B`: from commit A to commit B; `A...B`: from `merge-base(A, B)` to B. An empty side is `HEAD`.

    Raises:
        WorkspaceError: When `root` is not in a git work tree, a revision is unknown (or looks like an option),
            or the two sides have no common ancestor (in a shallow clone the hint says how to deepen it).
    """
    _require_git(root)
    if "..." in since:
        first, second = since.split("...", 1)
        return GitRange(_merge_base(root, first or "HEAD", second or "HEAD"), _commit(root, second or "HEAD"))
    if ".." in since:
        first, second = since.split("..", 1)
        return GitRange(_commit(root, first or "HEAD"), _commit(root, second or "HEAD"))
    return GitRange(_merge_base(root, since, "HEAD"), None)


def changed_files(root: Path, since: str | GitRange) -> list[str]:
    """Files that changed in `since` (see `resolve_range`) under `root`, untracked ones included, sorted.

    Raises:
        WorkspaceError: When `root` is not in a git work tree or `since` is not a usable revision or range.
        CommandError: When git fails otherwise.
    """
    found = since if isinstance(since, GitRange) else resolve_range(root, since)
    diff_command = ["diff", "--name-only", "--no-renames", "--relative", "-z", found.base]
    if found.head is not None:
        (diff,) = git_together(root, [*diff_command, found.head, "--"])
        listed = diff.stdout.split("\0")
    else:
        diff, untracked = git_together(
            root, [*diff_command, "--"], ["ls-files", "--others", "--exclude-standard", "-z"]
        )
        if untracked.returncode != 0:
            raise CommandError(untracked.args, untracked.returncode, untracked.stderr)
        listed = [*diff.stdout.split("\0"), *untracked.stdout.split("\0")]
    if diff.returncode != 0:
        raise CommandError(diff.args, diff.returncode, diff.stderr)
    return sorted({name for name in listed if name})


def _text_at(root: Path, ref: str | None, name: str) -> str | None:
    """The text of `name` (relative to `root`) at commit `ref`, or in the working tree; None when absent."""
    if ref is None:
        try:
            return (root / name).read_text(encoding="utf-8")
        except OSError:
            return None
    completed = git(root, "show", f"{ref}:./{name}", check=False)
    return completed.stdout if completed.returncode == 0 else None


def _tool_uv(text: str) -> dict[str, Any]:
    tool: object = tomllib.loads(text).get("tool", {})
    found: object = cast("dict[str, object]", tool).get("uv", {}) if isinstance(tool, dict) else {}
    return dict(cast("dict[str, Any]", found)) if isinstance(found, dict) else {}


def _changed_keys(before: object, after: object) -> set[str]:
    old = cast("dict[str, object]", before) if isinstance(before, dict) else {}
    new = cast("dict[str, object]", after) if isinstance(after, dict) else {}
    return {normalize_name(key) for key in old.keys() | new.keys() if old.get(key) != new.get(key)}


def _needing(workspace: Workspace, packages: set[str], *, through_lock: bool) -> set[str]:
    """Members that declare one of `packages`, or (`through_lock`) need one of them anywhere in uv.lock."""
    found = {m.name for m in workspace.members if any(dep.name in packages for dep in m.dependencies)}
    if through_lock and (workspace.root / "uv.lock").is_file():
        try:
            lock = lock_at(workspace.root, None)
        except LockFileError:
            return set(workspace.names)
        found |= {name for name in workspace.names if packages & set(member_closure(lock, name))}
    return found


def _root_pyproject_changes(workspace: Workspace, span: GitRange) -> dict[str, str]:
    """Members touched by a change of the root pyproject.toml, each with why."""
    before_text = _text_at(workspace.root, span.base, "pyproject.toml")
    after_text = _text_at(workspace.root, span.head, "pyproject.toml")
    if before_text is None or after_text is None:
        return dict.fromkeys(workspace.names, "pyproject.toml (new)")
    try:
        uv_before, uv_after = _tool_uv(before_text), _tool_uv(after_text)
    except tomllib.TOMLDecodeError:
        return dict.fromkeys(workspace.names, "pyproject.toml (unreadable)")
    sources = _changed_keys(uv_before.pop("sources", {}), uv_after.pop("sources", {}))
    newer = _changed_keys(uv_before.pop("exclude-newer-package", {}), uv_after.pop("exclude-newer-package", {}))
    table_before = cast("dict[str, Any]", uv_before.pop("workspace", {}))
    table_after = cast("dict[str, Any]", uv_after.pop("workspace", {}))
    if uv_before != uv_after:
        return dict.fromkeys(workspace.names, "pyproject.toml [tool.uv]")
    touched: dict[str, str] = {}
    touched.update(dict.fromkeys(_needing(workspace, newer, through_lock=True), "pyproject.toml exclude-newer-package"))
    touched.update(dict.fromkeys(_needing(workspace, sources, through_lock=False), "pyproject.toml [tool.uv.sources]"))
    if table_before != table_after:
        members, excludes = tuple(table_before.get("members", [])), tuple(table_before.get("exclude", []))
        try:
            old = set(glob_members(workspace.root, members, excludes))
        except WorkspaceError:  # the old globs match a folder uv would refuse today: count every member as added
            old = set[Path]()
        added = {m.name for m in workspace.members if m.relative != "." and m.path not in old}
        touched.update(dict.fromkeys(added, "pyproject.toml [tool.uv.workspace]"))
    return touched


def affected(workspace: Workspace, since: str, *, graph: Graph | None = None) -> Affected:
    """The members a change in `since` touches, and every member that depends on them (any kind of edge).

    `since` is a revision (from its merge-base with HEAD to the working tree), `A..B` or `A...B`
    (see `resolve_range`). A file belongs to the deepest member whose folder holds it (the root, when it is a
    project, holds the rest). A change to `uv.lock` touches the members whose locked dependencies changed; one to
    the root's `[tool.uv.sources]` or `exclude-newer-package` the members that name those packages; one to the
    rest of the root's `[tool.uv]`, `.python-version` or `uv.toml` every member; one to `[tool.uv.workspace]`
    the members it adds.

    Raises:
        WorkspaceError: When `since` is not a usable revision or range, or the root is not in a git work tree.
        CommandError: When git fails.
    """
    span = resolve_range(workspace.root, since)
    files = changed_files(workspace.root, span)
    reasons: dict[str, list[str]] = {}
    members = set(workspace.names)

    def touch(names: Iterable[str], why: str) -> None:
        for name in names:
            reasons.setdefault(name, []).append(why)

    for name in files:
        owner = workspace.owner_of(name)
        if name == "uv.lock":
            try:
                diff = diff_locks(lock_at(workspace.root, span.base), lock_at(workspace.root, span.head))
                touch([member for member in diff.members if member in members], "uv.lock")
            except LockFileError as exc:
                logger.info("uv.lock cannot be compared with %s (%s): every member is touched", since, exc)
                touch(workspace.names, "uv.lock (new or unreadable)")
            continue
        if name == "pyproject.toml":
            for member, why in _root_pyproject_changes(workspace, span).items():
                touch([member], why)
        elif name in _WHOLE_WORKSPACE:
            touch(workspace.names, name)
        if owner is not None:
            touch([owner.name], name)
    changed = sorted(reasons)
    dependents = (graph or Graph.of(workspace)).dependents_of(changed)
    return Affected(since, tuple(files), tuple(changed), tuple(dependents), reasons)


def github_matrix(workspace: Workspace, names: Iterable[str]) -> dict[str, list[dict[str, str]]]:
    """`{"include": [{"member", "path"}]}` for `names`: what a GitHub Actions job matrix takes (`fromJSON`)."""
    return {"include": [{"member": name, "path": workspace.member(name).relative} for name in names]}
