"""The installed distributions' entry points of one group, and their versions, found without `importlib.metadata`.

`codegen-lab ws graph` needs one name of the `codegen_lab.cli` group, yet `importlib.metadata` costs more to
import (email, zipfile, inspect) and to scan than the rest of a small command. This module reads the same files
the same way: every `*.dist-info` and `*.egg-info` folder of each `sys.path` folder, in path order, the first
distribution of a (normalized) name winning, and the `[group]` section of its `entry_points.txt`. A path entry
that is neither a folder nor missing (a zip archive), or a zipped egg, hands the whole lookup to `importlib.metadata`.
`versions` reads the `Version` header of the same folders (for `codegen-lab --version`).
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Iterator
from contextlib import suppress
from functools import reduce
from pathlib import Path
from typing import NamedTuple

__all__ = ["Plugin", "plugins", "versions"]

_SEPARATORS = re.compile(r"[-_.]+")


class Plugin(NamedTuple):
    """One entry point: `name = value` of a group, and the metadata folder that declared it."""

    name: str
    value: str
    metadata: Path | None
    """The `*.dist-info` folder (None when `importlib.metadata` found it and `dist_name` is known)."""
    dist_name: str | None = None

    @property
    def package(self) -> str:
        """The distribution's name as its metadata spells it (for messages)."""
        if self.dist_name is not None:
            return self.dist_name
        if self.metadata is not None and (name := _header(self.metadata, "name")) is not None:
            return name
        return "an unknown package"

    def load(self) -> object:
        """Import the module and return the named object, as `EntryPoint.load` does.

        Raises:
            ValueError: When the value is not `module[:attribute]`.
        """
        reference, bracket, extras = self.value.partition("[")  # extras name what to install: not loaded here
        module, colon, attribute = (part.strip() for part in reference.partition(":"))
        if not _dotted(module) or (colon and not _dotted(attribute)) or (bracket and not extras.rstrip().endswith("]")):
            raise ValueError(f"{self.value!r} is not an entry point reference (module:attribute)")
        return reduce(getattr, attribute.split(".") if attribute else [], importlib.import_module(module))


def _dotted(name: str) -> bool:
    """Whether `name` is a dotted name of word characters (`package.module`, `object.attribute`)."""
    return bool(name) and all(character.isalnum() or character in "._" for character in name)


class _Archive(Exception):
    """A path entry that `importlib.metadata` must read: a zip archive, or a zipped egg."""


def _distributions() -> Iterator[tuple[str, str]]:
    """`(normalized name, metadata folder)` of each distribution on `sys.path`, the first of each name only.

    Raises:
        _Archive: At a path entry this reader does not take (the caller hands the lookup to `importlib.metadata`).
    """
    seen: set[str] = set()
    for entry in sys.path:
        folder = entry or "."
        try:
            children = os.listdir(folder)
        except NotADirectoryError:
            raise _Archive(folder) from None
        except OSError:
            continue
        for child in children:
            lowered = child.lower()
            if lowered.endswith(".egg"):
                raise _Archive(child)
            if not lowered.endswith((".dist-info", ".egg-info")):
                continue
            normalized = _SEPARATORS.sub("_", lowered.rpartition(".")[0].partition("-")[0])
            if normalized in seen:
                continue
            seen.add(normalized)
            yield normalized, os.path.join(folder, child)  # strings, not paths: a venv holds hundreds of these


def plugins(group: str) -> dict[str, Plugin]:
    """The entry points of `group` by name, as `importlib.metadata.entry_points(group=group)` finds them."""
    found: dict[str, Plugin] = {}
    try:
        for _, metadata in _distributions():
            for name, value in _section(os.path.join(metadata, "entry_points.txt"), group):
                found[name] = Plugin(name, value, Path(metadata))
    except _Archive:
        return _by_importlib(group)
    return found


def versions(*names: str) -> dict[str, str]:
    """The installed version of each distribution of `names`, as `importlib.metadata.version` gives it.

    Read from the `Version` header of the metadata `_distributions` finds; `importlib.metadata` (which costs
    `codegen-lab --version` more than the rest of it) is imported only for a name this does not find.

    Raises:
        importlib.metadata.PackageNotFoundError: When a distribution is not installed.
    """
    wanted = {_SEPARATORS.sub("_", name.lower()): name for name in names}
    found: dict[str, str] = {}
    with suppress(_Archive):
        for normalized, metadata in _distributions():
            if normalized in wanted and (version := _header(metadata, "version")) is not None:
                found[wanted[normalized]] = version
    missing = [name for name in names if name not in found]
    if missing:
        from importlib.metadata import version as installed  # noqa: PLC0415

        found.update({name: installed(name) for name in missing})
    return found


def _header(metadata: str | Path, key: str) -> str | None:
    """The value of header `key` (compared lowercase) in the `METADATA` or `PKG-INFO` of a metadata folder."""
    for file in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(metadata, file), encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    if not line.strip():
                        break
                    name, _, value = line.partition(":")
                    if name.strip().lower() == key:
                        return value.strip()
        except OSError:
            continue
    return None


def _section(path: str, group: str) -> list[tuple[str, str]]:
    """The `name = value` pairs of `[group]` in an INI-like `entry_points.txt` (none when it is missing)."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError:
        return []
    if f"[{group}]" not in text:
        return []
    pairs: list[tuple[str, str]] = []
    section = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif section == group:
            name, _, value = line.partition("=")
            pairs.append((name.strip(), value.strip()))
    return pairs


def _by_importlib(group: str) -> dict[str, Plugin]:
    from importlib.metadata import entry_points  # noqa: PLC0415 (only when a path entry is an archive)

    return {
        entry.name: Plugin(entry.name, entry.value, None, entry.dist.name if entry.dist is not None else None)
        for entry in entry_points(group=group)
    }
