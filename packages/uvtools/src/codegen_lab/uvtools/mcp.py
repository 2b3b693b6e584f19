"""The MCP toolkit `ws`: uv workspace tools for AI assistants (tool names start with `ws_`).

Registered under the entry-point group `codegen_lab.toolkits` as `create_toolkit`, which takes the server's
`ServerContext`: the workspace is the one at `context.root`, and every path a tool takes stays inside it. Tools
that change things (`ws_run`, `ws_bump`, `ws_add`, `ws_remove`) only say what they would do unless `apply` is true.

This module imports only what a bare MCP server has already imported; the work is imported on the first call.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import anyio.to_thread
from pydantic import Field

from codegen_lab.common.errors import UsageError
from codegen_lab.common.exports import lazy_exports
from codegen_lab.common.guard import inside
from codegen_lab.mcp_core import Context, ServerContext, ToolAnnotations, Toolkit

if TYPE_CHECKING:
    from codegen_lab.uvtools._model import Workspace
    from codegen_lab.uvtools._tool_results import (
        AffectedResult,
        AuditResult,
        BumpResult,
        DepsResult,
        GraphResult,
        LintResult,
        LockCheckResult,
        LockDiffResult,
        MembersResult,
        OutdatedResult,
        ReleasePlanResult,
        RunResult,
        UvCommandResult,
        VenvResult,
        WhyResult,
    )

__all__ = ["create_toolkit"]

# The result models are imported when mcp-core first builds the tools' schemas, not when the server starts.
__getattr__, __dir__ = lazy_exports(
    __name__, "codegen-lab-uvtools", {}, __all__, everything_of="codegen_lab.uvtools._tool_results"
)

WorkspacePath = Annotated[
    str, Field(description="A folder inside the server's root (relative to it); its uv workspace is the one used.")
]
Apply = Annotated[bool, Field(description="Do it; when false, only say what would be done.")]
Offline = Annotated[bool, Field(description="Do not ask the package index or service; what needs it is unchecked.")]
Members = Annotated[
    list[str] | None,
    Field(
        description="Only these members: names, globs, `NAME...` (with its dependents), `...NAME` (with its "
        "dependencies) or `./folder`; default: every member."
    ),
]
Member = Annotated[str, Field(description="A workspace member's name.")]
Part = Literal["major", "minor", "patch", "alpha", "beta", "rc", "post", "dev", "stable"]

_READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
_ONLINE = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=True)
_CHANGES = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=False)

_INSTRUCTIONS = (
    "The ws_ tools read and manage the uv workspace at the server's root: ws_members and ws_graph for members "
    "and their order, ws_affected for what a change touches, ws_why, ws_lock_diff and ws_lock_check for the lock, "
    "ws_deps_check and ws_lint for hygiene, ws_release_plan for publishing, ws_outdated and ws_audit per member. "
    "ws_run, ws_bump, ws_add, ws_remove, ws_sync and ws_upgrade only show what they would do until called again "
    "with apply=true."
)


async def _in_thread[T](fn: Callable[[], T]) -> T:
    return await anyio.to_thread.run_sync(fn)


def create_toolkit(context: ServerContext) -> Toolkit:
    """The `ws` toolkit for the workspace at `context.root`."""
    root = context.root
    toolkit = Toolkit(
        "ws",
        description="uv workspaces: graph, affected members, lock, hygiene, releases, runs and bumps.",
        instructions=_INSTRUCTIONS,
        package="codegen-lab-uvtools",
        rate_class="subprocess",
    )

    locate = functools.partial(_workspace, root)
    _add_read_tools(toolkit, locate)
    _add_lock_tools(toolkit, locate)
    _add_change_tools(toolkit, locate, context.state_dir)
    _add_environment_tools(toolkit, locate)
    return toolkit


def _workspace(root: Path, path: str = ".") -> Workspace:
    from codegen_lab.uvtools._model import load_workspace  # noqa: PLC0415

    found = load_workspace(inside(root, path, "path"))
    if not found.root.is_relative_to(root):
        raise UsageError(f"the workspace of {path!r} is at {found.root}, outside the root {root}")
    return found


def _add_read_tools(toolkit: Toolkit, workspace: Callable[[str], Workspace]) -> None:
    @toolkit.tool(title="Workspace members", annotations=_READ_ONLY, paths=["path"])
    async def members(path: WorkspacePath = ".") -> MembersResult:
        """Each member's name, version, path, requires-python, extras, groups, member dependencies (from uv.lock when it is fresh: `edges_from` says which and why) and external requirements (with their extra or group)."""  # noqa: E501
        from codegen_lab.uvtools._graph import members_result  # noqa: PLC0415

        return await _in_thread(lambda: members_result(workspace(path)))

    @toolkit.tool(title="Workspace graph", annotations=_READ_ONLY, paths=["path"])
    async def graph(
        path: WorkspacePath = ".",
        output_format: Annotated[
            Literal["json", "dot", "mermaid", "text"],
            Field(description="Also render the graph as dot, mermaid or text (json: no rendering)."),
        ] = "json",
        member: Annotated[
            str | None, Field(description="Also give this member's direct and transitive neighbours.")
        ] = None,
    ) -> GraphResult:
        """The workspace's members (name, version, path, direct member dependencies) and their dependency-first order; with `output_format` dot, mermaid or text also a rendering; with `member` also that member's direct and transitive dependencies and dependents. Edges come from uv.lock when it is fresh (`edges_from` says which and why) and carry their kinds (project, extra:NAME, group:NAME); the order follows project edges, cycles through extras or groups are listed in `cycles`; a cycle of project edges is an error naming it."""  # noqa: E501
        from codegen_lab.uvtools._graph import Graph  # noqa: PLC0415
        from codegen_lab.uvtools._tool_results import Neighbours  # noqa: PLC0415

        def work() -> GraphResult:
            members_graph = Graph.of(workspace(path))
            more: dict[str, object] = {}
            if output_format != "json":
                more["rendering"] = members_graph.render(output_format)
            if member is not None:
                more["member"] = Neighbours.model_validate(members_graph.neighbours(member))
            return members_graph.to_result().model_copy(update=more)

        return await _in_thread(work)

    @toolkit.tool(title="Affected members", annotations=_READ_ONLY, paths=["path"], revisions=["since"])
    async def affected(
        since: Annotated[str, Field(description="A git revision, or a range `A..B` or `A...B`.")],
        path: WorkspacePath = ".",
    ) -> AffectedResult:
        """Members changed in `since` (a revision: from its merge-base with HEAD to the working tree, untracked files included; or `A..B`, `A...B`): owners of changed files, root files and uv.lock mapped to the members they touch, and every transitive dependent."""  # noqa: E501
        from codegen_lab.uvtools._affected import affected as find  # noqa: PLC0415

        return await _in_thread(lambda: find(workspace(path), since).to_result())


