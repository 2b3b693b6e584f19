"""Questions about a workspace's lock: why a package is there, what changed between revisions, is it fresh."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.version import InvalidVersion, Version

from codegen_lab.uvtools._lock import Lock, LockPackage, parse_lock, read_lock
from codegen_lab.uvtools._model import normalize_name
from codegen_lab.uvtools._process import git, run, uv_binary
from codegen_lab.uvtools.errors import CommandError, LockFileError, WorkspaceError

if TYPE_CHECKING:
    from codegen_lab.uvtools._tool_results import (
        LockCheckResult,
        LockDiffResult,
        MemberPaths as MemberPathsResult,
        PackageChange as PackageChangeResult,
        WhyResult,
    )

__all__ = [
    "LockCheck",
    "LockDiff",
    "MemberPaths",
    "PackageChange",
    "PathFinder",
    "check_lock",
    "check_ref",
    "diff_locks",
    "lock_at",
    "member_closure",
    "uv_message",
    "why",
    "why_by_member",
    "why_result",
]

MAX_PATHS = 200
PATHS_PER_MEMBER = 20
COUNT_CAP = 100_000
KEPT_PATHS = 2_000  # the shortest paths shown are the shortest of these


def why(lock: Lock, package: str, *, limit: int = MAX_PATHS) -> list[list[str]]:
    """Every path from a workspace member to `package` in the lock, each as `["member", "dep", ..., "package"]`.

    Steps through an extra or a group are written `name[extra]` or `name (group dev)`. At most `limit` paths,
    shared fairly among the members (see `why_by_member` for the counts and what was cut).

    Raises:
        WorkspaceError: When the lock holds no package called `package`.
    """
    groups = why_by_member(lock, package, limit=max(1, limit // max(1, len(lock.member_names))))
    return [list(path) for group in groups for path in group.paths][:limit]


@dataclass(frozen=True, slots=True)
class MemberPaths:
    """One member's paths to a package.

    Attributes:
        member: The member.
        paths: Its first paths (shortest first), each `["member", "dep", ..., "package"]`.
        total: How many paths it has (counted up to `COUNT_CAP`).
        truncated: Whether `paths` holds fewer than `total`.
        exact: Whether `total` is exact (false when the count stopped at `COUNT_CAP`).
    """

    member: str
    paths: tuple[tuple[str, ...], ...]
    total: int
    truncated: bool
    exact: bool = True

    def to_result(self) -> MemberPathsResult:
        """The member's paths as the result the CLI prints as JSON and the MCP tool returns."""
        from codegen_lab.uvtools._tool_results import MemberPaths as MemberPathsResult  # noqa: PLC0415

        return MemberPathsResult(
            member=self.member,
            paths=[list(path) for path in self.paths],
            total=self.total,
            truncated=self.truncated,
            exact=self.exact,
        )


def why_result(package: str, groups: Sequence[MemberPaths]) -> WhyResult:
    """Why `package` is locked, from `why_by_member`'s groups: for the CLI's JSON and the MCP tool alike."""
    from codegen_lab.uvtools._tool_results import WhyResult  # noqa: PLC0415

    return WhyResult(
        package=package,
        members=[group.to_result() for group in groups],
        total=sum(group.total for group in groups),
        truncated=any(group.truncated for group in groups),
        paths=[list(path) for group in groups for path in group.paths],
    )


def why_by_member(lock: Lock, package: str, *, limit: int = PATHS_PER_MEMBER) -> list[MemberPaths]:
    """Each member that needs `package` (directly or through any extra or group), with its paths to it.

    Every member that needs it is listed, sorted by name; each keeps its `limit` shortest paths and says how many
    it has in all.

    Raises:
        WorkspaceError: When the lock holds no package called `package`.
    """
    if not lock.by_name(normalize_name(package)):
        raise WorkspaceError(f"the lock holds no package called {package!r}", hint="Check the name, or run `uv lock`")
    return PathFinder(lock).by_member(package, limit=limit)


