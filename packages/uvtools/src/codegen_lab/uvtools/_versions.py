"""Bumping a member's version and rewriting its dependents' requirements on it, keeping each file's style."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import tomlkit
from packaging.requirements import Requirement
from packaging.version import InvalidVersion, Version

from codegen_lab.common.files import ChangeSet
from codegen_lab.uvtools._files import write_files
from codegen_lab.uvtools._graph import Graph
from codegen_lab.uvtools._model import Workspace, normalize_name
from codegen_lab.uvtools._process import run, uv_binary
from codegen_lab.uvtools.errors import WorkspaceError

if TYPE_CHECKING:
    from codegen_lab.uvtools._tool_results import BumpResult

__all__ = ["BUMP_PARTS", "BumpPlan", "FileEdit", "bump", "bump_version", "rewrite_requirement"]

logger = logging.getLogger(__name__)

BumpPart = Literal["major", "minor", "patch", "alpha", "beta", "rc", "post", "dev", "stable"]
BUMP_PARTS: tuple[str, ...] = ("major", "minor", "patch", "alpha", "beta", "rc", "post", "dev", "stable")
_PRE = {"alpha": "a", "beta": "b", "rc": "rc"}
_CLAUSE = re.compile(r"(===|==|~=|!=|<=|>=|<|>)(\s*)([0-9][0-9A-Za-z.+!*-]*)")


def bump_version(version: str, part: str, *, pre: str | None = None) -> str:
    """The version after bumping `part`, as `uv version --bump` does.

    `major`, `minor` and `patch` bump a release component (`pre` then starts a pre-release of it: `minor` with
    `pre="beta"` turns 1.2.3 into 1.3.0b1); `alpha`, `beta`, `rc` move along the pre-releases of the same
    release; `post` and `dev` count those segments; `stable` drops pre, post and dev segments.

    Raises:
        WorkspaceError: When the version is not PEP 440, the part unknown, or the result not greater.
    """
    try:
        current = Version(version)
    except InvalidVersion:
        raise WorkspaceError(f"version {version!r} is not a PEP 440 version") from None
    if part not in BUMP_PARTS or (pre is not None and pre not in _PRE):
        raise WorkspaceError(
            f"cannot bump {part!r}" + (f" with {pre!r}" if pre else ""), hint=f"Use {', '.join(BUMP_PARTS)}"
        )
    release = list(current.release)
    pre_text = "".join(map(str, current.pre)) if current.pre is not None else ""
    post_text = f".post{current.post}" if current.post is not None else ""
    if part in {"major", "minor", "patch"}:
        index = ("major", "minor", "patch").index(part)
        release += [0] * (index + 1 - len(release))
        release[index] += 1
        release[index + 1 :] = [0] * (len(release) - index - 1)
        new = ".".join(map(str, release)) + (f"{_PRE[pre]}1" if pre else "")
    elif part in _PRE:
        same = current.pre is not None and current.pre[0] == _PRE[part]
        new = f"{current.base_version}{_PRE[part]}{cast('tuple[str, int]', current.pre)[1] + 1 if same else 1}"
    elif part == "post":
        new = f"{current.base_version}{pre_text}.post{(current.post or 0) + 1}"
    elif part == "dev":
        new = f"{current.base_version}{pre_text}{post_text}.dev{(current.dev or 0) + 1}"
    else:
        new = current.base_version
    if Version(new) <= current:
        raise WorkspaceError(
            f"bumping {part} turns {version} into {new}, which is not greater",
            hint="Bump a release component too (for example `minor` with a pre-release)",
        )
    return new


def _styled(version: Version, length: int) -> str:
    release = list(version.release)
    while len(release) > max(length, 1) and release[-1] == 0:
        release.pop()
    text = ".".join(map(str, release))
    if version.pre is not None:
        text += "".join(map(str, version.pre))
    if version.post is not None:
        text += f".post{version.post}"
    if version.dev is not None:
        text += f".dev{version.dev}"
    return text


def rewrite_requirement(text: str, new_version: str) -> str:
    """`text` (a requirement on the bumped member) accepting `new_version`, in the same style.

    Lower bounds (`>=`, `~=`, `==`) move to the new version, with as many components as were written; an upper
    bound the new version reaches moves up at its own precision. `>=0.1,<0.2` becomes `>=0.2,<0.3` for 0.2.0.
    """
    new = Version(new_version)
    name_end = len(Requirement(text).name)
    head, rest = text[:name_end], text[name_end:]
    specifier, semicolon, marker = rest.partition(";")

    def replace(match: re.Match[str]) -> str:
        operator, space, written = match.groups()
        length = len(written.split("+")[0].split("."))
        if operator in {">=", "~=", "==", "==="}:
            return f"{operator}{space}{_styled(new, length)}" if not written.endswith("*") else match.group(0)
        if operator in {"<", "<="}:
            try:
                bound = Version(written)
            except InvalidVersion:
                return match.group(0)
            if (operator == "<" and new >= bound) or (operator == "<=" and new > bound):
                parts = [*new.release, 0, 0][:length]
                parts[-1] += 1
                return f"{operator}{space}{'.'.join(map(str, parts))}"
        return match.group(0)

    return head + _CLAUSE.sub(replace, specifier) + semicolon + marker


@dataclass(frozen=True, slots=True)
class FileEdit:
    """One change to a pyproject.toml: a version or a requirement, before and after."""

    path: Path
    field: str
    before: str
    after: str


@dataclass(slots=True)
class BumpPlan:
    """What `bump` does (or did, once applied): new versions and every file edit."""

    root: Path
    """The workspace root (the edits' paths are shown relative to it)."""
    versions: dict[str, tuple[str, str]] = field(default_factory=dict[str, tuple[str, str]])
    edits: list[FileEdit] = field(default_factory=list[FileEdit])
    applied: bool = False
    locked: bool | None = None

    def to_result(self) -> BumpResult:
        """`{"versions": {member: {"before", "after"}}, "edits": [...], "applied", "locked"}` (`ws_bump`'s result)."""
        from codegen_lab.uvtools._tool_results import BumpResult  # noqa: PLC0415

        edits = [
            {
                "path": edit.path.relative_to(self.root).as_posix(),
                "field": edit.field,
                "before": edit.before,
                "after": edit.after,
            }
            for edit in self.edits
        ]
        return BumpResult.model_validate(
            {
                "versions": {name: {"before": old, "after": new} for name, (old, new) in self.versions.items()},
                "edits": edits,
                "applied": self.applied,
                "locked": self.locked,
            }
        )


def _edit_document(document: Any, path: Path, name: str, new_version: str, edits: list[FileEdit]) -> None:
    project = document.get("project", {})
    arrays: list[tuple[str, Any]] = [("project.dependencies", project.get("dependencies", []))]
    arrays += [
        (f"project.optional-dependencies.{extra}", items)
        for extra, items in project.get("optional-dependencies", {}).items()
    ]
    arrays += [(f"dependency-groups.{group}", items) for group, items in document.get("dependency-groups", {}).items()]
    for where, items in arrays:
        for index, item in enumerate(list(items)):
            if not isinstance(item, str) or normalize_name(Requirement(item).name) != name:
                continue
            new = rewrite_requirement(str(item), new_version)
            if new != item:
                items[index] = new
                edits.append(FileEdit(path, where, str(item), new))


def bump(
    workspace: Workspace,
    member: str,
    part: str,
    *,
    pre: str | None = None,
    dependents: str | None = None,
    apply: bool = False,
    lock: bool = True,
    state_dir: Path | None = None,
) -> BumpPlan:
    """Bump `member`'s version and rewrite its dependents' requirements on it (and on each other, when bumped).

    Args:
        workspace: The workspace.
        member: The member to bump.
        part: `major`, `minor`, `patch`, `alpha`, `beta`, `rc`, `post`, `dev` or `stable`.
        pre: With a release part, start this pre-release (`alpha`, `beta`, `rc`).
        dependents: Also bump every transitive dependent by this part (default: only rewrite their requirements).
        apply: Write the files (default: only say what would change).
        lock: After writing, run `uv lock` so the lock records the new versions.
        state_dir: Where the journal that `codegen-lab undo` reads lives (default: the user's state folder).

    Raises:
        WorkspaceError: When the member is unknown, its version dynamic, or the bump not valid.
    """
    target = workspace.member(member)
    bumps = {target.name: part}
    if dependents is not None:
        for name in Graph.of(workspace).dependents(target.name, transitive=True):
            bumps[name] = dependents
    plan = BumpPlan(workspace.root)
    documents: dict[Path, Any] = {}
    for name, how in bumps.items():
        current = workspace.member(name)
        if current.version is None:
            raise WorkspaceError(
                "[project] version is dynamic: uvtools bumps only static versions", path=current.pyproject
            )
        plan.versions[name] = (
            current.version,
            bump_version(current.version, how, pre=pre if name == target.name else None),
        )
    for current in workspace.members:
        document = tomlkit.parse(current.pyproject.read_text(encoding="utf-8"))
        edits_before = len(plan.edits)
        if current.name in plan.versions:
            old, new = plan.versions[current.name]
            cast("Any", document)["project"]["version"] = new
            plan.edits.append(FileEdit(current.pyproject, "project.version", old, new))
        for name, (_, new) in plan.versions.items():
            if name in current.internal_dependencies:
                _edit_document(document, current.pyproject, name, new, plan.edits)
        if len(plan.edits) > edits_before:
            documents[current.pyproject] = document
    if apply:
        with ChangeSet(
            workspace.root, f"bump {target.name} {part}", state_dir=state_dir
        ) as change:  # one undo takes back the lock too
            write_files(change, {path: tomlkit.dumps(document) for path, document in documents.items()})
            plan.applied = True
            if lock:
                change.snapshot(workspace.root / "uv.lock")
                completed = run(
                    [uv_binary(), "lock", "--directory", str(workspace.root)], cwd=workspace.root, check=False
                )
                plan.locked = completed.returncode == 0
                if not plan.locked:
                    logger.warning("uv lock failed after the bump: %s", completed.stderr.strip())
    return plan