def _add_lock_tools(toolkit: Toolkit, workspace: Callable[[str], Workspace]) -> None:
    @toolkit.tool(title="Why is a package locked", annotations=_READ_ONLY, paths=["path"])
    async def why(
        package: Annotated[str, Field(description="The name of a package in uv.lock.")], path: WorkspacePath = "."
    ) -> WhyResult:
        """Why `package` is in uv.lock: every member that needs it (directly or through an extra or group), each with its shortest paths (`paths`), how many it has (`total`) and whether the paths shown were cut (`truncated`)."""  # noqa: E501
        from codegen_lab.uvtools._lock import read_lock  # noqa: PLC0415
        from codegen_lab.uvtools._lockops import why_by_member, why_result  # noqa: PLC0415

        return await _in_thread(
            lambda: why_result(package, why_by_member(read_lock(workspace(path).root / "uv.lock"), package))
        )

    @toolkit.tool(title="Lock diff", annotations=_READ_ONLY, paths=["path"], revisions=["before", "after"])
    async def lock_diff(
        before: Annotated[str, Field(description="The git revision whose uv.lock is compared from.")],
        after: Annotated[
            str | None, Field(description="The git revision compared to (default: the working tree).")
        ] = None,
        path: WorkspacePath = ".",
    ) -> LockDiffResult:
        """Packages added, removed, upgraded or downgraded in uv.lock between git revisions `before` and `after` (default: the working tree), overall and per member."""  # noqa: E501
        from codegen_lab.uvtools._lockops import diff_locks, lock_at  # noqa: PLC0415

        def work() -> LockDiffResult:
            found = workspace(path).root
            labels = (before, after or "working tree")
            diff = diff_locks(lock_at(found, before), lock_at(found, after), labels=labels)
            return diff.to_result()

        return await _in_thread(work)

    @toolkit.tool(title="Lock freshness", annotations=_ONLINE, paths=["path"])
    async def lock_check(offline: Offline = False, path: WorkspacePath = ".") -> LockCheckResult:
        """Whether uv.lock matches the pyproject files (`uv lock --check`), with uv's message."""
        from codegen_lab.uvtools._lockops import check_lock  # noqa: PLC0415

        return await _in_thread(lambda: check_lock(workspace(path).root, offline=offline).to_result())

    @toolkit.tool(title="Dependency check", annotations=_READ_ONLY, paths=["path"])
    async def deps_check(members: Members = None, path: WorkspacePath = ".") -> DepsResult:
        """Each member's imports against its declared dependencies: missing, only transitive, unused."""
        from codegen_lab.uvtools._hygiene import check_deps  # noqa: PLC0415
        from codegen_lab.uvtools._lock import read_lock  # noqa: PLC0415

        def work() -> DepsResult:
            found = workspace(path)
            lock_path = found.root / "uv.lock"
            lock = read_lock(lock_path) if lock_path.is_file() else None
            return check_deps(found, lock, members=_chosen(found, members)).to_result()

        return await _in_thread(work)

    @toolkit.tool(title="Workspace lint", annotations=_READ_ONLY, paths=["path"])
    async def lint(path: WorkspacePath = ".") -> LintResult:
        """Consistency across members: one external dependency required differently, requires-python mismatches, internal ranges that exclude the member's version, internal dependencies without a workspace source."""  # noqa: E501
        from codegen_lab.uvtools._hygiene import lint as run_lint, lint_result  # noqa: PLC0415

        return await _in_thread(lambda: lint_result(run_lint(workspace(path))))

    @toolkit.tool(title="Release plan", annotations=_READ_ONLY, paths=["path"])
    async def release_plan(
        offline: Offline = False,
        index: Annotated[str, Field(description="The simple index (PEP 691) to ask for published versions.")] = (
            "https://pypi.org/simple"
        ),
        path: WorkspacePath = ".",
    ) -> ReleasePlanResult:
        """The packaged members in publish order, each `publish`, `published` (already on the index), `unchecked` (the index could not be asked, with the reason) or `unpublishable`."""  # noqa: E501
        from codegen_lab.uvtools._release import release_plan as plan  # noqa: PLC0415

        return await _in_thread(lambda: plan(workspace(path), index=index, offline=offline).to_result())


