"""Paths the caller names: resolved against the root, refused outside it; files written without losing any."""

from __future__ import annotations

import os
import time
from pathlib import Path

from codegen_lab.mcp_core.files import replace_atomically
from codegen_lab.testgen.errors import TestgenUsageError

__all__ = ["inside_root", "write_output", "write_safely"]


def inside_root(root: Path, path: Path | str, argument: str, *, must_exist: bool = True) -> Path:
    """`path` resolved against `root`, which it must not leave.

    Args:
        root: The project root (absolute).
        path: What the caller gave, relative to the root or absolute.
        argument: The argument's name, for the error message.
        must_exist: Whether the path must exist.

    Returns:
        The absolute, resolved path.

    Raises:
        TestgenUsageError: When the path leaves the root or does not exist.
    """
    resolved = (root / path).resolve()
    if resolved != root and root not in resolved.parents:
        raise TestgenUsageError(
            f"{argument} {str(path)!r} is outside the root {root}", hint="Pass a path inside the project root"
        )
    if must_exist and not resolved.exists():
        raise TestgenUsageError(f"{argument} {str(path)!r}: no such file or folder under {root}")
    return resolved


def write_safely(path: Path, text: str) -> Path | None:
    """Write `text` to `path` through a temporary file, fsync and rename; an existing file is kept as a backup.

    Args:
        path: Where to write.
        text: The content.

    Returns:
        The backup of the previous content (`NAME.bak`, or `NAME.<time>.bak` when that exists), or None when
        `path` did not exist.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    backup: Path | None = None
    if path.exists():
        backup = path.with_name(f"{path.name}.bak")
        if backup.exists():
            backup = path.with_name(f"{path.name}.{time.strftime('%Y%m%d%H%M%S')}.{time.time_ns() % 10**6}.bak")
        os.link(path, backup)  # the old content stays reachable under the backup name, whatever happens next
    replace_atomically(path, text.encode("utf-8"))
    return backup


def write_output(folder: Path | None, name: str, text: str) -> tuple[str | None, str | None]:
    """Write `text` to `folder/name` with `write_safely` when a folder was asked for.

    Returns:
        The file written and the backup of its previous content, as strings (None when not written or new).
    """
    if folder is None:
        return None, None
    path = folder / name
    backup = write_safely(path, text)
    return str(path), str(backup) if backup else None
