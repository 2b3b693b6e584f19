"""The `codegen-lab ws` command (also `codegen-lab-uvtools`): uv workspaces for people and scripts.

Every command takes `--root DIR` (default: the workspace of the current directory) and `--format json`.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import click

from codegen_lab.uvtools._cli_common import (
    edges_option as _edges_option,
    options as _options,
    print_json as _json,
    print_result,
    reported_errors as _reported_errors,
    table as _table,
    workspace_at as _workspace,
)

__all__ = ["cli", "main"]


_ELSEWHERE = {
    "codegen_lab.uvtools._cli_change": ("add", "bump", "deps", "lint", "release", "remove", "run"),
    "codegen_lab.uvtools._cli_env": ("audit", "outdated", "sync", "upgrade", "venv"),
}
"""The commands each of these modules adds (`register`): imported when one of them runs or the list is shown."""


class _Group(click.Group):
    """The `ws` group, whose commands in other modules load when asked for: `ws graph` does not import them."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *(name for names in _ELSEWHERE.values() for name in names)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        for module, names in _ELSEWHERE.items():
            if cmd_name in names and cmd_name not in self.commands:
                importlib.import_module(module).register(self)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
def cli() -> None:
    """Manage uv workspaces: members, graph, lock, affected members, runs in order, bumps, releases, hygiene."""


@cli.command()
@_options()
def members(root: Path | None, output_format: str) -> None:
    """List the members: name, version, path, requires-python, the members each depends on (from a fresh uv.lock)."""
    from codegen_lab.uvtools._graph import Graph, members_result  # noqa: PLC0415

    with _reported_errors():
        workspace = _workspace(root)
        members_graph = Graph.of(workspace)
    if output_format == "json":
        print_result(members_result(workspace, members_graph))
        return
    rows = [
        [
            m.name,
            m.version or "(dynamic)",
            m.relative,
            m.requires_python or "-",
            ", ".join(members_graph.dependencies(m.name)) or "-",
        ]
        for m in workspace.members
    ]
    _table(f"Members of {workspace.root}", ["member", "version", "path", "requires-python", "depends on"], rows)


@cli.command()
@click.option("--member", "member_name", default=None, help="Show this member's dependencies and dependents.")
@_edges_option
@_options(("text", "json", "dot", "mermaid"))
def graph(member_name: str | None, order_kinds: tuple[str, ...], root: Path | None, output_format: str) -> None:
    """The members' graph in dependency-first order (text, json, dot or mermaid).

    Edges come from uv.lock when it is fresh, else from the pyproject files (a note on stderr says why). The
    order follows `project` edges unless --edges says otherwise; cycles through other kinds are listed.
    """
    from codegen_lab.uvtools._graph import Graph  # noqa: PLC0415

    with _reported_errors():
        workspace = _workspace(root)
        if not workspace.member_globs:
            click.echo(f"note: {workspace.root} is a single project, not a uv workspace", err=True)
        members_graph = Graph.of(workspace, order_kinds=order_kinds)
        unknown = members_graph.provenance.unknown if members_graph.provenance is not None else ()
        if unknown:
            click.echo(
                f"warning: the member edges of {', '.join(unknown)} (dynamic dependencies) are unknown", err=True
            )
        if member_name is not None:
            data = members_graph.neighbours(member_name)
            if output_format == "json":
                _json(data)
            else:
                for key, values in data.items():
                    if key != "member":
                        click.echo(f"{key.replace('_', ' ')}: {', '.join(values) or '-'}")
            return
        click.echo(members_graph.render(output_format))


@cli.command()
@click.argument("package")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Paths shown per member.")
@_options()
def why(package: str, limit: int, root: Path | None, output_format: str) -> None:
    """Why PACKAGE is in the lock: every member that needs it, each with its shortest paths and their count."""
    from codegen_lab.uvtools._lockops import why_by_member, why_result  # noqa: PLC0415

    with _reported_errors():
        workspace = _workspace(root)
        lock_path = workspace.root / "uv.lock"
        from codegen_lab.uvtools._lock import read_lock  # noqa: PLC0415

        groups = why_by_member(read_lock(lock_path), package, limit=limit)
    if output_format == "json":
        print_result(why_result(package, groups))
        return
    for group in groups:
        count = f"{group.total}{'' if group.exact else '+'} path(s)"
        click.echo(f"{group.member}: {count}" + (f", the {len(group.paths)} shortest shown" if group.truncated else ""))
        for path in group.paths:
            click.echo("  " + " -> ".join(path))


@cli.group()
def lock() -> None:
    """The lock: differences between revisions, freshness."""


@lock.command("diff")
@click.argument("before")
@click.argument("after", required=False)
@_options()
def lock_diff(before: str, after: str | None, root: Path | None, output_format: str) -> None:
    """What changed in uv.lock from git revision BEFORE to AFTER (default: the working tree), per member."""
    from codegen_lab.uvtools._lockops import diff_locks, lock_at  # noqa: PLC0415

    with _reported_errors():
        workspace = _workspace(root)
        diff = diff_locks(
            lock_at(workspace.root, before), lock_at(workspace.root, after), labels=(before, after or "working tree")
        )
    if output_format == "json":
        print_result(diff.to_result())
        return
    click.echo(f"uv.lock from {diff.before} to {diff.after}: {len(diff.changes)} package(s) changed")
    for change in diff.changes:
        click.echo(f"  {change.describe()}")
    for member, changes in diff.members.items():
        click.echo(f"{member}:")
        for change in changes:
            click.echo(f"  {change.describe()}")


@lock.command("check")
@click.option("--offline", is_flag=True, help="Do not reach the index.")
@_options()
def lock_check(offline: bool, root: Path | None, output_format: str) -> None:
    """Whether uv.lock matches the pyproject files (`uv lock --check`); exit status 1 when it does not."""
    from codegen_lab.uvtools._lockops import check_lock  # noqa: PLC0415

    with _reported_errors():
        result = check_lock(_workspace(root, lock_notice=False).root, offline=offline)
    if output_format == "json":
        print_result(result.to_result())
    else:
        click.echo(("fresh: " if result.fresh else "stale: ") + result.message)
        for reason in result.reasons:
            click.echo(f"  {reason}")
    if not result.fresh:
        sys.exit(1)


@cli.command()
@click.option(
    "--since",
    required=True,
    help="REF (from merge-base(REF, HEAD) to the working tree, untracked files included), A..B or A...B.",
)
@_options(("text", "json", "github-matrix"))
def affected(since: str, root: Path | None, output_format: str) -> None:
    """Members changed since a git revision, and every member that depends on them.

    `--format github-matrix` prints `{"include": [{"member", "path"}]}` for a GitHub Actions job matrix.
    """
    from codegen_lab.uvtools._affected import affected as find_affected, github_matrix  # noqa: PLC0415

    with _reported_errors():
        workspace = _workspace(root)
        result = find_affected(workspace, since)
    if output_format == "json":
        print_result(result.to_result())
        return
    if output_format == "github-matrix":
        click.echo(json.dumps(github_matrix(workspace, result.affected), separators=(",", ":")))
        return
    click.echo(f"{len(result.files)} file(s) changed in {since}")
    for name in result.changed:
        click.echo(f"changed   {name}  ({', '.join(result.reasons[name][:3])})")
    for name in result.affected:
        if name not in result.changed:
            click.echo(f"affected  {name}")


def main() -> None:
    """Run the `codegen-lab-uvtools` command."""
    cli(prog_name="codegen-lab-uvtools")
