"""Member-to-member edges as uv resolved them: from uv.lock when it is fresh, else from the pyproject files.

An edge carries its kind: `project` (`[project] dependencies`), `extra:NAME` (an optional-dependency group) or
`group:NAME` (a dependency group). uv.lock records what uv read when it locked, dynamic metadata included
(a hatch metadata hook that fills in `dependencies`), so it is the better source whenever it still matches the
pyproject files. Whether it does is decided here without running uv: the same members, and for each member whose
requirements are static the same names in each table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from codegen_lab.uvtools._lock import Lock, LockDependency, read_lock_members
from codegen_lab.uvtools._model import Dependency, Member, Workspace, normalize_name
from codegen_lab.uvtools.errors import LockFileError

if TYPE_CHECKING:
    from codegen_lab.uvtools._tool_results import EdgesFrom

__all__ = [
    "Edge",
    "EdgeSet",
    "Freshness",
    "edge_kind",
    "edges_by_member",
    "kind_selected",
    "lock_freshness",
    "read_lock_cached",
    "workspace_edges",
]

_EXTRA_MARKER = re.compile(r"""\bextra\s*==\s*['"]([^'"]+)['"]""")


class Edge(NamedTuple):
    """A member's direct dependency on another member.

    Attributes:
        source: The member that depends.
        target: The member it depends on.
        kind: `project`, `extra:NAME` or `group:NAME`.
    """

    source: str
    target: str
    kind: str


def edge_kind(dependency: Dependency) -> str:
    """The edge kind of a requirement declared in a pyproject.toml: `project`, `extra:NAME` or `group:NAME`."""
    if dependency.kind == "optional":
        return f"extra:{normalize_name(dependency.group or '')}"
    if dependency.kind == "group":
        return f"group:{normalize_name(dependency.group or '')}"
    return "project"


def kind_selected(kind: str, selectors: Iterable[str]) -> bool:
    """Whether edge `kind` is one of `selectors`: `all`, a kind (`group:dev`) or a family (`extra`, `group`)."""
    family = kind.split(":", 1)[0]
    return any(selector in {"all", kind, family} for selector in selectors)


class Freshness(NamedTuple):
    """Whether uv.lock still matches the pyproject files.

    Attributes:
        state: `fresh`, `stale` or `missing` (no uv.lock, or one that cannot be read).
        reasons: Why it is stale or missing, one line each (`member x is not in uv.lock`).
        unchecked: Members whose requirements are dynamic, which only a build could compare.
    """

    state: Literal["fresh", "stale", "missing"]
    reasons: tuple[str, ...] = ()
    unchecked: tuple[str, ...] = ()

    @property
    def fresh(self) -> bool:
        """Whether the lock matches."""
        return self.state == "fresh"

    def describe(self) -> str:
        """One line for people."""
        if self.state == "fresh":
            return "uv.lock matches the pyproject files"
        return f"uv.lock is {self.state}: " + "; ".join(self.reasons)


class EdgeSet(NamedTuple):
    """Every member-to-member edge of a workspace and where it was read.

    Attributes:
        edges: The edges, sorted.
        origin: `uv.lock` (the lock is fresh) or `pyproject` (it is stale or missing).
        reason: Why that origin, in one line.
        unknown: Members with dynamic requirements whose edges could not be known (the lock is not usable).
        lock: The lock's freshness.
    """

    edges: tuple[Edge, ...]
    origin: Literal["uv.lock", "pyproject"]
    reason: str
    unknown: tuple[str, ...]
    lock: Freshness

    def to_result(self) -> EdgesFrom:
        """Where the edges were read (`edges_from` of the graph and of the members), without the edges."""
        from codegen_lab.uvtools._tool_results import EdgesFrom  # noqa: PLC0415

        lock = {"state": self.lock.state, "reasons": self.lock.reasons, "unchecked": self.lock.unchecked}
        return EdgesFrom.model_validate(
            {"from": self.origin, "reason": self.reason, "unknown": self.unknown, "lock": lock}
        )


def _lock_kind_names(items: Iterable[LockDependency]) -> dict[str, set[str]]:
    """`requires-dist` names by edge kind (`project`, `extra:NAME`), an extra read from the marker."""
    found: dict[str, set[str]] = {"project": set()}
    for item in items:
        match = _EXTRA_MARKER.search(item.marker or "")
        kind = f"extra:{normalize_name(match.group(1))}" if match else "project"
        found.setdefault(kind, set()).add(normalize_name(item.name))
    return found


def _declared_kind_names(member: Member) -> dict[str, set[str]]:
    """What `member`'s pyproject.toml declares, names by edge kind, included groups expanded."""
    found: dict[str, set[str]] = {"project": set()}
    for dependency in member.dependencies:
        found.setdefault(edge_kind(dependency), set()).add(dependency.name)
    for extra in member.extras:
        found.setdefault(f"extra:{normalize_name(extra)}", set())
    for group in member.groups:
        found.setdefault(f"group:{normalize_name(group)}", set())
    for _ in member.group_includes:  # include chains: repeat until nothing more is added
        for group, included in member.group_includes:
            found[f"group:{normalize_name(group)}"] |= found.get(f"group:{normalize_name(included)}", set())
    return found


