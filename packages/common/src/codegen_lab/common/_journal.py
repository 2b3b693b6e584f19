"""The journal of changes to a user's files, with backups, so that the last change can be taken back.

A `ChangeSet` records each file before it touches it. In the state folder (`default_state_dir`):

```
changes/<id>.jsonl    one change set, appended to and fsynced one record at a time: a header (root, purpose,
                      process), then per file its path, hashes before and after and backup; then "complete",
                      and "undone" once taken back
changes/.lock         held (fcntl.flock) while a record is appended, a change undone, or old ones pruned
backups/<id>/<name>   what the file held before: a hard link to the old file (which this process then replaces
                      by a rename) or a copy, durable before the record that names it
```

The order of one write is: backup, record, file. A process killed at any moment leaves every file either old or
new, and an entry that names each file it may have touched (a record cut short by the kill was never acted on,
and is ignored); undoing it restores those that changed and passes over those that had not been written yet.
Ids start with the time, so they sort oldest first across processes.

The journal is not trusted blindly: an entry whose id is not its file's name, whose root is not under the root
undoing it, or that names a path with `..`, an absolute path or a backup outside its folder is never acted on;
records that are not JSON objects are skipped with a warning. Undo opens each file relative to a folder opened
from the root one component at a time without following links, so a folder swapped for a link cannot lead it
outside the root. State folders are made 0700 and journal files 0600.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import itertools
import json
import logging
import os
import shutil
import stat
import time
from collections.abc import Generator
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any, Literal, cast

from codegen_lab.common._atomic import replace_atomically
from codegen_lab.common._folders import default_state_dir, private_folder
from codegen_lab.common.errors import OperationError, UsageError
from codegen_lab.common.guard import inside

__all__ = [
    "Change",
    "ChangeSet",
    "FileChange",
    "UndoReport",
    "default_state_dir",
    "recent_changes",
    "undo_last",
]

logger = logging.getLogger(__name__)

UNKNOWN = "unknown"
"""The `after` of a file another program (uv) is changing: known once the change set closes."""

KEEP = 200
"""How many change sets the journal keeps; older entries and their backups go when a new one closes."""

_COUNTER = itertools.count()

Action = Literal["write", "remove", "snapshot"]


@dataclass(frozen=True, slots=True)
class FileChange:
    """One file of a change set.

    Attributes:
        path: The file, relative to the change's root, with `/`.
        action: `write`, `remove`, or `snapshot` (another program, such as uv, changes it).
        before: SHA-256 of what it held before, or None when it did not exist.
        after: SHA-256 of what the change leaves, None when it removes the file, `"unknown"` while another
            program is still changing it.
        backup: The backup's name under `backups/<id>/`, or None when the file did not exist.
        mode: The file's permission bits before the change.
    """

    path: str
    action: Action
    before: str | None
    after: str | None
    backup: str | None = None
    mode: int | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """A recorded change set, as the journal holds it.

    Attributes:
        id: Sorts by time: `20261126T192700.123456789-PID-N`.
        root: The folder the change's paths are relative to.
        purpose: What made it (`bump codegen-lab-uvtools minor`, `generate_code src/app.py`).
        time: When it began (seconds since the epoch).
        pid: The process that made it.
        files: Its files, in the order they were changed.
        complete: False when the process stopped (or was killed) before closing it.
        undone: When it was taken back, or None.
    """

    id: str
    root: Path
    purpose: str
    time: float
    pid: int
    files: tuple[FileChange, ...]
    complete: bool = False
    undone: float | None = None


@dataclass(frozen=True, slots=True)
class UndoReport:
    """What `undo_last` did to each file of the change it took back.

    Attributes:
        change: The change, as it was before it was undone.
        restored: Files written back with their previous content.
        removed: Files the change had created, now deleted.
        unchanged: Files that already held their previous content (a write a crash stopped before it happened).
        overwritten: Of the restored or removed files, those edited since the change (undone with `force`).
    """

    change: Change
    restored: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    overwritten: tuple[str, ...] = ()


class ChangeSet:
    """A group of writes under one root, journaled with backups, that `undo_last` takes back together.

    Every file is written atomically (temporary file, fsync, rename); its previous content is kept in the state
    folder first. Use it as a context manager: the change is marked complete when the block ends.

    Example:
        ```python
        with ChangeSet(root, "format") as change:
            change.write(root / "src/app.py", text)
            change.remove(root / "src/old.py")
        undo_last(root)  # both files as they were
        ```

    Args:
        root: The folder every path must be inside; undo finds the change by it.
        purpose: What the change is, shown by `codegen-lab undo --list`.
        state_dir: Where the journal and backups live (default: `default_state_dir()`).
    """

    def __init__(self, root: Path, purpose: str = "write", *, state_dir: Path | None = None) -> None:
        self.root = root.resolve()
        self.purpose = purpose
        self.state_dir = state_dir if state_dir is not None else default_state_dir()
        ns = time.time_ns()
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(ns // 10**9))
        self.id = f"{stamp}.{ns % 10**9:09d}-{os.getpid()}-{next(_COUNTER)}"
        self.time = ns / 1e9
        self.complete = False
        self._files: list[FileChange] = []

    @property
    def files(self) -> list[FileChange]:
        """The files changed so far, in order."""
        return list(self._files)

    def write(self, path: Path, data: str | bytes) -> None:
        """Write `data` (text is UTF-8 encoded) to `path` atomically, after keeping what was there.

        Raises:
            UsageError: When `path` is outside the root or is a folder.
            OperationError: When the file or its backup cannot be written; the file is then as it was.
        """
        relpath, target = self._inside(path)
        payload = data.encode("utf-8") if isinstance(data, str) else data
        with _failures(f"could not write {relpath}"):
            self._record(relpath, target, "write", _digest(payload))
            replace_atomically(target, payload, root=self.root)

    def remove(self, path: Path) -> None:
        """Delete `path` after keeping its content; a file that does not exist is left alone.

        Raises:
            UsageError: When `path` is outside the root or is a folder.
            OperationError: When the backup cannot be written or the file removed.
        """
        relpath, target = self._inside(path)
        if not target.exists():
            return
        with _failures(f"could not remove {relpath}"):
            self._record(relpath, target, "remove", None)
            target.unlink()

    def snapshot(self, path: Path) -> None:
        """Keep what `path` holds now, before another program (such as uv) changes it.

        When the change set closes, each snapshot records what the file holds then; a file the program left as
        it was is dropped from the change set.

        Raises:
            UsageError: When `path` is outside the root or is a folder.
            OperationError: When the backup cannot be written.
        """
        relpath, target = self._inside(path)
        with _failures(f"could not keep a backup of {relpath}"):
            self._record(relpath, target, "snapshot", UNKNOWN)

    def backup_path(self, path: Path) -> Path | None:
        """Where this change set keeps what `path` held before it first changed it; None when it did not exist."""
        relpath = (self.root / path).resolve().relative_to(self.root).as_posix()
        for item in self._files:
            if item.path == relpath:
                return self._backups / item.backup if item.backup is not None else None
        return None

    def close(self) -> None:
        """Mark the change complete (the context manager does this); snapshots record their files' new content.

        A change set that changed nothing leaves no entry.
        """
        if self.complete:
            return
        self.complete = True
        afters = {item.path: _current(self.root / item.path) for item in self._files if item.action == "snapshot"}
        self._files = _settled(self._files, afters)
        with _locked(self.state_dir):
            if self._files:
                _append(self._entry_path, [{"after": afters}, {"complete": True}])
            else:
                self._entry_path.unlink(missing_ok=True)
                shutil.rmtree(self._backups, ignore_errors=True)
            _prune(self.state_dir)

    def rollback(self) -> UndoReport:
        """Take this change set back now, whatever happened to its files since (used when a step fails)."""
        self.close()
        if not self._files:
            return UndoReport(self.as_change())
        with _locked(self.state_dir):
            return _undo(self.as_change(), self.state_dir, self.root, force=True)

    def as_change(self) -> Change:
        """The change set as the journal records it."""
        return Change(self.id, self.root, self.purpose, self.time, os.getpid(), tuple(self._files), self.complete)

    def __enter__(self) -> ChangeSet:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    @property
    def _entry_path(self) -> Path:
        return self.state_dir / "changes" / f"{self.id}.jsonl"

    @property
    def _backups(self) -> Path:
        return self.state_dir / "backups" / self.id

    def _inside(self, path: Path) -> tuple[str, Path]:
        target = inside(self.root, path, "path")
        if target == self.root:
            raise UsageError(f"refusing to change {path}: it is the root", hint="Pass a file inside the project root")
        if target.is_dir():
            raise UsageError(f"refusing to change {path}: it is a folder", hint="Pass a file")
        return target.relative_to(self.root).as_posix(), target

    def _record(self, relpath: str, target: Path, action: Action, after: str | None) -> None:
        """Back up `target`, then journal the change to it: both durable before the caller touches the file."""
        if self.complete:
            raise UsageError(f"the change set {self.id} is closed", hint="Open a new ChangeSet")
        before: str | None = None
        backup: str | None = None
        mode: int | None = None
        if target.exists():
            content = target.read_bytes()
            before = _digest(content)
            mode = stat.S_IMODE(target.stat().st_mode)
            backup = f"{len(self._files)}-{target.name}"
            _keep(target, self._backups / backup, content, link=action != "snapshot")
        item = FileChange(relpath, action, before, after, backup, mode)
        records: list[dict[str, Any]] = []
        if not self._files:
            records.append(
                {"id": self.id, "root": str(self.root), "purpose": self.purpose, "time": self.time, "pid": os.getpid()}
            )
        records.append({"file": asdict(item)})
        with _locked(self.state_dir):
            _append(self._entry_path, records)
        self._files.append(item)


def _keep(target: Path, backup: Path, content: bytes, *, link: bool) -> None:
    """Make `backup` durably hold `content`, the bytes `target` holds now.

    When this process replaces or removes `target` itself (`link`), a hard link is enough: the old inode is then
    only the backup's, and no byte is copied. Another program may rewrite the file in place, so a snapshot (or a
    state folder on another file system) gets a copy.
    """
    private_folder(backup.parent.parent, tighten=True)
    private_folder(backup.parent, tighten=True)
    if link:
        try:
            os.link(target, backup)
        except OSError:
            pass
        else:
            _fsync_folder(backup.parent)
            return
    replace_atomically(backup, content, mode=0o600)


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def recent_changes(root: Path | None = None, *, limit: int = 20, state_dir: Path | None = None) -> list[Change]:
    """The latest change sets, newest first: under `root` (or inside it) when given, else every one.

    Raises:
        OperationError: When the journal cannot be read.
    """
    folder = state_dir if state_dir is not None else default_state_dir()
    with _locked(folder):
        entries, _ = _read(folder)
    if root is not None:
        resolved = root.resolve()
        entries = [entry for entry in entries if entry.root.is_relative_to(resolved)]
    return entries[::-1][:limit]


def undo_last(root: Path, *, force: bool = False, state_dir: Path | None = None) -> UndoReport:
    """Take back the newest change set under `root` (or inside it) that is not undone yet.

    Files the change wrote get their previous content back, files it created are deleted, files it removed come
    back. A file edited since the change stops the undo, unless `force`.

    Args:
        root: The project root.
        force: Restore files edited since the change too, losing those edits.
        state_dir: Where the journal lives (default: `default_state_dir()`).

    Raises:
        UsageError: When there is nothing to undo, a file was edited since (without `force`), or the change is
            still being made by a running process.
        OperationError: When the journal or a backup cannot be read, or a file cannot be restored.
    """
    folder = state_dir if state_dir is not None else default_state_dir()
    resolved = root.resolve()
    with _locked(folder):
        entries, broken = _read(folder)
        pending = [entry for entry in entries if entry.root.is_relative_to(resolved) and entry.undone is None]
        newest = pending[-1].id if pending else ""
        unreadable = [folder / "changes" / f"{name}.jsonl" for name in broken if name > newest]
        if unreadable:
            raise OperationError(
                f"the journal entry {unreadable[-1]} cannot be read, and it may be newer than the last change "
                f"under {resolved}; move it away to undo older changes"
            )
        if not pending:
            raise UsageError(f"nothing to undo under {resolved}", hint="`codegen-lab undo --list` shows the changes")
        last = pending[-1]
        if not last.complete and not force and _alive(last.pid):
            raise UsageError(
                f"the change {last.id} ({last.purpose}) is still being made by process {last.pid}",
                hint="Wait for it to finish, or pass force to undo it anyway",
            )
        return _undo(last, folder, resolved, force=force)


def _undo(change: Change, state_dir: Path, root: Path, *, force: bool) -> UndoReport:
    """Restore the files of `change` (the lock held), then mark it undone.

    `root` is the folder undoing it: every file must lie under it, and is reached from it without following links.
    """
    problem = _outside(change, root)
    if problem is not None:
        raise OperationError(f"refusing to undo the journal entry {change.id}: {problem}; nothing was undone")
    first: dict[str, FileChange] = {}
    last: dict[str, FileChange] = {}
    for item in change.files:
        first.setdefault(item.path, item)
        last[item.path] = item
    places = {path: _Place(root, change.root, path) for path in first}
    current = {path: place.digest() for path, place in places.items()}  # a link on the way stops it here
    edited = [
        path
        for path, item in last.items()
        if item.after != UNKNOWN and current[path] not in {item.after, first[path].before}
    ]
    if edited and not force:
        raise UsageError(
            f"{', '.join(edited)} changed since {change.purpose} ({change.id}); undoing it would lose those edits",
            hint="Look at them first; pass force (`codegen-lab undo --force`) to restore them anyway",
        )
    unchanged = [path for path, item in first.items() if current[path] == item.before][::-1]
    backups = state_dir / "backups" / change.id
    contents = {  # every backup read and checked before any file is touched
        path: _backup_content(backups, item)
        for path, item in first.items()
        if path not in unchanged and item.before is not None
    }
    restored: list[str] = []
    removed: list[str] = []
    for path in reversed(first):
        with _failures(f"could not restore {path}"):
            if path in contents:
                replace_atomically(places[path].target, contents[path], mode=first[path].mode, root=root)
                restored.append(path)
            elif path not in unchanged:
                places[path].remove()
                removed.append(path)
    _append(state_dir / "changes" / f"{change.id}.jsonl", [{"undone": time.time()}])
    return UndoReport(change, tuple(restored), tuple(removed), tuple(unchanged), tuple(edited))


def _outside(change: Change, root: Path) -> str | None:
    """Why `change` may not be acted on under `root`, or None: its root and every path must lie under `root`."""
    if not change.root.is_absolute() or not change.root.is_relative_to(root) or ".." in change.root.parts:
        return f"its root {change.root} is not under {root}"
    for item in change.files:
        if not _plain_relative(item.path):
            return f"the path {item.path!r} is not a plain relative path under its root"
        if item.backup is not None and ("/" in item.backup or "\0" in item.backup or item.backup in {"", ".", ".."}):
            return f"the backup {item.backup!r} of {item.path} is not a plain name"
    return None


def _plain_relative(path: str) -> bool:
    """Whether `path` is a relative path with `/` and no `..`, `.`, empty part or NUL byte."""
    if not path or "\0" in path or path.startswith("/"):
        return False
    return all(part not in {"", ".", ".."} for part in path.split("/"))


_FOLDER_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)


@dataclass(frozen=True, slots=True)
class _Place:
    """A journaled file, reached from the undoing root one folder at a time without following links."""

    root: Path
    change_root: Path
    path: str

    @property
    def target(self) -> Path:
        return self.change_root / self.path

    @property
    def _parts(self) -> tuple[str, ...]:
        return PurePosixPath(self.target.relative_to(self.root).as_posix()).parts

    @contextlib.contextmanager
    def _folder(self) -> Generator[int | None]:
        """A descriptor of the file's folder, or None when a folder on the way does not exist."""
        descriptor = os.open(self.root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            for part in self._parts[:-1]:
                try:
                    child = os.open(part, _FOLDER_FLAGS, dir_fd=descriptor)
                except FileNotFoundError:
                    yield None
                    return
                except OSError as exc:
                    raise OperationError(
                        f"refusing to undo {self.path}: {part!r} on the way from {self.root} is a link or not a "
                        f"folder ({exc.strerror}); nothing was undone"
                    ) from None
                os.close(descriptor)
                descriptor = child
            yield descriptor
        finally:
            os.close(descriptor)

    def digest(self) -> str | None:
        """SHA-256 of the file now; None when there is none; `link` or `folder` when it is one (both changes)."""
        with self._folder() as folder:
            if folder is None:
                return None
            try:
                descriptor = os.open(self._parts[-1], os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0), dir_fd=folder)
            except FileNotFoundError:
                return None
            except OSError:
                return "link"  # O_NOFOLLOW refuses a link: it is not what the change left
            with os.fdopen(descriptor, "rb") as file:
                if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                    return "folder"
                return _digest(file.read())

    def remove(self) -> None:
        """Delete the file (a link is removed itself, never what it points to); a missing one is left alone."""
        with self._folder() as folder:
            if folder is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self._parts[-1], dir_fd=folder)


