"""uvtools: understand and manage uv workspaces, as a library, the `codegen-lab ws` command and an MCP toolkit.

Read a workspace with `load_workspace`, its member edges with `workspace_edges` (from uv.lock when it is fresh),
order it with `Graph`, read its lock with `read_lock`, find what a change touches with `affected`, run a command
in every member with `run_many`, bump versions with `bump`. Everything works on the real `uv` binary of the PyPI
`uv` package and never imports the MCP SDK.

Names are imported when first used, so that the MCP server pays nothing for them at start.
"""

from typing import TYPE_CHECKING

from codegen_lab.common.exports import lazy_exports as _lazy_exports

if TYPE_CHECKING:
    from codegen_lab.uvtools._affected import Affected, GitRange, affected, changed_files, github_matrix, resolve_range
    from codegen_lab.uvtools._edges import Edge, EdgeSet, Freshness, lock_freshness, workspace_edges
    from codegen_lab.uvtools._graph import Graph
    from codegen_lab.uvtools._health import AuditFinding, AuditReport, OutdatedReport, audit, outdated, parse_audit
    from codegen_lab.uvtools._hygiene import DepsReport, Finding, check_deps, lint
    from codegen_lab.uvtools._lock import Lock, LockDependency, LockPackage, parse_lock, read_lock
    from codegen_lab.uvtools._lockops import (
        LockCheck,
        LockDiff,
        MemberPaths,
        PackageChange,
        check_lock,
        diff_locks,
        lock_at,
        member_closure,
        why,
        why_by_member,
    )
    from codegen_lab.uvtools._manage import (
        UvChange,
        VenvReport,
        change_dependency,
        create_venv,
        inspect_venv,
        sync,
        upgrade,
    )
    from codegen_lab.uvtools._model import Dependency, Member, Workspace, find_root, load_workspace, normalize_name
    from codegen_lab.uvtools._release import ReleasePlan, ReleaseStep, release_plan
    from codegen_lab.uvtools._runner import MemberResult, RunSummary, run_many
    from codegen_lab.uvtools._select import select_members
    from codegen_lab.uvtools._versions import BumpPlan, FileEdit, bump, bump_version, rewrite_requirement
    from codegen_lab.uvtools.errors import CommandError, CycleError, LockFileError, WorkspaceError

__version__: str
"""The installed version of codegen-lab-uvtools, read from its metadata when first asked for."""

_HOMES = {
    "Affected": "_affected",
    "affected": "_affected",
    "changed_files": "_affected",
    "Graph": "_graph",
    "Edge": "_edges",
    "EdgeSet": "_edges",
    "Freshness": "_edges",
    "lock_freshness": "_edges",
    "workspace_edges": "_edges",
    "MemberPaths": "_lockops",
    "why_by_member": "_lockops",
    "select_members": "_select",
    "GitRange": "_affected",
    "github_matrix": "_affected",
    "resolve_range": "_affected",
    "DepsReport": "_hygiene",
    "Finding": "_hygiene",
    "check_deps": "_hygiene",
    "lint": "_hygiene",
    "Lock": "_lock",
    "LockDependency": "_lock",
    "LockPackage": "_lock",
    "parse_lock": "_lock",
    "read_lock": "_lock",
    "LockCheck": "_lockops",
    "LockDiff": "_lockops",
    "PackageChange": "_lockops",
    "check_lock": "_lockops",
    "diff_locks": "_lockops",
    "lock_at": "_lockops",
    "member_closure": "_lockops",
    "why": "_lockops",
    "UvChange": "_manage",
    "VenvReport": "_manage",
    "change_dependency": "_manage",
    "inspect_venv": "_manage",
    "create_venv": "_manage",
    "sync": "_manage",
    "upgrade": "_manage",
    "AuditFinding": "_health",
    "AuditReport": "_health",
    "OutdatedReport": "_health",
    "audit": "_health",
    "outdated": "_health",
    "parse_audit": "_health",
    "Dependency": "_model",
    "Member": "_model",
    "Workspace": "_model",
    "find_root": "_model",
    "load_workspace": "_model",
    "normalize_name": "_model",
    "ReleasePlan": "_release",
    "ReleaseStep": "_release",
    "release_plan": "_release",
    "MemberResult": "_runner",
    "RunSummary": "_runner",
    "run_many": "_runner",
    "BumpPlan": "_versions",
    "FileEdit": "_versions",
    "bump": "_versions",
    "bump_version": "_versions",
    "rewrite_requirement": "_versions",
    "CommandError": "errors",
    "CycleError": "errors",
    "LockFileError": "errors",
    "WorkspaceError": "errors",
}

__all__ = [
    "Affected",
    "AuditFinding",
    "AuditReport",
    "BumpPlan",
    "CommandError",
    "CycleError",
    "Dependency",
    "DepsReport",
    "Edge",
    "EdgeSet",
    "FileEdit",
    "Finding",
    "Freshness",
    "GitRange",
    "Graph",
    "Lock",
    "LockCheck",
    "LockDependency",
    "LockDiff",
    "LockFileError",
    "LockPackage",
    "Member",
    "MemberPaths",
    "MemberResult",
    "OutdatedReport",
    "PackageChange",
    "ReleasePlan",
    "ReleaseStep",
    "RunSummary",
    "UvChange",
    "VenvReport",
    "Workspace",
    "WorkspaceError",
    "__version__",
    "affected",
    "audit",
    "bump",
    "bump_version",
    "change_dependency",
    "changed_files",
    "check_deps",
    "check_lock",
    "create_venv",
    "diff_locks",
    "find_root",
    "github_matrix",
    "inspect_venv",
    "lint",
    "load_workspace",
    "lock_at",
    "lock_freshness",
    "member_closure",
    "normalize_name",
    "outdated",
    "parse_audit",
    "parse_lock",
    "read_lock",
    "release_plan",
    "resolve_range",
    "rewrite_requirement",
    "run_many",
    "select_members",
    "sync",
    "upgrade",
    "why",
    "why_by_member",
    "workspace_edges",
]

__getattr__, __dir__ = _lazy_exports(
    __name__, "codegen-lab-uvtools", {name: f"codegen_lab.uvtools.{home}" for name, home in _HOMES.items()}, __all__
)
