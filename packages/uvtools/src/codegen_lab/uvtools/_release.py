"""A release plan: the packaged members in publish order, skipping versions the index already has."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

from codegen_lab.uvtools._graph import Graph
from codegen_lab.uvtools._model import Workspace
from codegen_lab.uvtools.errors import WorkspaceError

if TYPE_CHECKING:
    from codegen_lab.uvtools._tool_results import ReleasePlanResult, ReleaseStep as ReleaseStepResult

__all__ = ["DEFAULT_INDEX", "ReleasePlan", "ReleaseStep", "release_plan"]

logger = logging.getLogger(__name__)

DEFAULT_INDEX = "https://pypi.org/simple"
_ACCEPT = "application/vnd.pypi.simple.v1+json"

StepStatus = Literal["publish", "published", "unchecked", "unpublishable"]


@dataclass(frozen=True, slots=True)
class ReleaseStep:
    """One member in the plan.

    `status` is `publish` (not on the index yet), `published` (skip it) or `unchecked` (the index could not be
    asked, or the version is dynamic and only a build knows it; `reason` says why). `unpublishable` is kept in
    the type for compatibility: a dynamic version is no reason to call a member unpublishable.
    """

    member: str
    version: str | None
    status: StepStatus
    reason: str | None = None

    def to_result(self) -> ReleaseStepResult:
        """The step as the result the CLI prints as JSON and the MCP tool returns."""
        from codegen_lab.uvtools._tool_results import ReleaseStep as ReleaseStepResult  # noqa: PLC0415

        return ReleaseStepResult(member=self.member, version=self.version, status=self.status, reason=self.reason)


@dataclass(slots=True)
class ReleasePlan:
    """Steps in publish order (every member after the members it depends on)."""

    index: str
    offline: bool
    steps: list[ReleaseStep] = field(default_factory=list[ReleaseStep])

    def to_result(self) -> ReleasePlanResult:
        """The plan as the result the CLI prints as JSON and the MCP tool returns.

        `unchecked` lists the members the index was not asked about.
        """
        from codegen_lab.uvtools._tool_results import ReleasePlanResult  # noqa: PLC0415

        return ReleasePlanResult(
            index=self.index,
            offline=self.offline,
            steps=[step.to_result() for step in self.steps],
            unchecked=[step.member for step in self.steps if step.status == "unchecked"],
        )


def _published_versions(index: str, name: str, timeout: float) -> set[str] | None:
    """Versions of `name` on a PEP 691 index, an empty set when it has none, None when it cannot be asked."""
    request = urllib.request.Request(f"{index.rstrip('/')}/{name}/", headers={"Accept": _ACCEPT})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (checked http(s) above)
            document: dict[str, Any] = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return set()
        raise OSError(f"the index answered {exc.code}") from exc
    versions = document.get("versions")
    if isinstance(versions, list):
        return {str(version) for version in cast("list[object]", versions)}
    found: set[str] = set()
    for entry in document.get("files", []):
        filename = str(entry.get("filename", ""))
        stem = filename.removesuffix(".tar.gz").removesuffix(".whl").removesuffix(".zip")
        parts = stem.split("-")
        if len(parts) >= 2:
            found.add(parts[1])
    return found


def release_plan(
    workspace: Workspace, *, index: str = DEFAULT_INDEX, offline: bool = False, timeout: float = 10.0
) -> ReleasePlan:
    """The packaged members in publish order, each marked `publish`, `published`, `unchecked` or `unpublishable`.

    Offline (or when the index cannot be reached) nothing fails: each member is `unchecked`, with the reason.

    Raises:
        CycleError: When the members depend on each other in a cycle.
        WorkspaceError: When `index` is not an http(s) URL.
    """
    if not index.startswith(("https://", "http://")):
        raise WorkspaceError(f"index {index!r} is not an http(s) URL", hint="Pass a PEP 691 simple index")
    plan = ReleasePlan(index=index, offline=offline)
    unreachable: str | None = "offline: the index was not asked" if offline else None
    for name in Graph.of(workspace).order():  # over project edges: an extra or a dev group does not order a release
        member = workspace.member(name)
        if not member.packaged:
            continue
        if member.version is None:
            reason = "the version is dynamic (set when it is built): the index was not compared"
            plan.steps.append(ReleaseStep(name, None, "unchecked", reason))
            continue
        if unreachable is not None:
            plan.steps.append(ReleaseStep(name, member.version, "unchecked", unreachable))
            continue
        try:
            versions = _published_versions(index, name, timeout)
        except (OSError, ValueError) as exc:
            unreachable = f"the index {index} could not be asked: {exc}"
            logger.info(unreachable)
            plan.steps.append(ReleaseStep(name, member.version, "unchecked", unreachable))
            continue
        status: StepStatus = "published" if versions and member.version in versions else "publish"
        plan.steps.append(ReleaseStep(name, member.version, status))
    return plan
