"""Outdated dependencies and known vulnerabilities, through uv; offline, a clear message instead."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

from codegen_lab.uvtools._lock import Lock, read_lock
from codegen_lab.uvtools._lockops import PathFinder
from codegen_lab.uvtools._model import Workspace, normalize_name
from codegen_lab.uvtools._process import run, uv_binary

if TYPE_CHECKING:
    from codegen_lab.uvtools._tool_results import AuditFinding as AuditFindingResult, AuditResult, OutdatedResult

__all__ = ["AuditFinding", "AuditReport", "OutdatedReport", "audit", "audit_failure", "outdated", "parse_audit"]

_OUTDATED = re.compile(r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*) v(?P<version>\S+) \(latest: v(?P<latest>[^)\s]+)\)")


@dataclass(slots=True)
class OutdatedReport:
    """Direct dependencies with a newer version on the index, per member; `unchecked` says why one was not asked."""

    members: dict[str, list[dict[str, str]]] = field(default_factory=dict[str, list[dict[str, str]]])
    unchecked: dict[str, str] = field(default_factory=dict[str, str])

    def to_result(self) -> OutdatedResult:
        """The report as the result the CLI prints as JSON and the MCP tool returns."""
        from codegen_lab.uvtools._tool_results import OutdatedResult  # noqa: PLC0415

        return OutdatedResult.model_validate({"members": self.members, "unchecked": self.unchecked})


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


AUDIT_PATHS = 5
"""At most this many paths are shown from one member to one vulnerable package."""


@dataclass(frozen=True, slots=True)
class AuditFinding:
    """One thing `uv audit` found about a locked package, and the members that need that package.

    Attributes:
        package: The package's normalized name.
        version: Its locked version (None for a project status, which is about every version).
        kind: `vulnerability`, or `status` for an adverse project status (archived, quarantined, deprecated).
        id: The vulnerability's id, or the status.
        details: The rest of uv's entry as it printed it (`display_id`, `aliases`, `summary`, `link`,
            `fix_versions`, ...; `reason` for a status).
        members: Each member that needs the package, directly or transitively, with its paths to it as `why`
            writes them: the `AUDIT_PATHS` shortest of the first paths found (four times as many), shortest first.
    """

    package: str
    version: str | None
    kind: Literal["vulnerability", "status"]
    id: str
    details: Mapping[str, Any]
    members: Mapping[str, tuple[tuple[str, ...], ...]]

    @property
    def label(self) -> str:
        """`package version: id` (`package: status` for a project status)."""
        return f"{self.package}{f' {self.version}' if self.version else ''}: {self.id}"

    def to_result(self) -> AuditFindingResult:
        """`{"package", "version", "kind", "id", **details, "members": {member: [[path]]}}`."""
        from codegen_lab.uvtools._tool_results import AuditFinding as AuditFindingResult  # noqa: PLC0415

        head = {"package": self.package, "version": self.version, "kind": self.kind, "id": self.id}
        return AuditFindingResult.model_validate({**head, **self.details, "members": self.members})


@dataclass(frozen=True, slots=True)
class AuditReport:
    """What `uv audit` found, attributed to the members that need each package; or why it could not run.

    Attributes:
        checked: Whether the vulnerability service answered.
        reason: Why not, when `checked` is false.
        audited_packages: How many locked packages uv asked about.
        findings: Vulnerabilities and adverse project statuses, each with the members that need the package.
        members: The members the report is about (every member, or those asked for).
    """

    checked: bool
    reason: str | None = None
    audited_packages: int = 0
    findings: tuple[AuditFinding, ...] = ()
    members: tuple[str, ...] = ()

    def by_member(self) -> dict[str, list[str]]:
        """Each member mapped to the findings that concern it, as `package version: id` (empty when clean)."""
        found: dict[str, list[str]] = {member: [] for member in self.members}
        for finding in self.findings:
            for member in finding.members:
                found.setdefault(member, []).append(finding.label)
        return found

    def to_result(self) -> AuditResult:
        """The report as the result the CLI prints as JSON and the MCP tool returns.

        `{"checked", "reason", "audited_packages", "findings": [...], "members": {member: ["pkg 1.0: ID"]}}`.
        """
        from codegen_lab.uvtools._tool_results import AuditResult  # noqa: PLC0415

        return AuditResult.model_validate(
            {
                "checked": self.checked,
                "reason": self.reason,
                "audited_packages": self.audited_packages,
                "findings": [finding.to_result() for finding in self.findings],
                "members": self.by_member() if self.checked else {},
            }
        )


def audit(
    workspace: Workspace,
    *,
    members: Sequence[str] | None = None,
    offline: bool = False,
    service_url: str | None = None,
) -> AuditReport:
    """Known vulnerabilities of the locked packages (`uv audit`, which asks OSV), per member.

    Each finding names the members that need the package, directly or through other packages, with the paths
    (as `why` gives them). `members` keeps only the findings that concern those members. `service_url` asks
    another OSV-compatible service. Offline, or when the service cannot be reached, the report says so
    (`checked` false, with the reason) instead of failing.

    Raises:
        WorkspaceError: When a member named in `members` is unknown.
        LockFileError: When uv audit answered but the workspace's uv.lock cannot be read.
    """
    chosen = workspace.names if members is None else tuple(dict.fromkeys(workspace.member(m).name for m in members))
    if offline:
        return AuditReport(False, "offline: the vulnerability service was not asked", members=chosen)
    command = [uv_binary(), "audit", "--frozen", "--output-format", "json"]
    command += ["--preview-features", "audit-command,json-output", "--directory", str(workspace.root)]
    if service_url is not None:
        command.append(f"--service-url={service_url}")  # one argument: a value never reads as an option
    completed = run(command, cwd=workspace.root, check=False)
    try:
        result: Any = json.loads(completed.stdout)
    except ValueError:
        return AuditReport(False, audit_failure(completed.stderr), members=chosen)
    return parse_audit(result, read_lock(workspace.root / "uv.lock"), members=None if members is None else chosen)


def audit_failure(stderr: str) -> str:
    """Why `uv audit` printed no report, in one line, from what it wrote on stderr."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line.removeprefix("error:").strip() for line in lines if line.startswith("error:")]
    causes = [line.removeprefix("cause:").strip() for line in lines if line.startswith("cause:")]
    if "offline mode" in " ".join(errors):
        return "offline: uv audit needs the network and uv is set to work offline (UV_OFFLINE or --offline)"
    if any(cause.startswith("error sending request") for cause in causes):
        return f"the vulnerability service could not be reached: {causes[0]} ({causes[-1]})"
    if errors:
        return f"uv audit could not run: {errors[0]}" + (f" ({causes[-1]})" if causes else "")
    return f"uv audit could not run: {_last_line(stderr)}"