def _chosen(found: Workspace, members: list[str] | None) -> list[str] | None:
    """The members that `members` (names, globs, `NAME...`, `...NAME`, `./folder` from the root) choose."""
    from codegen_lab.uvtools._select import select_members  # noqa: PLC0415

    return select_members(found, members or (), cwd=found.root)


def _add_environment_tools(toolkit: Toolkit, workspace: Callable[[str], Workspace]) -> None:
    @toolkit.tool(title="Outdated dependencies", annotations=_ONLINE, paths=["path"])
    async def outdated(members: Members = None, offline: Offline = False, path: WorkspacePath = ".") -> OutdatedResult:
        """Each member's direct dependencies whose locked version is older than the index's latest; members the index could not be asked about are listed in `unchecked` with the reason."""  # noqa: E501
        from codegen_lab.uvtools._health import outdated as find  # noqa: PLC0415

        def work() -> OutdatedResult:
            found = workspace(path)
            report = find(found, members=_chosen(found, members), offline=offline)
            return report.to_result()

        return await _in_thread(work)

    @toolkit.tool(title="Vulnerability audit", annotations=_ONLINE, paths=["path"])
    async def audit(members: Members = None, offline: Offline = False, path: WorkspacePath = ".") -> AuditResult:
        """Known vulnerabilities and adverse project statuses of the locked packages (`uv audit`), each with the members that need the package and their paths to it; `members` keeps only what concerns them. When the service cannot be asked, `checked` is false and `reason` says why."""  # noqa: E501
        from codegen_lab.uvtools._health import audit as run_audit  # noqa: PLC0415

        def work() -> AuditResult:
            found = workspace(path)
            report = run_audit(found, members=_chosen(found, members), offline=offline)
            return report.to_result()

        return await _in_thread(work)

    @toolkit.tool(title="Virtual environment", annotations=_READ_ONLY, paths=["path"])
    async def venv(path: WorkspacePath = ".") -> VenvResult:
        """The workspace's .venv: its Python version and its drift from uv.lock (other versions, packages the lock does not hold)."""  # noqa: E501
        from codegen_lab.uvtools._lock import read_lock  # noqa: PLC0415
        from codegen_lab.uvtools._manage import inspect_venv  # noqa: PLC0415

        def work() -> VenvResult:
            found = workspace(path)
            lock_path = found.root / "uv.lock"
            report = inspect_venv(found, read_lock(lock_path) if lock_path.is_file() else None)
            return report.to_result()

        return await _in_thread(work)