class PathFinder:
    """Paths in a lock's dependency graph from workspace members to a package, for many questions on one lock.

    It walks only through packages from which the target can be reached, so a dead end is never explored.
    """

    def __init__(self, lock: Lock) -> None:
        """Index `lock`'s edges backwards (which packages need each package)."""
        self.lock = lock
        self._needed_by: dict[str, list[LockPackage]] = {}
        for current in lock.packages:
            for dependency, _ in lock.edges(current):
                found = lock.resolve(dependency)
                if found is not None:
                    self._needed_by.setdefault(found.key, []).append(current)

    def paths(
        self, package: str, *, version: str | None = None, members: Iterable[str] | None = None, limit: int = MAX_PATHS
    ) -> dict[str, list[list[str]]]:
        """Each member's paths to `package` (only its locked `version` when given), at most `limit` per member.

        Members with no path to it are left out; `members` restricts the answer to those members.
        """
        goal, reaching = self._reaching(package, version)
        wanted = set(self.lock.member_names)
        if members is not None:
            wanted &= {normalize_name(member) for member in members}
        found_paths: dict[str, list[list[str]]] = {}
        for start in self.lock.packages:
            if start.name in wanted and start.key in reaching:
                found_paths.setdefault(start.name, []).extend(self._walk(start, goal, reaching, limit))
        return found_paths

    def by_member(
        self, package: str, *, version: str | None = None, limit: int = PATHS_PER_MEMBER
    ) -> list[MemberPaths]:
        """Each member's shortest `limit` paths to `package` and its count of paths (see `why_by_member`)."""
        goal, reaching = self._reaching(package, version)
        wanted = set(self.lock.member_names)
        found: list[MemberPaths] = []
        for start in sorted(self.lock.packages, key=lambda p: p.name):
            if start.name in wanted and start.key in reaching:
                paths, total = self._walk_counting(start, goal, reaching, KEPT_PATHS, COUNT_CAP)
                shown = tuple(tuple(path) for path in sorted(paths, key=len)[:limit])
                found.append(MemberPaths(start.name, shown, total, total > len(shown), total < COUNT_CAP))
        return found

    def _reaching(self, package: str, version: str | None) -> tuple[set[str], set[str]]:
        target = normalize_name(package)
        goal = {found.key for found in self.lock.by_name(target) if version is None or _same_version(found, version)}
        reaching = set(goal)
        stack = list(goal)
        while stack:
            for parent in self._needed_by.get(stack.pop(), ()):
                if parent.key not in reaching:
                    reaching.add(parent.key)
                    stack.append(parent.key)
        return goal, reaching

    def _walk(self, start: LockPackage, goal: set[str], reaching: set[str], limit: int) -> list[list[str]]:
        return self._walk_counting(start, goal, reaching, limit, limit)[0]

    def _walk_counting(
        self, start: LockPackage, goal: set[str], reaching: set[str], keep: int, cap: int
    ) -> tuple[list[list[str]], int]:
        """The first `keep` paths from `start` to the goal, and how many there are (counted up to `cap`)."""
        lock = self.lock
        paths: list[list[str]] = []
        count = 0

        def visit(current: LockPackage, trail: list[str], seen: set[str]) -> None:
            nonlocal count
            if count >= cap:
                return
            if current.key in goal:
                count += 1
                if len(paths) < keep:
                    paths.append(trail)
                return
            for dependency, how in lock.edges(current):
                found = lock.resolve(dependency)
                if found is None or found.key in seen or found.key not in reaching:
                    continue
                label = found.name + (f"[{','.join(dependency.extras)}]" if dependency.extras else "")
                step = f"{label} ({how})" if how else label
                visit(found, [*trail, step], seen | {found.key})

        visit(start, [start.name], {start.key})
        return paths, count


def _same_version(package: LockPackage, version: str) -> bool:
    if package.version == version:
        return True
    try:
        return package.version is not None and Version(package.version) == Version(version)
    except InvalidVersion:
        return False


