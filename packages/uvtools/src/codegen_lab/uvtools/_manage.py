"""Changing a member's dependencies through uv, and looking at the workspace's virtual environment."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from codegen_lab.common.files import ChangeSet
from codegen_lab.uvtools._lock import Lock, read_lock
from codegen_lab.uvtools._model import Workspace, normalize_name
from codegen_lab.uvtools._process import run, uv_binary
from codegen_lab.uvtools._requirements import parse_requirement
from codegen_lab.uvtools.errors import WorkspaceError

if TYPE_CHECKING:
    from codegen_lab.uvtools._tool_results import UvCommandResult, VenvResult

__all__ = ["UvChange", "VenvReport", "change_dependency", "create_venv", "inspect_venv", "sync", "upgrade"]


@dataclass(frozen=True, slots=True)
class UvChange:
    """A uv command that changes the workspace: what it is, and what it said when it ran."""

    command: tuple[str, ...]
    applied: bool
    returncode: int | None = None
    output: str = ""

    def to_result(self) -> UvCommandResult:
        """The change as the result the CLI prints as JSON and the MCP tool returns (the command starts `uv`)."""
        from codegen_lab.uvtools._tool_results import UvCommandResult  # noqa: PLC0415

        shown = ["uv", *self.command[1:]]
        return UvCommandResult(command=shown, applied=self.applied, returncode=self.returncode, output=self.output)


def change_dependency(
    workspace: Workspace,
    action: Literal["add", "remove"],
    member: str,
    requirements: list[str],
    *,
    group: str | None = None,
    optional: str | None = None,
    upgrade: bool = False,
    apply: bool = False,
    state_dir: Path | None = None,
) -> UvChange:
    """Add or remove requirements of `member` with `uv add --package` / `uv remove --package`.

    Args:
        workspace: The workspace.
        action: `add` or `remove`.
        member: The member to change.
        requirements: Requirements (`httpx>=0.27`) to add, or names to remove.
        group: In this dependency group instead of `[project] dependencies`.
        optional: In this extra instead.
        upgrade: With `add`, upgrade the package in the lock too.
        apply: Run the command (default: only return it).
        state_dir: Where the journal that `codegen-lab undo` reads lives (default: the user's state folder).

    Raises:
        WorkspaceError: When the member is unknown, no requirement is given, or both group and optional are.
        CommandError: Never: uv's failure is returned with its exit status and output.
    """
    target = workspace.member(member)
    if not requirements:
        raise WorkspaceError(f"nothing to {action}", hint="Name at least one requirement")
    if group is not None and optional is not None:
        raise WorkspaceError("pass either a group or an extra (optional), not both")
    arguments = [action, "--package", target.name]
    # `--group=NAME`, one argument: a name that starts with `-` cannot pass for an option.
    if group is not None:
        arguments.append(f"--group={group}")
    if optional is not None:
        arguments.append(f"--optional={optional}")
    if upgrade and action == "add":
        arguments += [f"--upgrade-package={normalize_name(parse_requirement(requirements[0]).name)}"]
    touched = (target.pyproject, workspace.root / "pyproject.toml", workspace.root / "uv.lock")
    return _uv_change(workspace, [*arguments, "--", *requirements], apply=apply, touches=touched, state_dir=state_dir)


def _uv_change(
    workspace: Workspace,
    arguments: list[str],
    *,
    apply: bool,
    touches: tuple[Path, ...] = (),
    state_dir: Path | None = None,
) -> UvChange:
    """`uv ARGUMENTS --directory ROOT`, run when `apply` is true, else only returned.

    The files in `touches` (those uv may rewrite) are kept in a journaled change set first, so that
    `codegen-lab undo` puts them back.
    """
    command = [uv_binary(), *arguments[:1], "--directory", str(workspace.root), *arguments[1:]]
    if not apply:
        return UvChange(tuple(command), applied=False)
    with ChangeSet(workspace.root, " ".join(["uv", *arguments]), state_dir=state_dir) as change:
        for path in touches:
            change.snapshot(path)
        completed = run(command, cwd=workspace.root, check=False)
    return UvChange(tuple(command), True, completed.returncode, (completed.stderr + completed.stdout).strip())


def sync(
    workspace: Workspace, *, member: str | None = None, apply: bool = False, state_dir: Path | None = None
) -> UvChange:
    """Install the lock into the workspace's environment: one member (`uv sync --package`) or all of them.

    Raises:
        WorkspaceError: When the member is unknown.
    """
    which = ["--package", workspace.member(member).name] if member is not None else ["--all-packages"]
    lock = (workspace.root / "uv.lock",)
    return _uv_change(workspace, ["sync", *which], apply=apply, touches=lock, state_dir=state_dir)


def upgrade(
    workspace: Workspace, packages: list[str], *, apply: bool = False, state_dir: Path | None = None
) -> UvChange:
    """Let these packages move to their newest allowed versions in the lock (`uv lock --upgrade-package`).

    Raises:
        WorkspaceError: When no package is named, a name is not a distribution name, or uv.lock holds no
            package of that name.
    """
    if not packages:
        raise WorkspaceError("nothing to upgrade", hint="Name at least one package")
    for name in packages:
        if not _NAME.match(name):
            raise WorkspaceError(f"{name!r} is not a package name")
    lock_path = workspace.root / "uv.lock"
    if lock_path.is_file():
        locked = read_lock(lock_path)
        unknown = [name for name in packages if not locked.by_name(normalize_name(name))]
        if unknown:
            raise WorkspaceError(
                f"uv.lock holds no package called {', '.join(map(repr, unknown))}: there is nothing to upgrade",
                hint="Check the name (`ws why NAME`), or add it first (`ws add MEMBER NAME`)",
            )
    arguments = ["lock", *(f"--upgrade-package={name}" for name in packages)]
    return _uv_change(workspace, arguments, apply=apply, touches=(workspace.root / "uv.lock",), state_dir=state_dir)


def create_venv(
    workspace: Workspace, *, python: str | None = None, apply: bool = False, state_dir: Path | None = None
) -> UvChange:
    """Create the workspace's `.venv` (`uv venv`), with this Python version when given.

    Raises:
        WorkspaceError: When `python` looks like an option.
    """
    if python is not None and python.startswith("-"):
        raise WorkspaceError(f"python = {python!r} is not a Python version or path")
    arguments = ["venv", *([f"--python={python}"] if python else [])]
    return _uv_change(workspace, arguments, apply=apply, state_dir=state_dir)


@dataclass(slots=True)
class VenvReport:
    """The workspace's virtual environment against its lock."""

    path: str
    exists: bool
    python: str | None = None
    installed: int = 0
    drift: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])

    def to_result(self) -> VenvResult:
        """The report as the result the CLI prints as JSON and the MCP tool returns."""
        from codegen_lab.uvtools._tool_results import VenvResult  # noqa: PLC0415

        return VenvResult.model_validate(
            {
                "path": self.path,
                "exists": self.exists,
                "python": self.python,
                "installed": self.installed,
                "drift": self.drift,
            }
        )