def _backup_content(backups: Path, item: FileChange) -> bytes:
    path = backups / str(item.backup)
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise OperationError(f"the backup of {item.path} ({path}) is gone; nothing can restore it") from None
    if _digest(content) != item.before:
        raise OperationError(f"the backup of {item.path} ({path}) does not hold what the file held; not restored")
    return content


def _read(state_dir: Path) -> tuple[list[Change], list[str]]:
    """Every readable entry, oldest first, and the ids of those that cannot be read."""
    entries: list[Change] = []
    broken: list[str] = []
    for path in sorted((state_dir / "changes").glob("*.jsonl")):
        try:
            entry = _parse(path.read_bytes(), path)
            if entry.id != path.stem:
                raise ValueError(f"its id {entry.id!r} is not its file's name")
            entries.append(entry)
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            logger.warning("journal entry %s cannot be read: %s", path, exc)
            broken.append(path.stem)
    return entries, broken


def _parse(data: bytes, path: Path | None = None) -> Change:
    """The change an entry records; a last record without its newline was cut short by a crash, and is ignored.

    A record that is not a JSON object is skipped with a warning; a header or file record of the wrong shape
    makes the entry unreadable (ValueError or TypeError).
    """
    records: list[dict[str, Any]] = []
    for number, line in enumerate(data.split(b"\n")[:-1], start=1):
        record: object = json.loads(line)
        if not isinstance(record, dict):
            logger.warning("journal entry %s line %d is not a JSON object; skipped", path or "(entry)", number)
            continue
        records.append(cast("dict[str, Any]", record))
    header = records[0]
    files: list[FileChange] = []
    afters: dict[str, str | None] = {}
    complete, undone = False, None
    for record in records[1:]:
        if "file" in record:
            files.append(_file_change(record["file"]))
        after: object = record.get("after", {})
        if not isinstance(after, dict):
            raise TypeError("an after record is not an object")
        afters.update(cast("dict[str, str | None]", after))
        complete = complete or record.get("complete", False)
        undone = record.get("undone", undone)
    return Change(
        str(header["id"]),
        Path(str(header["root"])),
        str(header["purpose"]),
        float(header["time"]),
        int(header["pid"]),
        tuple(_settled(files, afters)),
        bool(complete),
        float(undone) if undone is not None else None,
    )