def member_closure(lock: Lock, member: str) -> dict[str, str]:
    """Every package `member` needs in the lock, through any extra or group, mapped to its version(s).

    Several locked versions of one package (forks) are joined with `, `.
    """
    start = [p for p in lock.packages if p.name == member]
    found: dict[str, set[str]] = {}
    seen: set[str] = set()
    stack = list(start)
    while stack:
        current = stack.pop()
        if current.key in seen:
            continue
        seen.add(current.key)
        if current.name != member:
            found.setdefault(current.name, set()).add(current.version or "")
        stack.extend(p for dep, _ in lock.edges(current) if (p := lock.resolve(dep)) is not None)
    return {name: ", ".join(sorted(versions)) for name, versions in sorted(found.items())}


@dataclass(frozen=True, slots=True)
class PackageChange:
    """A package whose locked version changed: `kind` is `added`, `removed`, `upgraded` or `downgraded`."""

    name: str
    kind: str
    before: str | None
    after: str | None

    def to_result(self) -> PackageChangeResult:
        """The change as the result the CLI prints as JSON and the MCP tool returns."""
        from codegen_lab.uvtools._tool_results import PackageChange as PackageChangeResult  # noqa: PLC0415

        return PackageChangeResult(name=self.name, kind=self.kind, before=self.before, after=self.after)

    def describe(self) -> str:
        """One line for people: `upgraded   idna 3.6 -> 3.10`, `added      idna 3.10`, `removed    idna 3.6`."""
        if self.before is None or self.after is None:
            return f"{self.kind:<10} {self.name} {self.after or self.before or ''}".rstrip()
        return f"{self.kind:<10} {self.name} {self.before} -> {self.after}"


@dataclass(frozen=True, slots=True)
class LockDiff:
    """What changed between two locks: over the whole lock, and in what each member needs."""

    before: str
    after: str
    changes: tuple[PackageChange, ...]
    members: dict[str, tuple[PackageChange, ...]]

    def to_result(self) -> LockDiffResult:
        """The diff as the result the CLI prints as JSON and the MCP tool returns."""
        from codegen_lab.uvtools._tool_results import LockDiffResult  # noqa: PLC0415

        return LockDiffResult(
            before=self.before,
            after=self.after,
            changes=[change.to_result() for change in self.changes],
            members={name: [change.to_result() for change in changes] for name, changes in self.members.items()},
        )


def _compare(before: dict[str, str], after: dict[str, str]) -> tuple[PackageChange, ...]:
    changes: list[PackageChange] = []
    for name in sorted(before.keys() | after.keys()):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if old is None:
            kind = "added"
        elif new is None:
            kind = "removed"
        else:
            kind = "upgraded" if _newer(new, old) else "downgraded"
        changes.append(PackageChange(name, kind, old, new))
    return tuple(changes)


def _newer(new: str, old: str) -> bool:
    try:
        return max(Version(v) for v in new.split(", ")) > max(Version(v) for v in old.split(", "))
    except InvalidVersion:
        return new > old


def _all_versions(lock: Lock) -> dict[str, str]:
    return {name: ", ".join(sorted(versions)) for name, versions in lock.versions().items()}


def diff_locks(before: Lock, after: Lock, *, labels: tuple[str, str] = ("before", "after")) -> LockDiff:
    """Compare two locks, over all packages and per workspace member (what each needs, transitively)."""
    members = sorted(set(before.member_names) | set(after.member_names))
    per_member = {
        member: changes
        for member in members
        if (changes := _compare(member_closure(before, member), member_closure(after, member)))
    }
    return LockDiff(labels[0], labels[1], _compare(_all_versions(before), _all_versions(after)), per_member)


