"""The workspace model: the root, its members and what each declares, read as uv reads them."""

from __future__ import annotations

import fnmatch
import functools
import glob
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, cast

from codegen_lab.uvtools._log import debug
from codegen_lab.uvtools._requirements import InvalidRequirement, ParsedRequirement, parse_requirement
from codegen_lab.uvtools._tomlcache import TomlCache
from codegen_lab.uvtools.errors import CommandError, WorkspaceError

if TYPE_CHECKING:
    from codegen_lab.uvtools._tool_results import MemberInfo, MembersResult

__all__ = ["Dependency", "Member", "Workspace", "find_root", "glob_members", "load_workspace", "normalize_name"]

_NORMALIZE = re.compile(r"[-_.]+")

DependencyKind = Literal["project", "optional", "group"]
MemberSource = Literal["auto", "uv", "pyproject"]


@functools.lru_cache(maxsize=16384)
def normalize_name(name: str) -> str:
    """A distribution name as uv and PEP 503 compare them: lowercase, runs of `-_.` as one `-`."""
    return _NORMALIZE.sub("-", name).lower()


class Dependency(NamedTuple):
    """One requirement a member declares (a named tuple: a workspace holds thousands, made quickly).

    Attributes:
        name: The normalized distribution name.
        requirement: The requirement as written in pyproject.toml.
        specifier: Its version specifier (`>=1,<2`), empty when there is none.
        marker: Its environment marker, if any.
        kind: `project` (`[project] dependencies`), `optional` (an extra) or `group` (a dependency group).
        group: The extra or group name, for `optional` and `group`.
        internal: Whether it names another member of the workspace.
        source: The kind of `[tool.uv.sources]` entry for it (`workspace`, `path`, `git`, `url`, `index`), if any.
    """

    name: str
    requirement: str
    specifier: str
    marker: str | None
    kind: DependencyKind
    group: str | None
    internal: bool
    source: str | None


class Member(NamedTuple):
    """A workspace member: a folder with a pyproject.toml that has a `[project]` table.

    Attributes:
        name: The normalized project name.
        version: The static version, or None when it is dynamic.
        path: The member's folder (absolute).
        relative: The folder relative to the workspace root, in POSIX form (`.` for the root itself).
        requires_python: The `requires-python` specifier, if declared.
        dependencies: Every requirement: project, optional (extras) and dependency groups.
        extras: The names of its optional-dependency groups.
        groups: The names of its dependency groups.
        packaged: Whether it is built and installed (false for a virtual project, `tool.uv.package = false`).
        dynamic: `[project] dynamic`: the fields a build backend fills in (`dependencies` makes the declared
            requirements unknown here: uv.lock records them).
        group_includes: Each `{include-group = "..."}` of its dependency groups, as `(group, included group)`.
    """

    name: str
    version: str | None
    path: Path
    relative: str
    requires_python: str | None
    dependencies: tuple[Dependency, ...]
    extras: tuple[str, ...]
    groups: tuple[str, ...]
    packaged: bool
    dynamic: tuple[str, ...] = ()
    group_includes: tuple[tuple[str, str], ...] = ()

    @property
    def dynamic_dependencies(self) -> bool:
        """Whether a build backend fills in its dependencies or extras (so its pyproject.toml cannot say them)."""
        return "dependencies" in self.dynamic or "optional-dependencies" in self.dynamic

    @property
    def pyproject(self) -> Path:
        """The member's pyproject.toml."""
        return self.path / "pyproject.toml"

    @property
    def internal_dependencies(self) -> tuple[str, ...]:
        """Names of the members it depends on (any kind), each once, in declaration order."""
        return tuple(dict.fromkeys(dep.name for dep in self.dependencies if dep.internal and dep.name != self.name))

    @property
    def external_dependencies(self) -> tuple[Dependency, ...]:
        """Its requirements on distributions outside the workspace."""
        return tuple(dep for dep in self.dependencies if not dep.internal)

    def to_result(self) -> MemberInfo:
        """The member as `ws_members` lists it; `dependencies` as its pyproject.toml declares them."""
        from codegen_lab.uvtools._tool_results import MemberInfo  # noqa: PLC0415

        return MemberInfo.model_validate(
            {
                "name": self.name,
                "version": self.version,
                "path": self.relative,
                "requires_python": self.requires_python,
                "packaged": self.packaged,
                "extras": self.extras,
                "groups": self.groups,
                "dependencies": self.internal_dependencies,
                "external": [
                    {"requirement": dep.requirement, "kind": dep.kind, "group": dep.group}
                    for dep in self.external_dependencies
                ],
            }
        )


@dataclass(frozen=True, slots=True)
class Workspace:
    """A uv workspace (or a single project, a workspace of one).

    Attributes:
        root: The workspace root folder (absolute).
        members: The members, sorted by name.
        member_globs: `tool.uv.workspace.members` of the root.
        exclude_globs: `tool.uv.workspace.exclude` of the root.
        requires_python: The root's `requires-python`, if it declares one.
        discovered_by: `uv` when `uv workspace metadata` listed the members, else `pyproject`.
    """

    root: Path
    members: tuple[Member, ...]
    member_globs: tuple[str, ...] = ()
    exclude_globs: tuple[str, ...] = ()
    requires_python: str | None = None
    discovered_by: Literal["uv", "pyproject"] = "pyproject"
    _by_name: dict[str, Member] = field(default_factory=dict[str, "Member"], init=False, repr=False, compare=False)
    _by_folder: dict[str, Member] = field(default_factory=dict[str, "Member"], init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_name.update({member.name: member for member in self.members})
        self._by_folder.update({member.relative: member for member in self.members})

    @property
    def names(self) -> tuple[str, ...]:
        """The members' names, sorted."""
        return tuple(member.name for member in self.members)

    def to_result(self) -> MembersResult:
        """The members as `ws_members` returns them, each one's `dependencies` from its edges (`members_result`)."""
        from codegen_lab.uvtools._graph import members_result  # noqa: PLC0415

        return members_result(self)

    def member(self, name: str) -> Member:
        """The member called `name` (compared normalized).

        Raises:
            WorkspaceError: When no member has that name; the message lists the members.
        """
        found = self._by_name.get(normalize_name(name))
        if found is None:
            raise WorkspaceError(
                f"no workspace member is called {name!r}", hint=f"Members: {', '.join(self.names) or '(none)'}"
            )
        return found

    def owner_of(self, path: str | Path) -> Member | None:
        """The member whose folder holds `path` (relative to the root, or absolute): the deepest one wins."""
        candidate = Path(path)
        relative = (_relative_to(candidate, self.root) if candidate.is_absolute() else candidate).as_posix()
        if relative == ".." or relative.startswith("../"):
            return None
        folder = relative
        while True:  # the folder itself, then each parent: the first member found is the deepest
            found = self._by_folder.get(folder)
            if found is not None:
                return found
            cut = folder.rfind("/")
            if cut <= 0:
                return self._by_folder.get(".")
            folder = folder[:cut]


def _relative_to(path: Path, root: Path) -> Path:
    try:
        return path.resolve().relative_to(root)
    except ValueError:
        return Path("..") / path.name


def find_root(start: Path | str | None = None) -> Path:
    """The workspace root for `start` (default: the current directory), found as uv finds it.

    The nearest folder at or above `start` whose pyproject.toml has `[tool.uv.workspace]`; else the nearest
    folder with a pyproject.toml (a single project).

    Raises:
        WorkspaceError: When no pyproject.toml is found at or above `start`.
    """
    return _find_root(start)[0]


def _find_root(start: Path | str | None) -> tuple[Path, TomlCache]:
    """The root as `find_root` finds it, and its parsed-file cache (which read the root's pyproject.toml)."""
    here = Path(start or Path.cwd()).expanduser().resolve()
    if not here.is_dir():
        raise WorkspaceError("is not an existing folder", path=here)
    nearest: tuple[Path, TomlCache] | None = None
    for folder in (here, *here.parents):
        pyproject = folder / "pyproject.toml"
        if not pyproject.is_file():
            continue
        cache = TomlCache(folder)
        nearest = nearest or (folder, cache)
        tool = cache.read(pyproject).get("tool", {})
        uv_table = cast("dict[str, Any]", tool).get("uv") if isinstance(tool, dict) else None
        if isinstance(uv_table, dict) and "workspace" in uv_table:
            return folder, cache
    if nearest is None:
        raise WorkspaceError("no pyproject.toml here or in any parent folder", path=here, hint="Pass --root")
    return nearest


_EMPTY: dict[str, Any] = {}


def _pyproject(folder: str) -> Path:
    """The pyproject.toml of `folder`, as a path for error messages."""
    return Path(folder, "pyproject.toml")


def _table(document: dict[str, Any], dotted: str, folder: str) -> dict[str, Any]:
    if "." not in dotted:  # the common case, without splitting
        found = document.get(dotted, _EMPTY)
        if isinstance(found, dict):
            return cast("dict[str, Any]", found)
        raise WorkspaceError(f"[{dotted}] must be a table", path=_pyproject(folder))
    current: dict[str, Any] = document
    for key in dotted.split("."):
        found: object = current.get(key, {})
        if not isinstance(found, dict):
            raise WorkspaceError(f"[{dotted}] must be a table", path=_pyproject(folder))
        current = cast("dict[str, Any]", found)
    return current


def _strings(value: object, where: str, folder: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in cast("list[object]", value)):
        raise WorkspaceError(f"{where} must be a list of strings", path=_pyproject(folder))
    return tuple(cast("list[str]", value))


def glob_members(root: Path, patterns: tuple[str, ...], excludes: tuple[str, ...]) -> list[Path]:
    """Folders matching `patterns` that hold a pyproject.toml and match no exclude, as uv's globs do."""
    return [Path(folder) for folder in _glob_folders(str(root), patterns, excludes)]


def _glob_folders(base: str, patterns: tuple[str, ...], excludes: tuple[str, ...]) -> list[str]:
    found: dict[str, None] = {}
    cleaned = [exclude.rstrip("/") for exclude in excludes]
    for pattern in patterns:
        for match in sorted(glob.glob(pattern, root_dir=base, recursive=True, include_hidden=True)):
            relative = os.path.normpath(match).replace(os.sep, "/")
            if any(fnmatch.fnmatchcase(relative, exclude) for exclude in cleaned):
                continue
            folder = os.path.join(base, relative) if relative != "." else base
            if os.path.isfile(os.path.join(folder, "pyproject.toml")):
                found[folder] = None
            elif os.path.isdir(folder) and os.listdir(folder):  # as uv: only an empty folder is skipped
                raise WorkspaceError(
                    f"workspace member {relative} is missing a pyproject.toml (matches: {pattern})",
                    path=_pyproject(base),
                    hint="Add its pyproject.toml, list it in [tool.uv.workspace] exclude, or remove the folder",
                )
            else:
                debug(__name__, "%s matches the members glob %r but is a file or an empty folder", folder, pattern)
    return list(found)


@functools.cache
def _uv_has_workspace_metadata() -> bool:
    """Whether the installed uv offers `uv workspace metadata` (experimental; probed once per process)."""
    from codegen_lab.uvtools._process import run, uv_binary, uv_version  # noqa: PLC0415 (subprocess, only here)

    try:
        probe = run([uv_binary(), "workspace", "metadata", "--help"], check=False)
    except CommandError:
        return False
    import logging  # noqa: PLC0415 (_process imports it already)

    if logging.getLogger(__name__).isEnabledFor(logging.DEBUG):
        offered = "offered" if probe.returncode == 0 else "absent"
        debug(__name__, "uv %s: workspace metadata %s", ".".join(map(str, uv_version())), offered)
    return probe.returncode == 0


def _uv_members(root: Path) -> list[Path] | None:
    """The members' folders as `uv workspace metadata` lists them, or None when uv cannot say."""
    if not _uv_has_workspace_metadata():
        return None
    from codegen_lab.uvtools._process import run, uv_binary  # noqa: PLC0415

    command = [uv_binary(), "workspace", "metadata", "--frozen", "--offline", "--preview-features"]
    command += ["workspace-metadata", "--directory", str(root)]
    try:
        completed = run(command, cwd=root)
        document: dict[str, Any] = json.loads(completed.stdout)
        return [Path(str(member["path"])) for member in document["members"]]
    except (CommandError, ValueError, KeyError, TypeError) as exc:
        debug(__name__, "uv workspace metadata is not available here (%s); reading the pyproject files", exc)
        return None


def _source_kinds(tool_uv: dict[str, Any]) -> dict[str, str]:
    sources = tool_uv.get("sources", {})
    kinds: dict[str, str] = {}
    if isinstance(sources, dict):
        for name, entry in cast("dict[str, object]", sources).items():
            first: object = entry
            if isinstance(entry, list):
                first = cast("list[object]", entry)[0] if entry else None
            if isinstance(first, dict):
                keys = set(cast("dict[str, Any]", first))
                kind = next((k for k in ("workspace", "path", "git", "url", "index") if k in keys), "other")
                kinds[normalize_name(name)] = kind
    return kinds


_TABLES = {"project": "[project] dependencies", "optional": "[project.optional-dependencies]"}


def _parse_requirement(text: object, kind: DependencyKind, group: str | None, folder: str) -> ParsedRequirement:
    if isinstance(text, str):
        try:
            return parse_requirement(text)
        except InvalidRequirement as exc:
            problem = f"{text!r} is not a valid requirement: {exc}"
    else:
        problem = f"{text!r} is not a requirement string"
    where = _TABLES.get(kind, "[dependency-groups]") + (f" {group}" if group else "")
    raise WorkspaceError(f"{where}: {problem}", path=_pyproject(folder))


def _relative(inside: str, base: str) -> str:
    """`inside` relative to `base` (folders) in POSIX form, `.` for the base itself."""
    if inside == base:
        return "."
    if inside.startswith(base + os.sep):
        return inside[len(base) + 1 :].replace(os.sep, "/")
    return os.path.relpath(inside, base).replace(os.sep, "/")


def _project_name(document: dict[str, Any], folder: str) -> str | None:
    name = _table(document, "project", folder).get("name")
    return normalize_name(name) if isinstance(name, str) else None


def _read_member(
    folder: str, document: dict[str, Any], root: str, sources: dict[str, str], names: set[str]
) -> Member | None:
    project = _table(document, "project", folder)
    if not project:
        return None
    name = project.get("name")
    if not isinstance(name, str) or not name:
        raise WorkspaceError("[project] name is missing or not a string", path=_pyproject(folder))
    version = project.get("version")
    if version is not None and not isinstance(version, str):
        raise WorkspaceError("[project] version must be a string", path=_pyproject(folder))
    tool_uv = _table(document, "tool.uv", folder)
    own_sources = {**sources, **_source_kinds(tool_uv)} if "sources" in tool_uv else sources
    optional = _table(document, "project.optional-dependencies", folder)
    groups = _table(document, "dependency-groups", folder)
    dependencies: list[Dependency] = []
    includes: list[tuple[str, str]] = []

    def add(items: object, kind: DependencyKind, group: str | None) -> None:
        for text in cast("list[object]", items):
            if kind == "group" and isinstance(text, dict):
                # {include-group = "other"} includes another group's requirements, declared there
                included = cast("dict[str, object]", text).get("include-group")
                if isinstance(included, str) and group is not None:
                    includes.append((group, included))
                continue
            requirement = _parse_requirement(text, kind, group, folder)
            dep_name = normalize_name(requirement.name)
            internal = dep_name in names
            source = own_sources.get(dep_name)
            dependencies.append(
                Dependency(
                    dep_name, str(text), requirement.specifier, requirement.marker, kind, group, internal, source
                ),
            )

    add(project.get("dependencies", ()), "project", None)
    for extra, items in optional.items():
        add(items, "optional", extra)
    for group, items in groups.items():
        add(items, "group", group)
    legacy = tool_uv.get("dev-dependencies")
    if legacy:  # uv folds the deprecated `[tool.uv] dev-dependencies` into the `dev` group
        add(legacy, "group", "dev")
        groups = {**groups, "dev": groups.get("dev", [])}
    has_backend = "build-system" in document
    package = tool_uv.get("package")
    relative = _relative(folder, root)
    return Member(
        name=normalize_name(name),
        version=version,
        path=Path(folder),
        relative=relative,
        requires_python=cast("str | None", project.get("requires-python")),
        dependencies=tuple(dependencies),
        extras=tuple(optional),
        groups=tuple(groups),
        packaged=bool(package) if isinstance(package, bool) else has_backend,
        dynamic=_strings(project.get("dynamic"), "[project] dynamic", folder),
        group_includes=tuple(includes),
    )


def load_workspace(root: Path | str | None = None, *, members_from: MemberSource = "auto") -> Workspace:
    """Read the workspace at `root` (default: the one holding the current directory).

    Args:
        root: A folder in the workspace; its root is found as uv finds it.
        members_from: Who lists the members: `pyproject` (the members and exclude globs, read here with uv's
            rules: what uv itself would find now) or `uv` (`uv workspace metadata`, which needs a uv.lock and may
            repeat a stale one). `auto` is `pyproject`: a stale lock is reported (see `lock_freshness`), not
            trusted.

    Returns:
        The workspace, its members sorted by name.

    Raises:
        WorkspaceError: When there is no workspace, or a pyproject.toml is invalid (the message names it).
    """
    root_path, cache = _find_root(root)
    base = str(root_path)
    path = root_path / "pyproject.toml"
    document = cache.read(path)
    workspace_table = _table(document, "tool.uv.workspace", base)
    patterns = _strings(workspace_table.get("members"), "[tool.uv.workspace] members", base)
    excludes = _strings(workspace_table.get("exclude"), "[tool.uv.workspace] exclude", base)
    folders: list[str] | None = None
    discovered_by: Literal["uv", "pyproject"] = "pyproject"
    if members_from == "uv" and (root_path / "uv.lock").is_file():
        listed = _uv_members(root_path)
        folders = None if listed is None else [str(folder) for folder in listed]
        discovered_by = "uv" if folders is not None else "pyproject"
    if folders is None:
        if members_from == "uv":
            raise WorkspaceError(
                "uv workspace metadata could not list the members", path=root_path, hint="Run `uv lock` first"
            )
        folders = [base, *_glob_folders(base, patterns, excludes)]
    root_sources = _source_kinds(_table(document, "tool.uv", base))
    files = {folder: os.path.join(folder, "pyproject.toml") for folder in folders}
    documents = {folder: cache.read(file) for folder, file in files.items()}
    cache.save(keep={str(path), *files.values()})
    names = {name for folder, doc in documents.items() if (name := _project_name(doc, folder)) is not None}
    members = [
        member
        for folder, doc in documents.items()
        if (member := _read_member(folder, doc, base, root_sources, names)) is not None
    ]
    seen: dict[str, Member] = {}
    for member in members:
        if member.name in seen and seen[member.name].path != member.path:
            raise WorkspaceError(
                f"two members are called {member.name!r}: {seen[member.name].relative} and {member.relative}",
                path=path,
            )
        seen[member.name] = member
    project = _table(document, "project", base)
    return Workspace(
        root=root_path,
        members=tuple(sorted(seen.values(), key=lambda member: member.name)),
        member_globs=patterns,
        exclude_globs=excludes,
        requires_python=cast("str | None", project.get("requires-python")),
        discovered_by=discovered_by,
    )