def _file_change(record: object) -> FileChange:
    """A file record, its every field of the type `FileChange` says (ValueError or TypeError otherwise)."""
    if not isinstance(record, dict):
        raise TypeError("a file record is not an object")
    fields = cast("dict[str, object]", record)
    unknown = set(fields) - set(FileChange.__dataclass_fields__)
    path, action, mode = fields.get("path"), fields.get("action"), fields.get("mode")
    texts = [fields.get(name) for name in ("before", "after", "backup")]
    if unknown or not isinstance(path, str) or action not in {"write", "remove", "snapshot"}:
        raise ValueError(f"a file record has a bad path, action or field: {fields!r}")
    if any(value is not None and not isinstance(value, str) for value in texts) or not (
        mode is None or (isinstance(mode, int) and not isinstance(mode, bool))
    ):
        raise ValueError(f"a file record has a field of the wrong type: {fields!r}")
    return FileChange(**fields)  # pyright: ignore[reportArgumentType] (each field checked above)


def _settled(files: list[FileChange], afters: dict[str, str | None]) -> list[FileChange]:
    """Snapshots with what their files were left holding; those left as they were are dropped."""
    settled = [
        dataclasses.replace(item, after=afters[item.path])
        if item.action == "snapshot" and item.path in afters
        else item
        for item in files
    ]
    return [item for item in settled if item.action != "snapshot" or item.after != item.before]


