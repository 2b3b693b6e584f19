"""The `ws` commands about environments and the index: `venv`, `sync`, `upgrade`, `outdated`, `audit`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from codegen_lab.uvtools._cli_common import (
    chosen,
    member_filter_option,
    options,
    print_result,
    reported_errors,
    table,
    workspace_at,
)

if TYPE_CHECKING:
    from codegen_lab.uvtools._health import AuditReport
    from codegen_lab.uvtools._manage import UvChange

__all__ = ["register"]


def _show_change(result: UvChange, output_format: str) -> None:
    if output_format == "json":
        print_result(result.to_result())
    else:
        click.echo(("" if result.applied else "would run: ") + " ".join(result.to_result().command))
        if result.output:
            click.echo(result.output)
    if result.applied and result.returncode != 0:
        sys.exit(1)


@click.command()
@click.option("--create", is_flag=True, help="Create the .venv (`uv venv`) instead of inspecting it.")
@click.option("--python", "python_version", default=None, help="With --create: the Python version or path.")
@click.option("--dry-run", is_flag=True, help="With --create: show the uv command and run nothing.")
@options()
def venv(create: bool, python_version: str | None, dry_run: bool, root: Path | None, output_format: str) -> None:
    """The workspace's .venv: its Python and its drift from uv.lock (or create it with --create)."""
    from codegen_lab.uvtools._lock import read_lock  # noqa: PLC0415
    from codegen_lab.uvtools._manage import create_venv, inspect_venv  # noqa: PLC0415

    with reported_errors():
        workspace = workspace_at(root)
        if create:
            _show_change(create_venv(workspace, python=python_version, apply=not dry_run), output_format)
            return
        lock_path = workspace.root / "uv.lock"
        report = inspect_venv(workspace, read_lock(lock_path) if lock_path.is_file() else None)
    if output_format == "json":
        print_result(report.to_result())
        return
    if not report.exists:
        click.echo(f"no virtual environment at {report.path}; create it with `uv sync`")
        return
    click.echo(f"{report.path}: Python {report.python}, {report.installed} distributions installed")
    for entry in report.drift:
        locked = entry["locked"] or "(not locked)"
        click.echo(f"  drift {entry['name']}: installed {entry['installed']}, locked {locked}")


@click.command("sync")
@click.option("--member", default=None, help="Only this member (default: every member).")
@click.option("--dry-run", is_flag=True, help="Show the uv command and run nothing.")
@options()
def sync_command(member: str | None, dry_run: bool, root: Path | None, output_format: str) -> None:
    """Install the lock into the workspace's environment (`uv sync`)."""
    from codegen_lab.uvtools._manage import sync  # noqa: PLC0415

    with reported_errors():
        result = sync(workspace_at(root, lock_notice=False), member=member, apply=not dry_run)
    _show_change(result, output_format)


@click.command("upgrade")
@click.argument("packages", nargs=-1, required=True)
@click.option("--dry-run", is_flag=True, help="Show the uv command and run nothing.")
@options()
def upgrade_command(packages: tuple[str, ...], dry_run: bool, root: Path | None, output_format: str) -> None:
    """Move PACKAGES to their newest allowed versions in the lock (`uv lock --upgrade-package`)."""
    from codegen_lab.uvtools._manage import upgrade  # noqa: PLC0415

    with reported_errors():
        result = upgrade(workspace_at(root, lock_notice=False), list(packages), apply=not dry_run)
    _show_change(result, output_format)


@click.command("outdated")
@member_filter_option
@click.option("--offline", is_flag=True, help="Do not ask the index.")
@options()
def outdated_command(members: tuple[str, ...], offline: bool, root: Path | None, output_format: str) -> None:
    """Each member's direct dependencies with a newer version on the index."""
    from rich.progress import Progress  # noqa: PLC0415

    from codegen_lab.uvtools._cli_common import console  # noqa: PLC0415
    from codegen_lab.uvtools._health import outdated  # noqa: PLC0415

    with reported_errors():
        workspace = workspace_at(root)
        with Progress(console=console(stderr=True), transient=True, disable=offline) as progress:
            selected = chosen(workspace, members)
            task = progress.add_task("asking the index", total=len(selected or workspace.members))
            report = outdated(
                workspace,
                members=selected,
                offline=offline,
                on_member=lambda _name: progress.advance(task),
            )
    if output_format == "json":
        print_result(report.to_result())
        return
    rows = [[m, e["name"], e["version"], e["latest"]] for m, entries in report.members.items() for e in entries]
    if rows:
        table("Outdated", ["member", "package", "locked", "latest"], rows)
    for member, reason in report.unchecked.items():
        click.echo(f"{member}: not checked ({reason})")
    if not rows and not report.unchecked:
        click.echo("everything is up to date")


@click.command("audit")
@member_filter_option
@click.option("--offline", is_flag=True, help="Do not ask the vulnerability service.")
@click.option("--service-url", default=None, help="Another OSV-compatible service (default: uv's, api.osv.dev).")
@options()
def audit_command(
    members: tuple[str, ...], offline: bool, service_url: str | None, root: Path | None, output_format: str
) -> None:
    """Known vulnerabilities of the locked packages (`uv audit`), with the members that need each package.

    Exits with 1 when something was found, with 3 when the service could not be asked (it says why).
    """
    from codegen_lab.uvtools._health import audit  # noqa: PLC0415

    with reported_errors():
        workspace = workspace_at(root)
        report = audit(workspace, members=chosen(workspace, members), offline=offline, service_url=service_url)
    if output_format == "json":
        print_result(report.to_result())
    elif not report.checked:
        click.echo(f"not checked: {report.reason}")
    else:
        _show_audit(report)
    if report.findings:
        sys.exit(1)
    if not report.checked:
        sys.exit(3)


def _show_audit(report: AuditReport) -> None:
    click.echo(f"{report.audited_packages} locked packages audited, {len(report.findings)} findings")
    for finding in report.findings:
        summary = finding.details.get("summary") or finding.details.get("reason") or ""
        fixed = ", ".join(finding.details.get("fix_versions") or ())
        click.echo(f"{finding.label}: {summary}".rstrip(": "))
        if fixed:
            click.echo(f"  fixed in: {fixed}")
        for member, paths in finding.members.items():
            for path in paths:
                click.echo(f"  {member}: {' -> '.join(path)}")
    clean = [member for member, found in report.by_member().items() if not found]
    if clean:
        click.echo(f"nothing found for: {', '.join(clean)}")


def register(group: click.Group) -> None:
    """Add these commands to the `ws` group."""
    for command in (venv, sync_command, upgrade_command, outdated_command, audit_command):
        group.add_command(command)
