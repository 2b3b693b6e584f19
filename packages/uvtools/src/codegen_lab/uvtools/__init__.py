"""uvtools: understand and manage uv workspaces, as a library, the `codegen-lab ws` command and an MCP toolkit.

Read a workspace with `load_workspace`, its member edges with `workspace_edges` (from uv.lock when it is fresh),
order it with `Graph`, read its lock with `read_lock`, find what a change touches with `affected`, run a command
in every member with `run_many`, bump versions with `bump`. Everything works on the real `uv` binary of the PyPI
`uv` package and never imports the MCP SDK.

Names are imported when first used, so that the MCP server pays nothing for them at start.
"""

from typing import TYPE_CHECKING

from codegen_lab.common.exports import declared_exports as _declared_exports

if TYPE_CHECKING:
    from codegen_lab.uvtools._affected import (
        Affected as Affected,
        GitRange as GitRange,
        affected as affected,
        changed_files as changed_files,
        github_matrix as github_matrix,
        resolve_range as resolve_range,
    )
    from codegen_lab.uvtools._edges import (
        Edge as Edge,
        EdgeSet as EdgeSet,
        Freshness as Freshness,
        lock_freshness as lock_freshness,
        workspace_edges as workspace_edges,
    )
    from codegen_lab.uvtools._graph import Graph as Graph
    from codegen_lab.uvtools._health import (
        AuditFinding as AuditFinding,
        AuditReport as AuditReport,
        OutdatedReport as OutdatedReport,
        audit as audit,
        outdated as outdated,
        parse_audit as parse_audit,
    )
    from codegen_lab.uvtools._hygiene import (
        DepsReport as DepsReport,
        Finding as Finding,
        check_deps as check_deps,
        lint as lint,
    )
    from codegen_lab.uvtools._lock import (
        Lock as Lock,
        LockDependency as LockDependency,
        LockPackage as LockPackage,
        parse_lock as parse_lock,
        read_lock as read_lock,
    )
    from codegen_lab.uvtools._lockops import (
        LockCheck as LockCheck,
        LockDiff as LockDiff,
        MemberPaths as MemberPaths,
        PackageChange as PackageChange,
        check_lock as check_lock,
        diff_locks as diff_locks,
        lock_at as lock_at,
        member_closure as member_closure,
        why as why,
        why_by_member as why_by_member,
    )
    from codegen_lab.uvtools._manage import (
        UvChange as UvChange,
        VenvReport as VenvReport,
        change_dependency as change_dependency,
        create_venv as create_venv,
        inspect_venv as inspect_venv,
        sync as sync,
        upgrade as upgrade,
    )
    from codegen_lab.uvtools._model import (
        Dependency as Dependency,
        Member as Member,
        Workspace as Workspace,
        find_root as find_root,
        load_workspace as load_workspace,
        normalize_name as normalize_name,
    )
    from codegen_lab.uvtools._release import (
        ReleasePlan as ReleasePlan,
        ReleaseStep as ReleaseStep,
        release_plan as release_plan,
    )
    from codegen_lab.uvtools._runner import MemberResult as MemberResult, RunSummary as RunSummary, run_many as run_many
    from codegen_lab.uvtools._select import select_members as select_members
    from codegen_lab.uvtools._versions import (
        BumpPlan as BumpPlan,
        FileEdit as FileEdit,
        bump as bump,
        bump_version as bump_version,
        rewrite_requirement as rewrite_requirement,
    )
    from codegen_lab.uvtools.errors import (
        CommandError as CommandError,
        CycleError as CycleError,
        LockFileError as LockFileError,
        WorkspaceError as WorkspaceError,
    )

__version__: str
"""The installed version of codegen-lab-uvtools, read from its metadata when first asked for."""


__getattr__, __dir__ = _declared_exports(__name__, "codegen-lab-uvtools")
