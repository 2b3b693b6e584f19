"""Writing a user's file so that it is either its old content or its new one, never a part of either."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

__all__ = ["replace_atomically"]


def replace_atomically(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write `data` to `path` through a temporary file in the same folder, fsync, rename, and fsync the folder.

    The file gets `mode` when given; else an existing file keeps its permissions and a new one gets the umask's.
    When anything fails, the temporary file goes and `path` is as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode is None:
        mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else _new_file_mode()
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(temporary, mode)
        with os.fdopen(descriptor, "wb") as sink:
            sink.write(data)
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def _new_file_mode() -> int:
    """The mode a new file gets from the umask (mkstemp's 0600 would hide it from other users)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask
