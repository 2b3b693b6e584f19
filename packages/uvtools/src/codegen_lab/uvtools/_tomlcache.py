"""Parsed pyproject.toml files, kept in memory and on disk between runs, and never stale.

A parsed file is reused only while its signature is unchanged: modification and change times in nanoseconds,
size and inode (an atomic replace gives a new inode). Like git's index, it never keeps a file modified less than
`RACY_SECONDS` before it was read: a file system stores times coarsely, so an edit that follows within the same
tick, keeping the size, would otherwise keep the signature too. Such a file is parsed again on every read.

The disk cache is one JSON file per workspace in `CODEGEN_LAB_UVTOOLS_CACHE` (a folder; `off` turns it off),
else `$XDG_CACHE_HOME/codegen-lab/uvtools`, else `~/.cache/codegen-lab/uvtools`. A cache that cannot be read or
written is ignored (logged at debug level): it only ever saves time.
"""

from __future__ import annotations

import json
import os
import time
import zlib
from pathlib import Path
from typing import Any, cast

from codegen_lab.uvtools._log import debug
from codegen_lab.uvtools.errors import WorkspaceError

__all__ = ["RACY_SECONDS", "TomlCache", "cache_folder", "clear_memory", "read_toml"]

RACY_SECONDS = 2
_RACY_NS = RACY_SECONDS * 1_000_000_000
_FORMAT = 1
_MEMORY_LIMIT = 8192

type Signature = tuple[int, int, int, int]

_memory: dict[str, tuple[Signature, dict[str, Any]]] = {}


def clear_memory() -> None:
    """Forget every file parsed in this process (the disk cache stays)."""
    _memory.clear()


def cache_folder() -> Path | None:
    """Where the disk cache lives, or None when `CODEGEN_LAB_UVTOOLS_CACHE=off`."""
    setting = os.environ.get("CODEGEN_LAB_UVTOOLS_CACHE", "")
    if setting.lower() in {"off", "0", "false", "no"}:
        return None
    if setting:
        return Path(setting)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "codegen-lab" / "uvtools"


def _signature(name: str) -> Signature:
    try:
        found = os.stat(name)
    except OSError as exc:
        raise WorkspaceError(f"cannot be read: {exc}", path=Path(name)) from None
    return (found.st_mtime_ns, found.st_ctime_ns, found.st_size, found.st_ino)


def _settled(signature: Signature, now_ns: int) -> bool:
    """Whether the file was last changed long enough before `now_ns` that a later edit must change its times."""
    return now_ns - max(signature[0], signature[1]) > _RACY_NS


def _parse(name: str) -> dict[str, Any]:
    import tomllib  # noqa: PLC0415 (its regular expressions cost a run that finds every file in the cache)

    try:
        with open(name, encoding="utf-8") as handle:
            return tomllib.loads(handle.read())
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceError(f"not valid TOML: {exc}", path=Path(name)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"cannot be read: {exc}", path=Path(name)) from None


def _remember(name: str, signature: Signature, document: dict[str, Any]) -> None:
    if len(_memory) >= _MEMORY_LIMIT:
        _memory.clear()
    _memory[name] = (signature, document)


def _known(name: str, signature: Signature, stored: object) -> dict[str, Any] | None:
    """The document in memory, else the one `stored` in a disk cache, while `signature` is the file's."""
    known = _memory.get(name)
    if known is not None and known[0] == signature:
        return known[1]
    if _matches(stored, signature):
        document = cast("dict[str, Any]", cast("list[Any]", stored)[4])
        _remember(name, signature, document)
        return document
    return None


def _parsed(name: str, signature: Signature) -> dict[str, Any]:
    """The file parsed, and remembered in memory when it is settled."""
    document = _parse(name)
    if _settled(signature, time.time_ns()):
        _remember(name, signature, document)
    return document


def read_toml(path: Path | str) -> dict[str, Any]:
    """The parsed TOML file at `path`, from this process's memory while the file is unchanged.

    The document is shared: callers must not change it.

    Raises:
        WorkspaceError: When the file cannot be read or is not valid TOML (the message names it).
    """
    name = str(path)
    signature = _signature(name)
    known = _known(name, signature, None)
    return known if known is not None else _parsed(name, signature)


class TomlCache:
    """The parsed files of one workspace, read from memory, then from the disk cache, then parsed.

    `save` writes the disk cache back when a file was parsed that it did not hold.
    """

    def __init__(self, root: Path) -> None:
        """Open the disk cache of the workspace at `root` (an absent or unreadable one is empty)."""
        self.root = root
        folder = cache_folder()
        # a checksum, not a hash: hashlib loads OpenSSL, and two roots sharing a file only start it afresh
        digest = f"{zlib.crc32(str(root).encode()):08x}{len(str(root)):04x}"
        self.file = None if folder is None else folder / f"pyproject-{digest}.json"
        self.entries: dict[str, list[Any]] = self._load()
        self.changed = False

    def _load(self) -> dict[str, list[Any]]:
        if self.file is None:
            return {}
        try:
            with open(self.file, encoding="utf-8") as handle:
                data: Any = json.load(handle)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            debug(__name__, "the pyproject cache %s cannot be read (%s): starting afresh", self.file, exc)
            return {}
        if not isinstance(data, dict):
            return {}
        table = cast("dict[str, Any]", data)
        if table.get("format") != _FORMAT or table.get("root") != str(self.root):
            return {}
        entries: object = table.get("files")
        return cast("dict[str, list[Any]]", entries) if isinstance(entries, dict) else {}

    def read(self, path: Path | str) -> dict[str, Any]:
        """The parsed file at `path`, as `read_toml` gives it, also kept in the disk cache when settled.

        Raises:
            WorkspaceError: When the file cannot be read or is not valid TOML (the message names it).
        """
        name = str(path)
        signature = _signature(name)
        stored = self.entries.get(name)
        document = _known(name, signature, stored)
        if document is None:
            document = _parsed(name, signature)
        if not _matches(stored, signature) and _settled(signature, time.time_ns()):
            self.entries[name] = [*signature, document]
            self.changed = True
        return document

    def save(self, keep: set[str] | None = None) -> None:
        """Write the disk cache when it changed; `keep` (file names) drops the entries of files no longer read."""
        if self.file is None or not self.changed:
            return
        entries = self.entries if keep is None else {name: e for name, e in self.entries.items() if name in keep}
        try:
            data = json.dumps({"format": _FORMAT, "root": str(self.root), "files": entries})
        except TypeError:  # a date or time value: keep the files that JSON can hold
            entries = {name: entry for name, entry in entries.items() if _json_safe(entry)}
            data = json.dumps({"format": _FORMAT, "root": str(self.root), "files": entries})
        try:
            from codegen_lab.common.files import replace_atomically  # noqa: PLC0415

            replace_atomically(self.file, data.encode())
        except OSError as exc:
            debug(__name__, "the pyproject cache %s cannot be written (%s)", self.file, exc)
        self.changed = False


def _matches(stored: object, signature: Signature) -> bool:
    if not isinstance(stored, list):
        return False
    entry = cast("list[Any]", stored)
    return len(entry) == 5 and tuple(entry[:4]) == signature


def _json_safe(entry: list[Any]) -> bool:
    try:
        json.dumps(entry)
    except TypeError:
        return False
    return True