def parse_audit(data: Any, lock: Lock, *, members: Sequence[str] | None = None) -> AuditReport:
    """Attribute the findings of `uv audit --output-format json` to the workspace members that need them.

    `data` is uv's report as parsed JSON (`summary`, `vulnerabilities`, `adverse_statuses`); the paths come from
    `lock`'s dependency graph. With `members`, only the findings that concern one of them are kept. A report
    of a shape this function does not know gives `checked` false with the reason.
    """
    chosen = tuple(members) if members is not None else lock.member_names
    try:
        summary = cast("dict[str, Any]", data["summary"])
        entries = [
            *(_vulnerability(item) for item in cast("list[dict[str, Any]]", data["vulnerabilities"])),
            *(_status(item) for item in cast("list[dict[str, Any]]", data.get("adverse_statuses", []))),
        ]
        audited = int(summary["audited_packages"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return AuditReport(False, f"uv audit printed a report this version cannot read ({exc!r})", members=chosen)
    finder = PathFinder(lock)
    findings: list[AuditFinding] = []
    for package, version, kind, ident, details in entries:
        found = finder.paths(package, version=version, members=chosen, limit=AUDIT_PATHS * 4)
        if members is not None and not found:
            continue
        paths = {member: tuple(tuple(p) for p in sorted(ps, key=len)[:AUDIT_PATHS]) for member, ps in found.items()}
        findings.append(AuditFinding(package, version, kind, ident, details, paths))
    return AuditReport(True, None, audited, tuple(findings), chosen)


# The keys AuditFinding.to_result writes itself: a field of uv's with one of these names is left out.
_OURS = frozenset({"package", "version", "kind", "id", "members"})

_Entry = tuple[str, str | None, Literal["vulnerability", "status"], str, dict[str, Any]]


def _vulnerability(item: dict[str, Any]) -> _Entry:
    dependency = cast("dict[str, Any]", item["dependency"])
    details = {key: value for key, value in item.items() if key not in _OURS and key not in {"dependency", "id"}}
    return normalize_name(dependency["name"]), str(dependency["version"]), "vulnerability", str(item["id"]), details


def _status(item: dict[str, Any]) -> _Entry:
    details = {key: value for key, value in item.items() if key not in _OURS and key not in {"name", "status"}}
    return normalize_name(item["name"]), None, "status", str(item["status"]), details
