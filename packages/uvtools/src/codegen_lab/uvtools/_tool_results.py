"""What the `ws_` tools return: the JSON of the library's reports, as documented models.

Each model has exactly the keys of the JSON the library writes (`--format json`), so that the tools' output
schemas say what clients get; `SparseResult` keeps a key the library leaves out out of the JSON too.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from codegen_lab.common.results import SparseResult

__all__ = [
    "AffectedResult",
    "AuditResult",
    "BumpResult",
    "DepsResult",
    "GraphResult",
    "LintResult",
    "LockCheckResult",
    "LockDiffResult",
    "MembersResult",
    "OutdatedResult",
    "ReleasePlanResult",
    "RunResult",
    "UvCommandResult",
    "VenvResult",
    "WhyResult",
]

Paths = list[list[str]]


class LockFreshness(SparseResult):
    """Whether uv.lock matches the pyproject files, read without running uv."""

    state: Literal["fresh", "stale", "missing"]
    """`fresh`, `stale`, or `missing` (no uv.lock, or one that cannot be read)."""
    reasons: list[str]
    """Why it is stale or missing, one line each."""
    unchecked: list[str]
    """Members whose requirements are dynamic, which only a build could compare."""


class EdgesFrom(SparseResult):
    """Where the member-to-member edges were read."""

    from_: Literal["uv.lock", "pyproject"] = Field(alias="from")
    """`uv.lock` (the lock is fresh) or `pyproject` (it is stale or missing)."""
    reason: str
    """Why that source, in one line."""
    unknown: list[str]
    """Members with dynamic requirements whose edges could not be known."""
    lock: LockFreshness
    """The lock's freshness."""


class ExternalRequirement(SparseResult):
    """A requirement on a distribution outside the workspace."""

    requirement: str
    """The requirement as written in pyproject.toml."""
    kind: str
    """`project`, `optional` (an extra) or `group` (a dependency group)."""
    group: str | None
    """The extra or group it is in, for `optional` and `group`."""


class MemberInfo(SparseResult):
    """One workspace member."""

    name: str
    """The normalized project name."""
    version: str | None
    """The static version, or None when it is dynamic."""
    path: str
    """The member's folder relative to the workspace root (`.` for the root itself)."""
    requires_python: str | None
    """Its `requires-python`, if declared."""
    packaged: bool
    """Whether it is built and installed (false for a virtual project)."""
    extras: list[str]
    """Its optional-dependency groups."""
    groups: list[str]
    """Its dependency groups."""
    dependencies: list[str]
    """The members it depends on (any kind of edge)."""
    external: list[ExternalRequirement]
    """Its requirements on distributions outside the workspace."""


class MembersResult(SparseResult):
    """The workspace's members."""

    root: str
    """The workspace root folder (absolute)."""
    discovered_by: str
    """`uv` when `uv workspace metadata` listed the members, else `pyproject`."""
    members: list[MemberInfo]
    """The members, sorted by name."""
    edges_from: EdgesFrom
    """Where the `dependencies` were read."""


class Edge(SparseResult):
    """An edge from a member to a member it depends on."""

    to: str
    """The member depended on."""
    kinds: list[str]
    """How: `project`, `extra:NAME` or `group:NAME`."""


class GraphMember(SparseResult):
    """A member in the graph."""

    name: str
    """The member's name."""
    version: str | None
    """Its version, None when dynamic or unknown."""
    path: str | None
    """Its folder relative to the root."""
    dependencies: list[str]
    """The members it depends on, through any kind of edge."""
    edges: list[Edge]
    """Its edges, with their kinds."""


class Cycle(SparseResult):
    """A cycle of dependencies among members."""

    cycle: list[str]
    """The members around the cycle, the first repeated at the end."""
    members: list[str]
    """Every member of the strongly connected group."""
    kinds: list[str]
    """The kinds of the cycle's edges."""
    blocks_order: bool
    """Whether the cycle runs through the edges the order follows alone (then there is no order)."""


class Neighbours(SparseResult):
    """One member's dependencies and dependents."""

    member: str
    """The member."""
    dependencies: list[str]
    """The members it depends on directly."""
    all_dependencies: list[str]
    """The members it depends on, transitively."""
    dependents: list[str]
    """The members that depend on it directly."""
    all_dependents: list[str]
    """The members that depend on it, transitively."""


