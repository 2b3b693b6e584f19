"""A typed reader of `uv.lock` (lock version 1, revisions 1 to 5).

uv writes its lock in a fixed shape: top-level keys, then one `[[package]]` table after another whose arrays
hold one inline table per line. The reader walks those lines and skips what it does not need (`sdist`,
`wheels`, `[package.metadata]`), which makes it faster than parsing the whole file as TOML. Anything it does not
expect sends it to `tomllib`, so an unusual but valid file is still read exactly.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple, cast

from codegen_lab.uvtools.errors import LockFileError

__all__ = [
    "Lock",
    "LockDependency",
    "LockPackage",
    "parse_lock",
    "parse_lock_members",
    "read_lock",
    "read_lock_members",
]

SUPPORTED_VERSION = 1
SUPPORTED_REVISIONS = range(1, 6)
_SKIPPED_KEYS = frozenset({"sdist", "wheels"})
_NONE: Mapping[str, tuple[Any, ...]] = MappingProxyType({})
_RECENT_LOCKS = 4
"""How many parsed locks a process keeps by their text: a server or the dashboard asked about the same uv.lock (or
the same revision's) again answers without parsing it again. A `Lock` is immutable, so sharing one is safe."""
_recent: dict[str, Lock] = {}
_recent_guard = threading.Lock()


class LockDependency(NamedTuple):
    """An edge in the lock: a package that another one needs.

    Attributes:
        name: The dependency's normalized name.
        version: Its version, given only when several versions of it are locked.
        source: Its source (`registry+URL`, `editable+PATH`...), given only when needed to tell it apart.
        marker: The environment marker under which it is needed, if any.
        extras: The extras of the dependency it needs.
    """

    name: str
    version: str | None = None
    source: str | None = None
    marker: str | None = None
    extras: tuple[str, ...] = ()


class LockPackage(NamedTuple):
    """A locked package.

    Attributes:
        name: Its normalized name.
        version: Its locked version (None for a dynamic version of a workspace member).
        source: Where it comes from, as `kind+value`: `registry+https://pypi.org/simple`, `editable+packages/a`,
            `virtual+.`, `git+URL`, `path+...`, `directory+...`, `url+...`.
        dependencies: What it needs.
        optional_dependencies: What each of its extras adds.
        dev_dependencies: What each of its dependency groups adds.
        requires_dist: What a local package declares (`[package.metadata] requires-dist`; an extra's items carry
            `extra == 'NAME'` in their marker), as uv read it when locking, dynamic metadata included.
        requires_dev: What each of a local package's dependency groups declares (`[package.metadata.requires-dev]`).
    """

    name: str
    version: str | None
    source: str
    dependencies: tuple[LockDependency, ...] = ()
    optional_dependencies: Mapping[str, tuple[LockDependency, ...]] = _NONE
    dev_dependencies: Mapping[str, tuple[LockDependency, ...]] = _NONE
    requires_dist: tuple[LockDependency, ...] = ()
    requires_dev: Mapping[str, tuple[LockDependency, ...]] = _NONE

    @property
    def key(self) -> str:
        """`name==version@source`, unique in a lock."""
        return f"{self.name}=={self.version}@{self.source}"

    @property
    def is_local(self) -> bool:
        """Whether it is a workspace member or a local project (editable, virtual, directory)."""
        return self.source.split("+", 1)[0] in {"editable", "virtual", "directory"}


@dataclass(frozen=True, slots=True)
class Lock:
    """A parsed uv.lock.

    Attributes:
        version: The lock format version (1).
        revision: The format revision (1 to 5; 0 for a lock written before revisions were recorded).
        requires_python: The workspace's `requires-python`.
        resolution_markers: The forks of the resolution, if any.
        members: The workspace members listed in `[manifest]`.
        packages: Every locked package, in file order.
    """

    version: int
    revision: int
    requires_python: str | None
    resolution_markers: tuple[str, ...]
    members: tuple[str, ...]
    packages: tuple[LockPackage, ...]
    _by_name: dict[str, list[LockPackage]] = field(
        default_factory=dict[str, list[LockPackage]], init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        for package in self.packages:
            self._by_name.setdefault(package.name, []).append(package)

    @property
    def member_names(self) -> tuple[str, ...]:
        """The workspace's members: `[manifest] members`, or the local projects of a single-project lock."""
        if self.members:
            return self.members
        return tuple(package.name for package in self.packages if package.source.startswith(("editable+", "virtual+")))

    def by_name(self, name: str) -> list[LockPackage]:
        """Every locked package called `name` (several when forks lock several versions)."""
        return list(self._by_name.get(name, ()))

    def resolve(self, dependency: LockDependency) -> LockPackage | None:
        """The package a dependency edge points at, or None when the lock does not hold it."""
        candidates = self._by_name.get(dependency.name, [])
        if dependency.version is not None:
            candidates = [package for package in candidates if package.version == dependency.version]
        if dependency.source is not None:
            candidates = [package for package in candidates if package.source == dependency.source]
        return candidates[0] if candidates else None

    def edges(self, package: LockPackage) -> Iterator[tuple[LockDependency, str]]:
        """Each dependency of `package` with how it is needed: `""`, `extra NAME` or `group NAME`."""
        for dependency in package.dependencies:
            yield dependency, ""
        for extra, dependencies in package.optional_dependencies.items():
            for dependency in dependencies:
                yield dependency, f"extra {extra}"
        for group, dependencies in package.dev_dependencies.items():
            for dependency in dependencies:
                yield dependency, f"group {group}"

    def versions(self) -> dict[str, set[str]]:
        """Each package name mapped to its locked versions."""
        found: dict[str, set[str]] = {}
        for package in self.packages:
            found.setdefault(package.name, set()).add(package.version or "")
        return found


def read_lock(path: Path | str) -> Lock:
    """Read and check the lock file at `path`.

    Raises:
        LockFileError: When the file is missing, not TOML, or of a version or revision this reader does not know.
    """
    return parse_lock(_read_text(path), origin=str(path))


def read_lock_members(path: Path | str) -> Lock:
    """The local packages of the lock file at `path` (see `parse_lock_members`).

    Raises:
        LockFileError: As `read_lock`.
    """
    return parse_lock_members(_read_text(path), origin=str(path))


def _read_text(path: Path | str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LockFileError(f"cannot be read: {exc}", path=str(path), hint="Run `uv lock`") from None


def parse_lock(text: str, *, origin: str = "uv.lock") -> Lock:
    """Parse the text of a uv.lock; `origin` names it in errors.

    Raises:
        LockFileError: When the text is not TOML, or of a version or revision this reader does not know.
    """
    with _recent_guard:
        known = _recent.get(text)
    if known is not None:
        return known
    try:
        document = _fast_parse(text)
    except _Unsupported:
        import tomllib  # noqa: PLC0415 (only for a file the fast reader does not take)

        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise LockFileError(f"not valid TOML: {exc}", path=origin) from None
    lock = _build(document, origin)
    with _recent_guard:
        if len(_recent) >= _RECENT_LOCKS:
            del _recent[next(iter(_recent))]
        _recent[text] = lock
    return lock


_PACKAGE_HEADER = "\n[[package]]\n"
_LOCAL_SOURCES = tuple(f"\nsource = {{ {kind} = " for kind in ("editable", "virtual", "directory"))


def parse_lock_members(text: str, *, origin: str = "uv.lock") -> Lock:
    """The lock in `text` with only its local packages (members, local projects): what the member graph needs.

    Only the header and the `[[package]]` entries whose source is local are parsed, so the time does not grow with
    the third-party packages a large lock holds. Whatever the shortcut cannot vouch for (a member of `[manifest]`
    without its entry, a shape the fast reader does not take) is read in full, and the result is the same.

    Raises:
        LockFileError: When the text is not TOML, or of a version or revision this reader does not know.
    """
    first = text.find(_PACKAGE_HEADER)
    if first == -1:
        return _local_only(parse_lock(text, origin=origin))
    starts: set[int] = set()
    for marker in _LOCAL_SOURCES:
        found = text.find(marker, first)
        while found != -1:
            starts.add(text.rfind(_PACKAGE_HEADER, 0, found) + 1)
            found = text.find(marker, found + len(marker))
    parts = [text[: first + 1]]
    for start in sorted(starts):
        end = text.find(_PACKAGE_HEADER, start)
        parts.append(text[start : len(text) if end == -1 else end + 1])
    try:
        lock = _build(_fast_parse("".join(parts)), origin)
    except _Unsupported:
        return _local_only(parse_lock(text, origin=origin))
    local = {package.name for package in lock.packages if package.is_local}
    if not local or not local.issuperset(lock.members):
        return _local_only(parse_lock(text, origin=origin))
    return _local_only(lock)


def _local_only(lock: Lock) -> Lock:
    if all(package.is_local for package in lock.packages):
        return lock
    return replace(lock, packages=tuple(package for package in lock.packages if package.is_local))


def _build(document: Mapping[str, Any], origin: str) -> Lock:
    version = document.get("version")
    if version != SUPPORTED_VERSION:
        raise LockFileError(
            f"version = {version!r}: only lock version {SUPPORTED_VERSION} is supported",
            path=origin,
            hint="Re-lock with a uv of the 0.x series this package supports",
        )
    revision = document.get("revision", 0)
    if not isinstance(revision, int) or (revision and revision not in SUPPORTED_REVISIONS):
        raise LockFileError(f"revision = {revision!r}: only revisions 1 to 5 are supported", path=origin)
    manifest = cast("dict[str, Any]", document.get("manifest", {}))
    packages: list[LockPackage] = []
    for index, table in enumerate(cast("list[dict[str, Any]]", document.get("package", []))):
        try:
            packages.append(_package(table))
        except (KeyError, TypeError, AttributeError, StopIteration) as exc:
            raise LockFileError(f"[[package]] number {index + 1} is malformed ({exc!r})", path=origin) from None
    return Lock(
        version=version,
        revision=revision,
        requires_python=cast("str | None", document.get("requires-python")),
        resolution_markers=tuple(cast("list[str]", document.get("resolution-markers", []))),
        members=tuple(cast("list[str]", manifest.get("members", []))),
        packages=tuple(packages),
    )


def _source(value: Mapping[str, Any]) -> str:
    kind, where = next(iter(value.items()))  # uv writes one key: `{ registry = "..." }`, `{ editable = "..." }`
    return f"{kind}+{where}"


def _dependency(table: Mapping[str, Any]) -> LockDependency:
    source = table.get("source")
    return LockDependency(
        name=table["name"],
        version=table.get("version"),
        source=_source(cast("dict[str, Any]", source)) if isinstance(source, dict) else None,
        marker=table.get("marker"),
        extras=tuple(table.get("extra", ())),
    )


def _dependencies(items: Any) -> tuple[LockDependency, ...]:
    return tuple(_dependency(item) for item in cast("list[dict[str, Any]]", items))


def _package(table: Mapping[str, Any]) -> LockPackage:
    metadata = cast("dict[str, Any]", table.get("metadata", {}))
    return LockPackage(
        name=table["name"],
        version=table.get("version"),
        source=_source(table["source"]),
        dependencies=_dependencies(table.get("dependencies", [])),
        optional_dependencies={
            extra: _dependencies(items) for extra, items in table.get("optional-dependencies", {}).items()
        },
        dev_dependencies={group: _dependencies(items) for group, items in table.get("dev-dependencies", {}).items()},
        requires_dist=_dependencies(metadata.get("requires-dist", [])),
        requires_dev={group: _dependencies(items) for group, items in metadata.get("requires-dev", {}).items()},
    )


class _Unsupported(Exception):
    """The fast reader met something outside the shape uv writes; tomllib reads the file instead."""


def _fast_parse(text: str) -> dict[str, Any]:
    """Read the parts of a uv.lock this module uses, line by line."""
    document: dict[str, Any] = {}
    packages: list[dict[str, Any]] = []
    document["package"] = packages
    target: dict[str, Any] | None = document
    lines = text.split("\n")
    count = len(lines)
    index = 0
    while index < count:
        line = lines[index]
        index += 1
        if not line or line[0] == "#":
            continue
        if line[0] == "[":
            target = _header(line, document, packages)
            continue
        key, separator, value = line.partition(" = ")
        if not separator or not key or not key.replace("-", "").replace("_", "").isalnum():
            raise _Unsupported(line)
        if target is None or (key in _SKIPPED_KEYS and target is not document):
            if value == "[":
                while index < count and lines[index] != "]":
                    index += 1
                index += 1
            continue
        if value == "[":
            index, target[key] = _array_lines(lines, index)
        elif value == "[[":  # `conflicts = [[` ... `]]`: arrays of inline tables over several lines
            index, target[key] = _nested_array_lines(lines, index)
        else:
            target[key] = _Value(value).whole()
    return document


def _array_lines(lines: list[str], index: int) -> tuple[int, list[Any]]:
    """The items of a multi-line array starting at `lines[index]`, one value per line, and the index after it."""
    items: list[Any] = []
    while True:
        if index >= len(lines):
            raise _Unsupported("unterminated array")
        item = lines[index].strip()
        index += 1
        if item == "]":
            return index, items
        if item:
            items.append(_Value(item.removesuffix(",")).whole())


def _nested_array_lines(lines: list[str], index: int) -> tuple[int, list[Any]]:
    """A nested array written over several lines (`[[` ... `], [` ... `]]`), and the index after it."""
    parts = ["[["]
    while True:
        if index >= len(lines):
            raise _Unsupported("unterminated array")
        item = lines[index].strip()
        index += 1
        parts.append(item)
        if item == "]]":
            return index, _Value(" ".join(parts)).whole()


def _header(line: str, document: dict[str, Any], packages: list[dict[str, Any]]) -> dict[str, Any] | None:
    if line == "[[package]]":
        package: dict[str, Any] = {}
        packages.append(package)
        return package
    if line == "[manifest]":
        manifest: dict[str, Any] = {}
        document["manifest"] = manifest
        return manifest
    if line in {"[package.optional-dependencies]", "[package.dev-dependencies]", "[package.metadata]"}:
        if not packages:
            raise _Unsupported(line)
        table: dict[str, Any] = {}
        packages[-1][line[9:-1]] = table
        return table
    if line == "[package.metadata.requires-dev]":
        if not packages or "metadata" not in packages[-1]:
            raise _Unsupported(line)
        groups: dict[str, Any] = {}
        packages[-1]["metadata"]["requires-dev"] = groups
        return groups
    if line.startswith(("[package.", "[manifest.", "[[manifest.", "[options]", "[options.", "[[package.")):
        return None  # a table this reader does not use: skip its lines
    raise _Unsupported(line)


class _Value:
    """A TOML value on one line, in the subset uv writes: strings, integers, booleans, arrays, inline tables."""

    __slots__ = ("position", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0

    def whole(self) -> Any:
        value = self.value()
        if self.position != len(self.text):
            raise _Unsupported(self.text)
        return value

    def _skip_spaces(self) -> None:
        text = self.text
        while self.position < len(text) and text[self.position] == " ":
            self.position += 1

    def value(self) -> Any:
        text = self.text
        start = self.position
        if start >= len(text):
            raise _Unsupported(text)
        char = text[start]
        if char == '"':
            end = start + 1
            while True:
                end = text.find('"', end)
                if end == -1:
                    raise _Unsupported(text)
                backslashes = 0
                while text[end - 1 - backslashes] == "\\":
                    backslashes += 1
                if backslashes % 2 == 0:
                    break
                end += 1
            self.position = end + 1
            raw = text[start : end + 1]
            if "\\" not in raw:
                return raw[1:-1]
            try:
                return json.loads(raw)
            except ValueError:
                raise _Unsupported(text) from None
        if char == "'":
            end = text.find("'", start + 1)
            if end == -1:
                raise _Unsupported(text)
            self.position = end + 1
            return text[start + 1 : end]
        if char == "{":
            return self._table()
        if char == "[":
            return self._array()
        return self._scalar()

    def _scalar(self) -> Any:
        text = self.text
        end = self.position
        while end < len(text) and text[end] not in ",]} ":
            end += 1
        word = text[self.position : end]
        self.position = end
        if word in {"true", "false"}:
            return word == "true"
        if word.lstrip("-").isdigit():
            return int(word)
        raise _Unsupported(text)

    def _table(self) -> dict[str, Any]:
        text = self.text
        self.position += 1
        table: dict[str, Any] = {}
        self._skip_spaces()
        if text.startswith("}", self.position):
            self.position += 1
            return table
        while True:
            self._skip_spaces()
            equals = text.find(" = ", self.position)
            if equals == -1:
                raise _Unsupported(text)
            key = text[self.position : equals]
            if not key.replace("-", "").replace("_", "").isalnum():
                raise _Unsupported(text)
            self.position = equals + 3
            table[key] = self.value()
            self._skip_spaces()
            if text.startswith(", ", self.position):
                self.position += 2
                continue
            if text.startswith("}", self.position):
                self.position += 1
                return table
            raise _Unsupported(text)

    def _array(self) -> list[Any]:
        text = self.text
        self.position += 1
        items: list[Any] = []
        while True:
            self._skip_spaces()
            if text.startswith("]", self.position):
                self.position += 1
                return items
            items.append(self.value())
            self._skip_spaces()
            if text.startswith(",", self.position):
                self.position += 1
            elif not text.startswith("]", self.position):
                raise _Unsupported(text)
