"""File-system events under a root, from watchfiles (inotify, FSEvents, ReadDirectoryChangesW), as rule changes.

The watch is set up when a `TreeWatcher` is made, so nothing that happens after that is missed. A change counts
when it can change what the engine reads: a rule file or an ignore file edited, or any file or folder added,
removed or renamed (a new rule folder, a file a glob now matches). Edits of other files, and anything under the
folders discovery skips (`.git`, `node_modules`, ...), do not.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from codegen_lab.rule_engine._discovery import SKIPPED_FOLDERS
from codegen_lab.rule_engine._formats import format_for

__all__ = ["TreeWatcher", "relevant", "watcher_for"]

logger = logging.getLogger(__name__)

_MODIFIED = 2
"""`watchfiles.Change.modified`: the other kinds are added (1) and deleted (3)."""
_IGNORE_FILES = frozenset({".gitignore", "exclude"})


def relevant(root: Path, kind: int, path: str) -> str | None:
    """The changed path relative to `root` when the change can change the rules or their checks, else None."""
    try:
        relpath = Path(path).relative_to(root).as_posix()
    except ValueError:
        return None
    parts = relpath.split("/")
    if any(part in SKIPPED_FOLDERS for part in parts[:-1]) or parts[-1] in SKIPPED_FOLDERS:
        return relpath if relpath in {".git/info/exclude"} else None
    if kind != _MODIFIED or parts[-1] in _IGNORE_FILES or format_for(relpath) is not None:
        return relpath
    return None


class TreeWatcher:
    """Events under `root`; `changes()` waits for the next relevant batch.

    Raises:
        OSError: When the platform cannot watch the tree (no inotify, the watch limit reached, ...).
    """

    def __init__(self, root: Path) -> None:
        from watchfiles._rust_notify import RustNotify  # noqa: PLC0415 (the documented low-level API)

        self.root = root.resolve()
        self.stop = threading.Event()
        self._notify: Any = RustNotify([str(self.root)], False, False, 300, True, True)
        self._lock = threading.Lock()
        self._closed = False

    def changes(self, timeout_ms: int = 0) -> list[str] | None:
        """The relevant changed paths of the next batch (waiting as long as `timeout_ms`, 0 for ever), else None.

        None means the watch ended: stopped, interrupted or timed out. An empty list is a batch with nothing
        relevant in it.
        """
        if self.stop.is_set():
            self._release()
            return None
        result = self._notify.watch(100, 50, timeout_ms, self.stop)
        if isinstance(result, str):
            if result == "stop":
                self._release()
            return None
        changed = (relevant(self.root, kind, path) for kind, path in sorted(result))
        return sorted({path for path in changed if path is not None})

    def close(self) -> None:
        """Stop the watch: a `changes()` waiting in another thread returns None within about 50 ms and releases it."""
        self.stop.set()

    def _release(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._notify.close()


def watcher_for(root: Path) -> TreeWatcher | None:
    """A watcher of `root`, or None (logged) when events cannot be had there: then callers compare mtimes."""
    try:
        return TreeWatcher(root)
    except Exception as exc:
        logger.warning("cannot watch %s for changes (%s); falling back to modification times", root, exc)
        return None