class GraphResult(SparseResult):
    """The workspace's dependency graph."""

    members: list[GraphMember]
    """The members and their edges."""
    order: list[str]
    """The members dependency-first."""
    order_kinds: list[str]
    """The edge kinds the order follows."""
    cycles: list[Cycle]
    """Every cycle through any kind of edge."""
    edges_from: EdgesFrom | None = None
    """Where the edges were read (absent when they were given)."""
    requires_python: dict[str, str | None]
    """Each member's `requires-python`."""
    rendering: str | None = None
    """The graph as dot, mermaid or text, when `output_format` asked for one."""
    member: Neighbours | None = None
    """The dependencies and dependents of the member asked for."""


class AffectedResult(SparseResult):
    """The members a change touches."""

    changed: list[str]
    """Members that own a changed file, or that a change to a root file or the lock touches."""
    affected: list[str]
    """`changed` and every member that depends on one of them, transitively."""
    files: list[str]
    """The changed files, relative to the workspace root."""
    reasons: dict[str, list[str]]
    """For each changed member, the files (or `uv.lock: NAME`) that make it changed."""


class MemberPaths(SparseResult):
    """One member's paths to a package."""

    member: str
    """The member."""
    paths: Paths
    """Its first paths, shortest first, each from the member to the package."""
    total: int
    """How many paths it has."""
    truncated: bool
    """Whether `paths` holds fewer than `total`."""
    exact: bool
    """Whether `total` is exact (false when counting stopped at its cap)."""


class WhyResult(SparseResult):
    """Why a package is in uv.lock."""

    package: str
    """The package asked about."""
    members: list[MemberPaths]
    """Every member that needs it, with its paths to it."""
    total: int
    """Paths in all, over every member."""
    truncated: bool
    """Whether some member's paths were cut."""
    paths: Paths
    """Every path shown, over every member."""


class PackageChange(SparseResult):
    """A package whose locked version changed."""

    name: str
    """The package."""
    kind: str
    """`added`, `removed`, `upgraded` or `downgraded`."""
    before: str | None
    """Its version before (None: added)."""
    after: str | None
    """Its version after (None: removed)."""


class LockDiffResult(SparseResult):
    """What changed in uv.lock between two revisions."""

    before: str
    """The revision compared from."""
    after: str
    """The revision compared to (`working tree` for the files on disk)."""
    changes: list[PackageChange]
    """Every change over the whole lock."""
    members: dict[str, list[PackageChange]]
    """The changes in what each member needs."""


class LockCheckResult(SparseResult):
    """Whether uv.lock is up to date (`uv lock --check`)."""

    fresh: bool
    """Whether uv.lock matches the pyproject files."""
    message: str
    """uv's verdict in one line."""
    reasons: list[str]
    """How it differs, read from the pyproject files and uv.lock."""


class Finding(SparseResult):
    """One hygiene problem."""

    kind: str
    """What kind of problem (such as `missing`, `transitive`, `unused`)."""
    member: str | None
    """The member it is in (None for the workspace as a whole)."""
    subject: str
    """What it is about: a distribution, a module or a field."""
    message: str
    """The problem in words."""


class DepsResult(SparseResult):
    """Each member's imports against its declared dependencies."""

    module_source: str
    """How modules were mapped to distributions."""
    checked: list[str]
    """The members checked."""
    findings: list[Finding]
    """Missing, only transitive and unused dependencies."""


class LintResult(SparseResult):
    """Consistency problems across members."""

    findings: list[Finding]
    """Every problem found."""


class ReleaseStep(SparseResult):
    """One member in the release plan."""

    member: str
    """The member."""
    version: str | None
    """Its version (None when dynamic)."""
    status: Literal["publish", "published", "unchecked", "unpublishable"]
    """`publish` (not on the index yet), `published` (skip it), `unchecked` (see `reason`) or `unpublishable`."""
    reason: str | None
    """Why it is unchecked."""


class ReleasePlanResult(SparseResult):
    """The packaged members in publish order."""

    index: str
    """The index asked."""
    offline: bool
    """Whether the index was left unasked."""
    steps: list[ReleaseStep]
    """The members, each after the members it depends on."""
    unchecked: list[str]
    """Members the index was not asked about."""