def _append(path: Path, records: list[dict[str, Any]]) -> None:
    """Append `records` to the entry at `path`, one JSON line each, and fsync (the folder too for a new entry)."""
    data = b"".join(json.dumps(record).encode("utf-8") + b"\n" for record in records)
    new = not path.exists()
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    if new:
        _fsync_folder(path.parent)


def _prune(state_dir: Path) -> None:
    """Drop the entries beyond the newest `KEEP`, and backups older than every kept entry (the lock held)."""
    entries = sorted((state_dir / "changes").glob("*.jsonl"))
    if len(entries) <= KEEP:
        return
    for path in entries[:-KEEP]:
        path.unlink(missing_ok=True)
    oldest = entries[-KEEP].stem
    for folder in (state_dir / "backups").iterdir():
        if folder.name < oldest:
            shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def _locked(state_dir: Path) -> Generator[None]:
    """Hold the journal's lock file, so that entries are written and undone one process at a time."""
    folder = state_dir / "changes"
    try:
        private_folder(state_dir)
        private_folder(folder, tighten=True)
        descriptor = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise OperationError(f"cannot open the journal in {folder}: {exc.strerror or exc}") from exc
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def _failures(what: str) -> Generator[None]:
    try:
        yield
    except OSError as exc:
        raise OperationError(f"{what}: {exc.strerror or exc}") from exc


def _current(path: Path) -> str | None:
    """SHA-256 of the file at `path` now, None when there is none (a folder counts as a change)."""
    try:
        return _digest(path.read_bytes())
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        return "folder"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