def _member_packages(lock: Lock, workspace: Workspace) -> dict[str, Any]:
    """Each member's locked package (its local source), by name."""
    wanted = set(workspace.names)
    return {package.name: package for package in lock.packages if package.name in wanted and package.is_local}


def lock_freshness(workspace: Workspace, lock: Lock | None) -> Freshness:
    """Whether `lock` matches `workspace`'s pyproject files, read statically (no uv, no network).

    Stale when the members differ, or a member with static requirements declares other names (per table)
    than the lock records for it. Members with dynamic requirements are listed as `unchecked`.
    """
    if lock is None:
        return Freshness("missing", ("there is no readable uv.lock",))
    reasons: list[str] = []
    ours, locked = set(workspace.names), set(lock.member_names)
    reasons += [f"member {name} is not in uv.lock" for name in sorted(ours - locked)]
    reasons += [f"uv.lock lists {name}, which is no longer a member" for name in sorted(locked - ours)]
    packages = _member_packages(lock, workspace)
    unchecked: list[str] = []
    for member in workspace.members:
        package = packages.get(member.name)
        if package is None or member.name not in locked:
            continue
        if member.dynamic_dependencies:
            unchecked.append(member.name)
            continue
        recorded = _lock_kind_names(package.requires_dist)
        recorded.update(
            {
                f"group:{normalize_name(g)}": {normalize_name(d.name) for d in items}
                for g, items in package.requires_dev.items()
            }
        )
        declared = _declared_kind_names(member)
        for kind in sorted(declared.keys() | recorded.keys()):
            added = declared.get(kind, set()) - recorded.get(kind, set())
            removed = recorded.get(kind, set()) - declared.get(kind, set())
            if added:
                reasons.append(f"{member.name} declares {', '.join(sorted(added))} ({kind}), uv.lock does not")
            if removed:
                reasons.append(
                    f"uv.lock records {', '.join(sorted(removed))} ({kind}) for {member.name}, no longer declared"
                )
    return Freshness("stale" if reasons else "fresh", tuple(reasons), tuple(unchecked))


def _static_edges(workspace: Workspace) -> set[Edge]:
    return {
        Edge(member.name, dependency.name, edge_kind(dependency))
        for member in workspace.members
        for dependency in member.dependencies
        if dependency.internal and dependency.name != member.name
    }


def _lock_edges(workspace: Workspace, lock: Lock) -> set[Edge]:
    names = set(workspace.names)
    found: set[Edge] = set()
    for name, package in _member_packages(lock, workspace).items():
        tables: list[tuple[str, Iterable[LockDependency]]] = [("project", package.dependencies)]
        tables += [(f"extra:{extra}", items) for extra, items in package.optional_dependencies.items()]
        tables += [(f"group:{group}", items) for group, items in package.dev_dependencies.items()]
        found |= {
            Edge(name, target, kind)
            for kind, items in tables
            for item in items
            if (target := normalize_name(item.name)) in names and target != name
        }
    return found


_LOCKS: dict[tuple[str, int, int], Lock] = {}


def read_lock_cached(path: Path) -> Lock | None:
    """The local packages of the lock at `path`, read once per version of the file; None when there is none.

    The version is the file's name, size and time. Only local packages are read (`parse_lock_members`): the member
    graph and the lock's freshness need nothing else.

    Raises:
        LockFileError: When it cannot be read.
    """
    try:
        status = path.stat()
    except OSError:
        return None
    key = (str(path), status.st_size, status.st_mtime_ns)
    found = _LOCKS.get(key)
    if found is None:
        found = read_lock_members(path)
        _LOCKS.clear()  # one lock at a time: a workspace's, while commands ask about it
        _LOCKS[key] = found
    return found


def workspace_edges(workspace: Workspace, lock: Lock | Literal["read"] | None = "read") -> EdgeSet:
    """The member-to-member edges of `workspace`: from `lock` when it is fresh, else from the pyproject files.

    Args:
        workspace: The workspace.
        lock: Its lock, None for none, or `read` to read `uv.lock` at the root (an unreadable one counts as none).
    """
    if lock == "read":
        try:
            lock = read_lock_cached(workspace.root / "uv.lock")
        except LockFileError:
            lock = None
    freshness = lock_freshness(workspace, lock)
    if lock is not None and freshness.fresh:
        return EdgeSet(tuple(sorted(_lock_edges(workspace, lock))), "uv.lock", "uv.lock is fresh", (), freshness)
    dynamic = tuple(member.name for member in workspace.members if member.dynamic_dependencies)
    reason = freshness.describe()
    if dynamic:
        reason += f"; the edges of {', '.join(dynamic)} (dynamic dependencies) are unknown until `uv lock`"
    return EdgeSet(tuple(sorted(_static_edges(workspace))), "pyproject", reason, dynamic, freshness)


def edges_by_member(edges: EdgeSet, names: Iterable[str]) -> Mapping[str, dict[str, set[str]]]:
    """Each member mapped to `{target: {kinds}}`."""
    found: dict[str, dict[str, set[str]]] = {name: {} for name in names}
    for edge in edges.edges:
        found.setdefault(edge.source, {}).setdefault(edge.target, set()).add(edge.kind)
    return found
