"""A rule index per root: the engine is loaded once and reloaded only when the tree changed.

Whether it changed is told without walking the tree again. On every call, the rule files and the ignore files
(`.gitignore`, `.git/info/exclude`) are checked: a few dozen `stat` calls, so an edited rule is seen at once.
Files added, removed or renamed are told by file-system events (`watch=True`: watchfiles, on a thread per root);
where the platform cannot watch the tree, and with `watch=False`, every folder the walk read is checked instead
(a file added, removed or renamed in a folder changes the folder's mtime), at most once every `rescan_interval`
seconds: on a repository of thousands of folders that sweep costs tens of milliseconds, against seconds for a
walk and a parse of every rule.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from codegen_lab.rule_engine._engine import RuleEngine

if TYPE_CHECKING:
    from codegen_lab.rule_engine._watch import TreeWatcher

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
    watcher: TreeWatcher | None = None
    """The root's file-system watch, when there is one: it replaces the folder sweep."""
    dirty: threading.Event = field(default_factory=threading.Event)
    """Set by the watch when a relevant change happened since the engine was loaded."""

    def stale(self, interval: float) -> bool:
        if _changed(self.files) or self.dirty.is_set():
            return True
        if self.watcher is not None and not self.watcher.stop.is_set():
            return False
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
        rescan_interval: Seconds between two checks of every folder's mtime (files added or removed) when the tree
            is not watched; rule and ignore files are checked on every call. 0 checks everything on every call.
        watch: Learn of files added, removed or renamed from file-system events (watchfiles) instead of the
            folder sweep; where watching fails, the sweep is used.
    """

    def __init__(self, *, rescan_interval: float = 1.0, watch: bool = False) -> None:
        self.rescan_interval = rescan_interval
        self.watch = watch
        self._entries: dict[Path, _Entry] = {}
        self._watchers: dict[Path, TreeWatcher] = {}
        self._dirty: dict[Path, threading.Event] = {}
        self._changed = threading.Condition()
        self._lock = threading.Lock()
        self.loads = 0
        """How many times an engine was (re)loaded, for tests and benchmarks."""
        self.events = 0
        """How many relevant batches of file-system events arrived, for tests."""

    def engine(self, root: Path | str) -> RuleEngine:
        """The engine for `root`, loaded on first use and again whenever the tree changed.

        Raises:
            RuleEngineUsageError: When `root` is not a folder.
        """
        key = Path(root).expanduser().resolve()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.stale(self.rescan_interval):
                watcher, dirty = self._watched(key)
                dirty.clear()  # what changes from here on is seen, the load below included
                engine = RuleEngine.load(key)
                self.loads += 1
                entry = _entry(engine)
                entry.watcher, entry.dirty = watcher, dirty
                self._entries[key] = entry
            return entry.engine

    def watching(self, root: Path | str) -> bool:
        """Whether changes under `root` arrive as file-system events (else the folder sweep finds them)."""
        watcher = self._watchers.get(Path(root).expanduser().resolve())
        return watcher is not None and not watcher.stop.is_set()

    def wait_for_events(self, events: int, timeout: float) -> bool:
        """Wait until `events` relevant batches of events have arrived in all (True), or `timeout` seconds (False)."""
        with self._changed:
            return self._changed.wait_for(lambda: self.events >= events, timeout)

    def close(self) -> None:
        """Stop every watch (the threads end within about 50 ms)."""
        with self._lock:
            for watcher in self._watchers.values():
                watcher.close()
            self._watchers.clear()

    def _watched(self, key: Path) -> tuple[TreeWatcher | None, threading.Event]:
        """The watch of `key` (made on first use when watching), and the event it sets on a relevant change."""
        dirty = self._dirty.setdefault(key, threading.Event())
        if not self.watch or key in self._watchers:
            return self._watchers.get(key), dirty
        from codegen_lab.rule_engine._watch import watcher_for  # noqa: PLC0415

        watcher = watcher_for(key)
        if watcher is not None:
            self._watchers[key] = watcher
            threading.Thread(target=self._listen, args=(watcher, dirty), name=f"rules-watch {key}", daemon=True).start()
        return watcher, dirty

    def _listen(self, watcher: TreeWatcher, dirty: threading.Event) -> None:
        while (changed := watcher.changes()) is not None:
            if changed:
                dirty.set()
                with self._changed:
                    self.events += 1
                    self._changed.notify_all()

    def forget(self, root: Path | str | None = None) -> None:
        """Drop the engine of `root` (of every root when None), so that the next call loads it again."""
        with self._lock:
            if root is None:
                self._entries.clear()
            else:
                self._entries.pop(Path(root).expanduser().resolve(), None)
