"""What every `ws` command shares: `--root` and `--format`, error reporting, JSON and table output."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from codegen_lab.common.cli import format_option, reported_errors, result_json, root_option

if TYPE_CHECKING:
    from rich.console import Console

    from codegen_lab.uvtools._model import Workspace

__all__ = [
    "chosen",
    "console",
    "edges_option",
    "member_filter_option",
    "options",
    "print_json",
    "print_result",
    "reported_errors",
    "table",
    "workspace_at",
]

FILTER_HELP = (
    "Only these members (repeat): NAME or GLOB, NAME... (with its dependents), ...NAME (with its dependencies), "
    "./folder (the members in it)."
)


def options[F: Callable[..., Any]](formats: tuple[str, ...] = ("text", "json")) -> Callable[[F], F]:
    """`--format` and `--root`, as every `ws` command takes them."""

    def decorate(fn: F) -> F:
        fn = format_option(formats)(fn)
        return root_option("A folder of the workspace (default: the current directory's workspace).")(fn)

    return decorate


def edges_option[F: Callable[..., Any]](fn: F) -> F:
    """`--edges KIND` (repeatable): the edge kinds that order the members, `project` unless given."""
    return click.option(
        "--edges",
        "order_kinds",
        multiple=True,
        default=("project",),
        show_default=True,
        help="Edge kinds that order the members: project, extra, group, extra:NAME, group:NAME or all (repeat).",
    )(fn)


def member_filter_option[F: Callable[..., Any]](fn: F) -> F:
    """`--member FILTER` (repeatable), as pnpm's `--filter`."""
    return click.option("--member", "members", multiple=True, help=FILTER_HELP)(fn)


def chosen(workspace: Workspace, filters: tuple[str, ...] | list[str] | None) -> list[str] | None:
    """The members `filters` choose (see `select_members`), None for every member."""
    from codegen_lab.uvtools._select import select_members  # noqa: PLC0415

    return select_members(workspace, filters or ())


def workspace_at(root: Path | None, *, lock_notice: bool = True) -> Workspace:
    """The workspace at `root`; with `lock_notice`, a line on stderr when its uv.lock is stale."""
    from codegen_lab.uvtools._model import load_workspace  # noqa: PLC0415

    workspace = load_workspace(root)
    if lock_notice:
        from codegen_lab.uvtools._edges import lock_freshness, read_lock_cached  # noqa: PLC0415
        from codegen_lab.uvtools.errors import LockFileError  # noqa: PLC0415

        try:
            lock = read_lock_cached(workspace.root / "uv.lock")
        except LockFileError as exc:
            click.echo(f"warning: {exc}", err=True)
            return workspace
        if lock is not None and not (freshness := lock_freshness(workspace, lock)).fresh:
            click.echo(f"warning: {freshness.describe()}; answers follow the pyproject files: run `uv lock`", err=True)
    return workspace


def console(stderr: bool = False) -> Console:
    from rich.console import Console  # noqa: PLC0415

    return Console(stderr=stderr, highlight=False)


def print_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2))


def print_result(result: object) -> None:
    """`--format json`: the result as the MCP tool's structured output holds it, by the one serializer (`to_json`).

    `result` is a result model, or a record whose `to_result()` gives one.
    """
    print_json(result_json(result))


def table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    from rich.table import Table  # noqa: PLC0415

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console().print(table)