class OutdatedPackage(SparseResult):
    """A direct dependency with a newer version on the index."""

    name: str
    """The distribution."""
    version: str
    """Its locked version."""
    latest: str
    """The index's latest version."""


class OutdatedResult(SparseResult):
    """Direct dependencies with a newer version on the index, per member."""

    members: dict[str, list[OutdatedPackage]]
    """Each member's outdated direct dependencies."""
    unchecked: dict[str, str]
    """Members the index could not be asked about, with the reason."""


class AuditFinding(SparseResult):
    """A known vulnerability, or an adverse project status, of a locked package; uv's other fields follow."""

    model_config = ConfigDict(extra="allow")  # the rest of uv's entry, as uv printed it

    package: str
    """The package's normalized name."""
    version: str | None
    """Its locked version (None for a project status, which is about every version)."""
    kind: Literal["vulnerability", "status"]
    """`vulnerability`, or `status` for an adverse project status (archived, quarantined, deprecated)."""
    id: str
    """The vulnerability's id, or the status."""
    members: dict[str, Paths]
    """Each member that needs the package, with its paths to it."""


class AuditResult(SparseResult):
    """Known vulnerabilities of the locked packages (`uv audit`), per member."""

    checked: bool
    """Whether the vulnerability service answered."""
    reason: str | None
    """Why not, when `checked` is false."""
    audited_packages: int
    """How many locked packages uv asked about."""
    findings: list[AuditFinding]
    """Vulnerabilities and adverse project statuses."""
    members: dict[str, list[str]]
    """Each member with the findings that concern it, as `package version: id`."""


class Drift(SparseResult):
    """An installed package that the lock does not hold at that version."""

    name: str
    """The distribution."""
    installed: str
    """The installed version."""
    locked: list[str] | None
    """The versions the lock holds (None: the lock does not hold it)."""


class VenvResult(SparseResult):
    """The workspace's virtual environment against its lock."""

    path: str
    """The environment's folder."""
    exists: bool
    """Whether it exists."""
    python: str | None
    """Its Python version."""
    installed: int
    """How many distributions are installed in it."""
    drift: list[Drift]
    """Installed packages at another version than the lock's, or that it does not hold."""


class MemberRun(SparseResult):
    """The command's outcome in one member."""

    member: str
    """The member."""
    status: Literal["passed", "failed", "skipped"]
    """`passed`, `failed` or `skipped` (stopped early, or a dependency failed)."""
    returncode: int | None
    """The exit status, None when it did not run."""
    seconds: float
    """How long it ran."""
    log: str | None
    """The log file its output was written to, when a log folder was given."""
    reason: str | None
    """Why it was skipped."""


class RunResult(SparseResult):
    """A command run in members, dependency-first."""

    command: list[str]
    """The command."""
    order: list[str]
    """The members, in the order they run."""
    applied: bool
    """Whether it ran (false: only the order was planned)."""
    ok: bool
    """Whether every member that was meant to run passed."""
    passed: list[str]
    """Members that passed, in plan order."""
    failed: list[str]
    """Members that failed, in plan order."""
    skipped: list[str]
    """Members skipped, in plan order."""
    results: list[MemberRun]
    """Each member's outcome, in the order they finished."""
    outputs: dict[str, str]
    """The end of each member's output."""


class VersionChange(SparseResult):
    """A member's version before and after a bump."""

    before: str
    """The version before."""
    after: str
    """The version after."""


class FileEdit(SparseResult):
    """One change to a pyproject.toml."""

    path: str
    """The file, relative to the workspace root."""
    field: str
    """The field changed: `project.version` or a requirement array."""
    before: str
    """The value before."""
    after: str
    """The value after."""


class BumpResult(SparseResult):
    """A version bump and every edit it makes."""

    versions: dict[str, VersionChange]
    """Each bumped member's versions."""
    edits: list[FileEdit]
    """Every file edit."""
    applied: bool
    """Whether the edits were written."""
    locked: bool | None
    """Whether `uv lock` succeeded after writing (None: not run)."""


class UvCommandResult(SparseResult):
    """A uv command that changes the workspace."""

    command: list[str]
    """The command, starting with `uv`."""
    applied: bool
    """Whether it ran (false: only shown)."""
    returncode: int | None
    """Its exit status, when it ran."""
    output: str
    """What it wrote, when it ran."""
