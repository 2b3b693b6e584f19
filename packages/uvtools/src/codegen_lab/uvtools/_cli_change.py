"""The `ws` commands that run or change things, and the hygiene checks.

`run`, `bump`, `release plan`, `deps check`, `lint`, `add`, `remove`, `venv`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import click

from codegen_lab.uvtools._cli_common import (
    chosen,
    console,
    edges_option,
    member_filter_option,
    options,
    print_result,
    reported_errors,
    table,
    workspace_at,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from pydantic import BaseModel

    from codegen_lab.uvtools._hygiene import Finding
    from codegen_lab.uvtools._runner import MemberResult

__all__ = ["register"]


def _show_findings(findings: list[Finding], output_format: str, result: Callable[[], BaseModel]) -> None:
    if output_format == "json":
        print_result(result())
    elif findings:
        table("Findings", ["kind", "member", "what"], [[f.kind, f.member or "-", f.message] for f in findings])
    else:
        click.echo("no findings")
    if findings:
        sys.exit(1)


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@member_filter_option
@click.option("--since", default=None, help="Only the members affected since this git revision.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True, help="Members run at once.")
@click.option("--keep-going", is_flag=True, help="After a failure, run the members that do not depend on it.")
@click.option("--log-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="One log per member.")
@click.option("--dry-run", is_flag=True, help="Show the order and run nothing.")
@click.option(
    "--isolated", is_flag=True, help="Each member in an environment of its own alone (uv run --package X --exact)."
)
@edges_option
@options()
def run(
    command: tuple[str, ...],
    members: tuple[str, ...],
    isolated: bool,
    order_kinds: tuple[str, ...],
    since: str | None,
    jobs: int,
    keep_going: bool,
    log_dir: Path | None,
    dry_run: bool,
    root: Path | None,
    output_format: str,
) -> None:
    """Run COMMAND in each member's folder, dependency-first (put it after --: `ws run -- pytest -q`)."""
    from rich.progress import Progress  # noqa: PLC0415

    from codegen_lab.uvtools._affected import affected  # noqa: PLC0415
    from codegen_lab.uvtools._runner import run_many  # noqa: PLC0415

    with reported_errors():
        workspace = workspace_at(root)
        selected = chosen(workspace, members)
        if since is not None:
            touched = set(affected(workspace, since).affected)
            selected = [name for name in (selected or workspace.names) if name in touched]
        with Progress(console=console(stderr=True), transient=True, disable=dry_run) as progress:
            task = progress.add_task("running", total=len(selected) if selected is not None else len(workspace.members))

            def done(result: MemberResult) -> None:
                progress.advance(task)
                if output_format == "text":
                    progress.console.print(f"{result.status:<8} {result.member} ({result.seconds:.1f} s)")

            summary = run_many(
                workspace,
                command,
                members=selected,
                jobs=jobs,
                keep_going=keep_going,
                apply=not dry_run,
                log_dir=log_dir,
                on_done=done,
                order_kinds=order_kinds,
                isolated=isolated,
            )
    if output_format == "json":
        print_result(summary)
    elif dry_run:
        click.echo("would run in order: " + ", ".join(summary.order))
    else:
        for result in summary.results:
            if result.status == "failed":
                click.echo(f"--- {result.member} failed ({result.returncode}):\n{result.output}", err=True)
        click.echo(
            f"{sum(r.status == 'passed' for r in summary.results)} passed, "
            f"{sum(r.status == 'failed' for r in summary.results)} failed, "
            f"{sum(r.status == 'skipped' for r in summary.results)} skipped"
        )
    if not summary.ok:
        sys.exit(1)


_PARTS = click.Choice(["major", "minor", "patch", "alpha", "beta", "rc", "post", "dev", "stable"])


@click.command()
@click.argument("member")
@click.argument("part", type=_PARTS)
@click.option("--pre", type=click.Choice(["alpha", "beta", "rc"]), default=None, help="Start this pre-release too.")
@click.option("--dependents", type=_PARTS, default=None, help="Also bump every transitive dependent by this part.")
@click.option("--dry-run", is_flag=True, help="Show the edits and write nothing.")
@click.option("--no-lock", is_flag=True, help="Do not run `uv lock` afterwards.")
@options()
def bump(
    member: str,
    part: str,
    pre: str | None,
    dependents: str | None,
    dry_run: bool,
    no_lock: bool,
    root: Path | None,
    output_format: str,
) -> None:
    """Bump MEMBER's version by PART and rewrite its dependents' requirements on it (style kept)."""
    from codegen_lab.uvtools._versions import bump as do_bump  # noqa: PLC0415

    with reported_errors():
        workspace = workspace_at(root, lock_notice=False)
        plan = do_bump(workspace, member, part, pre=pre, dependents=dependents, apply=not dry_run, lock=not no_lock)
    if output_format == "json":
        print_result(plan)
        return
    for name, (old, new) in plan.versions.items():
        click.echo(f"{name}: {old} -> {new}")
    for edit in plan.edits:
        click.echo(f"  {edit.path.relative_to(workspace.root)} {edit.field}: {edit.before!r} -> {edit.after!r}")
    click.echo(
        "written" + ("" if plan.locked is None else f", uv lock {'ok' if plan.locked else 'FAILED'}")
        if plan.applied
        else "dry run: nothing written"
    )


