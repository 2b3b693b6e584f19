"""Writing a user's file so that it is either its old content or its new one, never a part of either."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import tempfile
from pathlib import Path

from codegen_lab.common.guard import AllowedRoots, open_folder_inside

__all__ = ["replace_atomically"]


def replace_atomically(path: Path, data: bytes, *, mode: int | None = None, root: Path | None = None) -> None:
    """Write `data` to `path` through a temporary file in the same folder, fsync, rename, and fsync the folder.

    The file gets `mode` when given; else an existing file keeps its permissions and a new one gets the umask's.
    When anything fails, the temporary file goes and `path` is as it was.

    With `root`, the folder is opened from the root one component at a time without following links, and the
    temporary file is made and renamed relative to that folder, so a folder swapped for a link out of the root
    after the caller checked the path cannot redirect the write.

    Raises:
        UsageError: With `root`, when the folder is outside it or changed while being opened.
    """
    if root is not None:
        _replace_under(root, path, data, mode)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode is None:
        mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else _new_file_mode()
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(temporary, mode)
        _write_durably(descriptor, data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def _write_durably(descriptor: int, data: bytes) -> None:
    """Write `data` to the open file `descriptor`, reach the disk, and close it."""
    with os.fdopen(descriptor, "wb") as sink:
        sink.write(data)
        sink.flush()
        os.fsync(sink.fileno())


def _replace_under(root: Path, path: Path, data: bytes, mode: int | None) -> None:
    folder = open_folder_inside(AllowedRoots(root), path.parent, "path", create=True)
    temporary = f".{path.name}.{secrets.token_hex(6)}.tmp"
    try:
        if mode is None:
            try:
                mode = stat.S_IMODE(os.stat(path.name, dir_fd=folder, follow_symlinks=False).st_mode)
            except FileNotFoundError:
                mode = _new_file_mode()
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        descriptor = os.open(temporary, flags, 0o600, dir_fd=folder)
        try:
            os.fchmod(descriptor, mode)
            _write_durably(descriptor, data)
            os.replace(temporary, path.name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary, dir_fd=folder)
            raise
        os.fsync(folder)
    finally:
        os.close(folder)


def _new_file_mode() -> int:
    """The mode a new file gets from the umask (mkstemp's 0600 would hide it from other users)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask
