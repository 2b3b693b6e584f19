"""File-system events under a root, from watchfiles (inotify, FSEvents, ReadDirectoryChangesW), as rule changes.

The watch is set up when a `TreeWatcher` is made, so nothing that happens after that is missed. A change counts
when it can change what the engine reads: a rule file or an ignore file edited, or any file or folder added,
removed or renamed (a new rule folder, a file a glob now matches). Edits of other files, and anything under the
folders discovery skips (`.git`, `node_modules`, ...), do not.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any

from codegen_lab.rule_engine._discovery import SKIPPED_FOLDERS
from codegen_lab.rule_engine._formats import format_for

__all__ = ["TreeWatcher", "relevant", "watcher_for"]

logger = logging.getLogger(__name__)

DEBOUNCE_MS = 100
"""How long one batch may gather changes at most."""
STEP_MS = 50
"""A batch ends after this long without a change; `close()` is seen within it."""
TICK_MS = 200
"""How often a wait wakes to look at its own timeout (`watchfiles.watch`'s `rust_timeout`)."""
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
    """Events under `root`, from `watchfiles.watch`; `changes()` waits for the next relevant batch.

    The watch is running when the watcher is made (its first look happens there), so no later change is missed.
    `watchfiles.watch` wakes every `TICK_MS` (`rust_timeout` with `yield_on_timeout`) so that a wait can end at
    its own timeout, and stops within `STEP_MS` of `close()` (its `stop_event`).

    Raises:
        OSError: When the platform cannot watch the tree (no inotify, the watch limit reached, ...).
    """

    def __init__(self, root: Path) -> None:
        import watchfiles  # noqa: PLC0415 (the notify library loads when a watch starts)

        self.root = root.resolve()
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._events: Generator[set[tuple[watchfiles.Change, str]], None, None] = watchfiles.watch(
            self.root,
            watch_filter=None,  # `relevant` decides, `.git/info/exclude` included
            debounce=DEBOUNCE_MS,
            step=STEP_MS,
            stop_event=self.stop,
            rust_timeout=TICK_MS,
            yield_on_timeout=True,
            raise_interrupt=False,  # a signal ends the watch: `changes()` returns None
        )
        self._pending: list[str] = self._relevant(next(self._events))  # starts the watch (raises when it cannot)

    def changes(self, timeout_ms: int = 0) -> list[str] | None:
        """The relevant changed paths of the next batch (waiting as long as `timeout_ms`, 0 for ever), else None.

        None means the watch ended: stopped, interrupted or timed out. An empty list is a batch with nothing
        relevant in it.
        """
        with self._lock:
            if self._pending and not self.stop.is_set():
                pending, self._pending = self._pending, []
                return pending
            waited = 0
            while not self.stop.is_set():
                batch = next(self._events, None)
                if batch is None:
                    break
                if batch:
                    return self._relevant(batch)
                waited += TICK_MS
                if timeout_ms and waited >= timeout_ms:
                    return None
            self._events.close()  # releases the watch (the generator leaves its `with RustNotify`)
            return None

    def close(self) -> None:
        """Stop the watch: a `changes()` waiting in another thread returns None within about 50 ms and releases it."""
        self.stop.set()

    def _relevant(self, batch: set[tuple[Any, str]]) -> list[str]:
        changed = (relevant(self.root, int(kind), path) for kind, path in batch)
        return sorted({path for path in changed if path is not None})


def watcher_for(root: Path) -> TreeWatcher | None:
    """A watcher of `root`, or None (logged) when events cannot be had there: then callers compare mtimes."""
    try:
        return TreeWatcher(root)
    except Exception as exc:
        logger.warning("cannot watch %s for changes (%s); falling back to modification times", root, exc)
        return None
