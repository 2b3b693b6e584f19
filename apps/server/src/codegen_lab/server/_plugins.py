"""The installed distributions' entry points of one group, found without importing `importlib.metadata`.

`codegen-lab ws graph` needs one name of the `codegen_lab.cli` group, yet `importlib.metadata` costs more to
import (email, zipfile, inspect) and to scan than the rest of a small command. This module reads the same files
the same way: every `*.dist-info` and `*.egg-info` folder of each `sys.path` folder, in path order, the first
distribution of a (normalized) name winning, and the `[group]` section of its `entry_points.txt`. A path entry
that is neither a folder nor missing (a zip archive), or a zipped egg, hands the whole lookup to `importlib.metadata`.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from functools import reduce
from pathlib import Path
from typing import NamedTuple

__all__ = ["Plugin", "plugins"]

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
        if self.metadata is not None:
            for file in ("METADATA", "PKG-INFO"):
                try:
                    text = (self.metadata / file).read_text(encoding="utf-8", errors="replace")
                except OSError:
                    continue
                for line in text.splitlines():
                    if not line.strip():
                        break
                    key, _, value = line.partition(":")
                    if key.strip().lower() == "name":
                        return value.strip()
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


def plugins(group: str) -> dict[str, Plugin]:
    """The entry points of `group` by name, as `importlib.metadata.entry_points(group=group)` finds them."""
    found: dict[str, Plugin] = {}
    seen: set[str] = set()
    for entry in sys.path:
        folder = entry or "."
        try:
            children = os.listdir(folder)
        except NotADirectoryError:
            return _by_importlib(group)
        except OSError:
            continue
        for child in children:
            lowered = child.lower()
            if lowered.endswith(".egg"):  # a zipped egg: importlib.metadata reads it
                return _by_importlib(group)
            if not lowered.endswith((".dist-info", ".egg-info")):
                continue
            normalized = _SEPARATORS.sub("_", lowered.rpartition(".")[0].partition("-")[0])
            if normalized in seen:
                continue
            seen.add(normalized)
            metadata = os.path.join(folder, child)  # strings, not paths: a venv holds hundreds of these folders
            for name, value in _section(os.path.join(metadata, "entry_points.txt"), group):
                found[name] = Plugin(name, value, Path(metadata))
    return found


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