def lock_at(root: Path, ref: str | None) -> Lock:
    """The workspace's uv.lock at git revision `ref`, or in the working tree when `ref` is None.

    Raises:
        LockFileError: When there is no uv.lock at that revision or it cannot be read.
        CommandError: When git fails (an unknown ref, not a repository).
    """
    if ref is None:
        return read_lock(root / "uv.lock")
    check_ref(root, ref)
    prefix = git(root, "rev-parse", "--show-prefix").stdout.strip()
    completed = git(root, "show", f"{ref}:{prefix}uv.lock", check=False)
    if completed.returncode != 0:
        raise LockFileError(f"not found at {ref}: {completed.stderr.strip()}", path=f"{ref}:{prefix}uv.lock")
    return parse_lock(completed.stdout, origin=f"{ref}:{prefix}uv.lock")


def check_ref(root: Path, ref: str) -> None:
    """Refuse `ref` unless it names a commit of the repository at `root`.

    Raises:
        WorkspaceError: When `ref` looks like an option or names no commit.
        CommandError: When `root` is not in a git repository.
    """
    if not ref or ref.startswith("-"):
        raise WorkspaceError(f"{ref!r} is not a git revision", hint="Pass a branch, tag or commit, such as main")
    completed = git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}", check=False)
    if completed.returncode != 0:
        if "not a git repository" in completed.stderr:
            raise CommandError(["git", "rev-parse", ref], completed.returncode, completed.stderr)
        raise WorkspaceError(f"{ref!r} is not a known git revision", hint="Pass a branch, tag or commit, such as main")


@dataclass(frozen=True, slots=True)
class LockCheck:
    """Whether the lock matches the pyproject files (`uv lock --check`), what uv said, and how it differs.

    Attributes:
        fresh: Whether uv.lock is up to date.
        message: uv's verdict in one line, without its progress noise.
        reasons: How it differs, read from the pyproject files and uv.lock (`member c is not in uv.lock`).
    """

    fresh: bool
    message: str
    reasons: tuple[str, ...] = ()

    def to_result(self) -> LockCheckResult:
        """The verdict as the result the CLI prints as JSON and the MCP tool returns."""
        from codegen_lab.uvtools._tool_results import LockCheckResult  # noqa: PLC0415

        return LockCheckResult(fresh=self.fresh, message=self.message, reasons=list(self.reasons))


_NOISE = ("Using ", "Resolved ", "Audited ", "Prepared ", "Installed ", "Uninstalled ", "Built ", "Building ")


def uv_message(output: str) -> str:
    """What uv said, on one line, without its progress lines (`Resolved 3 packages in 2ms`) and hints."""
    lines = [line.strip() for line in output.splitlines()]
    kept = [line for line in lines if line and not line.startswith(_NOISE)]
    errors = [line for line in kept if line.startswith("error:")]
    return (errors[0] if errors else " ".join(kept)).removeprefix("error: ")


def _static_reasons(root: Path) -> tuple[str, ...]:
    from codegen_lab.uvtools._edges import lock_freshness, read_lock_cached  # noqa: PLC0415
    from codegen_lab.uvtools._model import load_workspace  # noqa: PLC0415

    try:
        return lock_freshness(load_workspace(root), read_lock_cached(root / "uv.lock")).reasons
    except (WorkspaceError, LockFileError) as exc:
        return (str(exc),)


def check_lock(root: Path, *, offline: bool = False) -> LockCheck:
    """Run `uv lock --check` in the workspace at `root`, and say how the lock differs when it is stale.

    When uv cannot run (no interpreter, no network) but the pyproject files already show the lock is stale, the
    answer is stale with those reasons.

    Raises:
        CommandError: When uv fails for another reason than a stale lock and the files show no difference.
    """
    command = [uv_binary(), "lock", "--check", "--directory", str(root)] + (["--offline"] if offline else [])
    completed = run(command, cwd=root, check=False)
    output = completed.stderr or completed.stdout
    message = uv_message(output)
    if completed.returncode == 0:
        return LockCheck(True, message)
    reasons = _static_reasons(root)
    if "needs to be updated" in output or "Unable to find lockfile" in output or reasons:
        return LockCheck(False, message, reasons)
    raise CommandError(command, completed.returncode, message)