_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
_DIST_INFO = re.compile(r"^(?P<name>.+?)-(?P<version>[^-]+)\.dist-info$")


def inspect_venv(workspace: Workspace, lock: Lock | None, *, path: Path | None = None) -> VenvReport:
    """The Python version of the workspace's `.venv` and its drift from the lock.

    Drift lists packages installed at another version than the lock's, and installed packages the lock does not
    hold. Locked packages that are not installed are not drift: markers and groups decide what a sync installs.

    Raises:
        WorkspaceError: When `path` is outside the workspace root.
    """
    venv = (path or workspace.root / ".venv").resolve()
    if not venv.is_relative_to(workspace.root):
        raise WorkspaceError(f"{venv} is outside the workspace root {workspace.root}")
    report = VenvReport(path=str(venv), exists=(venv / "pyvenv.cfg").is_file())
    if not report.exists:
        return report
    for line in (venv / "pyvenv.cfg").read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        if key.strip() in {"version_info", "version"}:
            report.python = value.strip()
    installed: dict[str, str] = {}
    for site in venv.glob("lib/python*/site-packages"):
        for entry in site.iterdir():
            if (found := _DIST_INFO.match(entry.name)) is not None:
                installed[normalize_name(found["name"])] = found["version"]
    report.installed = len(installed)
    if lock is not None:
        locked = lock.versions()
        for name, version in sorted(installed.items()):
            if name not in locked:
                report.drift.append({"name": name, "installed": version, "locked": None})
            elif version not in locked[name] and "" not in locked[name]:
                report.drift.append({"name": name, "installed": version, "locked": sorted(locked[name])})
    return report
