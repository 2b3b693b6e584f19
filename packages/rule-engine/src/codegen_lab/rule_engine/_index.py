"""A rule index per root: the engine is loaded once and reloaded only when the tree changed.

Whether it changed is told by modification times, without walking the tree again. On every call, the rule files
and the ignore files (`.gitignore`, `.git/info/exclude`) are checked: a few dozen `stat` calls, so an edited rule
is seen at once. Every folder the walk read (a file added, removed or renamed in a folder changes the folder's
mtime) is checked too, at most once every `rescan_interval` seconds: on a repository of thousands of folders
that sweep costs tens of milliseconds, against seconds for a walk and a parse of every rule.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from codegen_lab.rule_engine._engine import RuleEngine

__all__ = ["RuleIndex"]

_Stamp = tuple[int, int]


def _stamp(path: Path | str) -> _Stamp:
    try:
        status = os.stat(path)
    except OSError:
        return (0, -1)
    return (status.st_mtime_ns, status.st_size)


@dataclass(slots=True)
class _Entry:
    engine: RuleEngine
    files: tuple[tuple[str, _Stamp], ...]
    """The rule and ignore files, checked on every call."""
    folders: tuple[tuple[str, _Stamp], ...]
    """The folders, checked once every `rescan_interval` seconds."""
    swept: float

    def stale(self, interval: float) -> bool:
        if _changed(self.files):
            return True
        now = time.monotonic()
        if now - self.swept < interval:
            return False
        self.swept = now
        return _changed(self.folders)


def _changed(watched: tuple[tuple[str, _Stamp], ...]) -> bool:
    return any(_stamp(path) != stamp for path, stamp in watched)


def _entry(engine: RuleEngine) -> _Entry:
    root = engine.root
    files = [str(rule.path) for rule in engine.rules]
    files += [str(root / relpath) for relpath in engine.repository_paths if relpath.rsplit("/", 1)[-1] == ".gitignore"]
    files += [str(root / ".git" / "info" / "exclude"), str(root / ".gitignore")]
    folders = [str(folder) for folder in engine.folders]
    return _Entry(
        engine,
        tuple((path, _stamp(path)) for path in dict.fromkeys(files)),
        tuple((path, _stamp(path)) for path in folders),
        time.monotonic(),
    )


class RuleIndex:
    """Rule engines per root, kept between calls and reloaded when a folder, rule or ignore file changed.

    Example:
        ```python
        index = RuleIndex()
        index.engine(".").rules_for("src/app.py")  # loads
        index.engine(".").rules_for("src/app.py")  # a few stat calls, then the same engine
        ```

    Thread-safe: two callers asking for the same root at once get one load.

    Args:
        rescan_interval: Seconds between two checks of every folder's mtime (files added or removed); rule and
            ignore files are checked on every call. 0 checks everything on every call.
    """

    def __init__(self, *, rescan_interval: float = 1.0) -> None:
        self.rescan_interval = rescan_interval
        self._entries: dict[Path, _Entry] = {}
        self._lock = threading.Lock()
        self.loads = 0
        """How many times an engine was (re)loaded, for tests and benchmarks."""

    def engine(self, root: Path | str) -> RuleEngine:
        """The engine for `root`, loaded on first use and again whenever the tree changed.

        Raises:
            RuleEngineUsageError: When `root` is not a folder.
        """
        key = Path(root).expanduser().resolve()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.stale(self.rescan_interval):
                engine = RuleEngine.load(key)
                self.loads += 1
                entry = _entry(engine)
                self._entries[key] = entry
            return entry.engine

    def forget(self, root: Path | str | None = None) -> None:
        """Drop the engine of `root` (of every root when None), so that the next call loads it again."""
        with self._lock:
            if root is None:
                self._entries.clear()
            else:
                self._entries.pop(Path(root).expanduser().resolve(), None)
