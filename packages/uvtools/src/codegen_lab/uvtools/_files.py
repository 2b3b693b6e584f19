"""Writing user files safely: each through a temporary file, fsync and rename, with a backup kept until all succeed."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from codegen_lab.mcp_core.errors import OperationError

__all__ = ["write_files"]

logger = logging.getLogger(__name__)

BACKUP_SUFFIX = ".uvtools-backup"


def _atomic_write(path: Path, text: str) -> None:
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            shutil.copymode(path, temporary)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_files(contents: Mapping[Path, str]) -> None:
    """Write every file of `contents`, or none: on any failure the originals are restored from their backups.

    Each original is copied to `NAME.uvtools-backup` beside it first; the backups are removed once every file is
    written.

    Raises:
        OperationError: When a file cannot be written (the originals are then restored).
    """
    backups: dict[Path, Path] = {}
    try:
        for path in contents:
            if path.exists():
                backup = path.with_name(path.name + BACKUP_SUFFIX)
                shutil.copy2(path, backup)
                backups[path] = backup
        for path, text in contents.items():
            _atomic_write(path, text)
    except OSError as exc:
        for path, backup in backups.items():
            backup.replace(path)
        raise OperationError(f"could not write {', '.join(map(str, contents))}; nothing was changed: {exc}") from exc
    for backup in backups.values():
        backup.unlink(missing_ok=True)
    logger.info("wrote %s", ", ".join(map(str, contents)))
