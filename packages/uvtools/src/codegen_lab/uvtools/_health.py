"""Outdated dependencies and known vulnerabilities, through uv; offline, a clear message instead."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from codegen_lab.uvtools._model import Workspace
from codegen_lab.uvtools._process import run, uv_binary

__all__ = ["AuditReport", "OutdatedReport", "audit", "outdated"]

_OUTDATED = re.compile(r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*) v(?P<version>\S+) \(latest: v(?P<latest>[^)\s]+)\)")


@dataclass(slots=True)
class OutdatedReport:
    """Direct dependencies with a newer version on the index, per member; `unchecked` says why one was not asked."""

    members: dict[str, list[dict[str, str]]] = field(default_factory=dict[str, list[dict[str, str]]])
    unchecked: dict[str, str] = field(default_factory=dict[str, str])

    def as_json(self) -> dict[str, Any]:
        """`{"members": {member: [{"name", "version", "latest"}]}, "unchecked": {member: reason}}`."""
        return {"members": self.members, "unchecked": self.unchecked}


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def outdated(
    workspace: Workspace,
    *,
    members: list[str] | None = None,
    offline: bool = False,
    on_member: Callable[[str], None] | None = None,
) -> OutdatedReport:
    """Each member's direct dependencies whose locked version is older than the index's latest (`uv tree --outdated`).

    Offline, or when the index cannot be reached, the members are listed in `unchecked` with the reason.
    `on_member` is called with each member's name once it is done (for progress bars).

    Raises:
        WorkspaceError: When a member named in `members` is unknown.
    """
    report = OutdatedReport()
    chosen = workspace.members if members is None else tuple(workspace.member(name) for name in members)
    for member in chosen:
        _outdated_member(workspace, member.name, report, offline=offline)
        if on_member is not None:
            on_member(member.name)
    return report


def _outdated_member(workspace: Workspace, name: str, report: OutdatedReport, *, offline: bool) -> None:
    if offline:
        report.unchecked[name] = "offline: the index was not asked"
        return
    command = [uv_binary(), "tree", "--outdated", "--depth", "1", "--frozen", "--package", name]
    completed = run([*command, "--directory", str(workspace.root)], cwd=workspace.root, check=False)
    if completed.returncode != 0:
        report.unchecked[name] = f"uv tree could not ask the index: {_last_line(completed.stderr)}"
        return
    report.members[name] = parse_outdated_tree(completed.stdout)


def parse_outdated_tree(text: str) -> list[dict[str, str]]:
    """The `name v1 (latest: v2)` lines of `uv tree --outdated`, as `{"name", "version", "latest"}`."""
    return [
        {"name": found["name"], "version": found["version"], "latest": found["latest"]}
        for found in _OUTDATED.finditer(text)
    ]


@dataclass(frozen=True, slots=True)
class AuditReport:
    """What `uv audit` found for the locked packages, or why it could not run (`checked` false, `reason`)."""

    checked: bool
    reason: str | None = None
    result: Any = None

    def as_json(self) -> dict[str, Any]:
        """`{"checked", "reason", "result"}`: `result` is uv's JSON report as it printed it."""
        return {"checked": self.checked, "reason": self.reason, "result": self.result}


def audit(workspace: Workspace, *, offline: bool = False) -> AuditReport:
    """Known vulnerabilities of the locked packages (`uv audit`, which asks OSV).

    Offline, or when the service cannot be reached, the report says so instead of failing.
    """
    if offline:
        return AuditReport(False, "offline: the vulnerability service was not asked")
    command = [uv_binary(), "audit", "--frozen", "--output-format", "json"]
    command += ["--preview-features", "audit-command,json-output", "--directory", str(workspace.root)]
    completed = run(command, cwd=workspace.root, check=False)
    try:
        result: Any = json.loads(completed.stdout)
    except ValueError:
        return AuditReport(False, f"uv audit could not run: {_last_line(completed.stderr)}")
    return AuditReport(True, None, result)
