"""One way to open the small SQLite stores (the LLM cache, the audit log): made on first use, WAL, autocommit.

The file is made 0600 (SQLite gives its `-wal` and `-shm` files the same mode) in a folder made 0700.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite3

__all__ = ["open_store"]


def open_store(path: Path, schema: str) -> sqlite3.Connection:
    """Open (making its folder and table) the database at `path`, shareable between threads under a caller's lock."""
    import sqlite3  # noqa: PLC0415 (a server that never stores anything never imports it)

    from codegen_lab.common._folders import private_file, private_folder  # noqa: PLC0415

    private_folder(path.parent)
    private_file(path)
    connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    # WAL with NORMAL syncs at checkpoints, not at every commit: a crash may lose the last rows, never corrupt.
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(schema)
    return connection