@click.group()
def release() -> None:
    """Releases: what to publish, in which order."""


@release.command("plan")
@click.option("--index", default="https://pypi.org/simple", show_default=True, help="A PEP 691 simple index.")
@click.option("--offline", is_flag=True, help="Do not ask the index; every member is reported unchecked.")
@options()
def release_plan(index: str, offline: bool, root: Path | None, output_format: str) -> None:
    """The packaged members in publish order, skipping versions the index already has."""
    from codegen_lab.uvtools._release import release_plan as plan_release  # noqa: PLC0415

    with reported_errors():
        plan = plan_release(workspace_at(root), index=index, offline=offline)
    if output_format == "json":
        print_result(plan.to_result())
        return
    rows = [[str(n), s.member, s.version or "-", s.status, s.reason or ""] for n, s in enumerate(plan.steps, 1)]
    table(f"Release plan against {plan.index}", ["#", "member", "version", "status", "note"], rows)


@click.group()
def deps() -> None:
    """Dependency hygiene."""


@deps.command("check")
@member_filter_option
@click.option(
    "--python",
    "python",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The interpreter whose distributions provide the modules (default: the workspace's .venv).",
)
@options()
def deps_check(members: tuple[str, ...], python: Path | None, root: Path | None, output_format: str) -> None:
    """Each member's imports against its declared dependencies: missing, only transitive, unused."""
    from codegen_lab.uvtools._hygiene import check_deps  # noqa: PLC0415
    from codegen_lab.uvtools._lock import read_lock  # noqa: PLC0415

    with reported_errors():
        workspace = workspace_at(root)
        lock_path = workspace.root / "uv.lock"
        report = check_deps(
            workspace,
            read_lock(lock_path) if lock_path.is_file() else None,
            members=chosen(workspace, members),
            python=python,
        )
    if output_format == "text":
        click.echo(f"checked {', '.join(report.checked)} (modules from {report.module_source})")
    _show_findings(report.findings, output_format, report.to_result)


@click.command()
@options()
def lint(root: Path | None, output_format: str) -> None:
    """Consistency across members: specifiers, requires-python, internal ranges and sources."""
    from codegen_lab.uvtools._hygiene import lint as run_lint, lint_result  # noqa: PLC0415

    with reported_errors():
        findings = run_lint(workspace_at(root))
    _show_findings(findings, output_format, lambda: lint_result(findings))


def _change(action: Literal["add", "remove"]) -> click.Command:
    @click.command(action, help=f"{action.capitalize()} REQUIREMENTS of MEMBER through `uv {action} --package`.")
    @click.argument("member")
    @click.argument("requirements", nargs=-1, required=True)
    @click.option("--group", default=None, help="In this dependency group.")
    @click.option("--optional", default=None, help="In this extra.")
    @click.option("--dry-run", is_flag=True, help="Show the uv command and run nothing.")
    @options()
    def change(
        member: str,
        requirements: tuple[str, ...],
        group: str | None,
        optional: str | None,
        dry_run: bool,
        root: Path | None,
        output_format: str,
    ) -> None:
        from codegen_lab.uvtools._manage import change_dependency  # noqa: PLC0415

        with reported_errors():
            result = change_dependency(
                workspace_at(root, lock_notice=False),
                action,
                member,
                list(requirements),
                group=group,
                optional=optional,
                apply=not dry_run,
            )
        if output_format == "json":
            print_result(result.to_result())
        else:
            click.echo(" ".join(result.to_result().command))
            if result.output:
                click.echo(result.output)
        if result.applied and result.returncode != 0:
            sys.exit(1)

    return change


def register(group: click.Group) -> None:
    """Add these commands to the `ws` group."""
    for command in (run, bump, release, deps, lint, _change("add"), _change("remove")):
        group.add_command(command)