def _add_change_tools(toolkit: Toolkit, workspace: Callable[[str], Workspace], state_dir: Path) -> None:
    @toolkit.tool(title="Run in members", annotations=_CHANGES, paths=["path"], revisions=["since"])
    async def run(
        command: Annotated[list[str], Field(description="The program and its arguments (no shell).")],
        ctx: Context,
        members: Members = None,
        since: Annotated[
            str | None, Field(description="Only the members a change since this git revision affects.")
        ] = None,
        jobs: Annotated[int, Field(description="How many members run at a time.")] = 1,
        keep_going: Annotated[bool, Field(description="Go on after a member fails (its dependents skip).")] = False,
        apply: Apply = False,
        path: WorkspacePath = ".",
    ) -> RunResult:
        """Run `command` (a list of arguments, no shell) in each member's folder, dependency-first, `jobs` at a time; only the `members` chosen (names, globs, `NAME...` with its dependents, `...NAME` with its dependencies, `./folder`), or those affected `since` a git revision. Without `apply` it returns the order and runs nothing."""  # noqa: E501
        import anyio.from_thread  # noqa: PLC0415

        from codegen_lab.uvtools._affected import affected as find  # noqa: PLC0415
        from codegen_lab.uvtools._runner import MemberResult, run_many  # noqa: PLC0415

        found = await _in_thread(functools.partial(workspace, path))
        selected = _chosen(found, members)
        if since is not None:
            touched = set((await _in_thread(lambda: find(found, since))).affected)
            selected = [name for name in (members or found.names) if name in touched]
        total = len(selected) if selected is not None else len(found.members)
        finished = 0

        def progress(_result: MemberResult) -> None:
            nonlocal finished
            finished += 1
            anyio.from_thread.run(ctx.report_progress, finished, total)

        def work() -> RunResult:
            summary = run_many(
                found, command, members=selected, jobs=jobs, keep_going=keep_going, apply=apply, on_done=progress
            )
            return summary.to_result()

        return await _in_thread(work)

    @toolkit.tool(title="Bump a version", annotations=_CHANGES, paths=["path"])
    async def bump(
        member: Member,
        part: Annotated[Part, Field(description="The version part to bump, or `stable` to drop a pre-release.")],
        pre: Annotated[Literal["alpha", "beta", "rc"] | None, Field(description="Also start this pre-release.")] = None,
        dependents: Annotated[
            Part | None, Field(description="Also bump every transitive dependent by this part.")
        ] = None,
        apply: Apply = False,
        path: WorkspacePath = ".",
    ) -> BumpResult:
        """Bump `member`'s version by `part` and rewrite every dependent's requirement on it, keeping each file's style; `dependents` also bumps the transitive dependents. Without `apply` it returns the edits and writes nothing; with it, it writes them and runs `uv lock`."""  # noqa: E501
        from codegen_lab.uvtools._versions import bump as do_bump  # noqa: PLC0415

        def work() -> BumpResult:
            found = workspace(path)
            return do_bump(
                found, member, part, pre=pre, dependents=dependents, apply=apply, state_dir=state_dir
            ).to_result()

        return await _in_thread(work)

    def _change(action: Literal["add", "remove"]) -> Callable[..., Any]:
        async def change(
            member: Member,
            requirements: Annotated[
                list[str], Field(description="Requirements such as `httpx>=0.27` (to remove: their names).")
            ],
            group: Annotated[str | None, Field(description="In this dependency group.")] = None,
            optional: Annotated[str | None, Field(description="In this optional extra.")] = None,
            apply: Apply = False,
            path: WorkspacePath = ".",
        ) -> UvCommandResult:
            from codegen_lab.uvtools._manage import change_dependency  # noqa: PLC0415

            def work() -> UvCommandResult:
                found = workspace(path)
                done = change_dependency(
                    found,
                    action,
                    member,
                    requirements,
                    group=group,
                    optional=optional,
                    apply=apply,
                    state_dir=state_dir,
                )
                return done.to_result()

            return await _in_thread(work)

        change.__name__ = action
        change.__doc__ = (
            f"{action.capitalize()} `requirements` of `member` with `uv {action} --package` (in a dependency `group` "
            f"or an `optional` extra if given). Without `apply` it returns the uv command and runs nothing."
        )
        return change

    toolkit.add_tool(_change("add"), title="Add a dependency", annotations=_CHANGES, paths=["path"])
    toolkit.add_tool(_change("remove"), title="Remove a dependency", annotations=_CHANGES, paths=["path"])

    @toolkit.tool(title="Sync the environment", annotations=_CHANGES, paths=["path"])
    async def sync(
        member: Annotated[str | None, Field(description="Only this member (default: all).")] = None,
        apply: Apply = False,
        path: WorkspacePath = ".",
    ) -> UvCommandResult:
        """Install the lock into the workspace's environment (`uv sync`), for one member or all. Without `apply` it returns the uv command and runs nothing."""  # noqa: E501
        from codegen_lab.uvtools._manage import sync as do_sync  # noqa: PLC0415

        return await _in_thread(
            lambda: do_sync(workspace(path), member=member, apply=apply, state_dir=state_dir).to_result()
        )

    @toolkit.tool(title="Upgrade packages in the lock", annotations=_CHANGES, paths=["path"])
    async def upgrade(
        packages: Annotated[list[str], Field(description="The packages to upgrade, by name.")],
        apply: Apply = False,
        path: WorkspacePath = ".",
    ) -> UvCommandResult:
        """Move `packages` to their newest allowed versions in uv.lock (`uv lock --upgrade-package`). Without `apply` it returns the uv command and runs nothing."""  # noqa: E501
        from codegen_lab.uvtools._manage import upgrade as do_upgrade  # noqa: PLC0415

        return await _in_thread(
            lambda: do_upgrade(workspace(path), packages, apply=apply, state_dir=state_dir).to_result()
        )
