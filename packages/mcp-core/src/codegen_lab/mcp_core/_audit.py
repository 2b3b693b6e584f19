"""The audit log: every tool call, with time, client, tool, a digest of its arguments, outcome and duration.

A call that asked a model also records its LLM calls and what they cost (`cost_usd`, by the LLM service's price
table; None when a model had no price). A log written before these columns existed gains them when opened.

SQLite in the state folder (`CODEGEN_LAB_STATE_DIR`, else `$XDG_STATE_HOME/codegen-lab`, else
`~/.local/state/codegen-lab`), opened on the first call. Secrets never enter it: arguments whose names look secret
and any value equal to a secret from the environment are redacted before the digest and the preview are made.
The oldest rows go once the log passes its size.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import threading
import time
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codegen_lab.common._folders import default_state_dir
from codegen_lab.common._sqlite import open_store
from codegen_lab.common.secrets import known_secrets, redact

if TYPE_CHECKING:
    import sqlite3

__all__ = ["AuditLog", "default_state_dir", "flush_all", "redact"]

_BATCH = 64
_FLUSH_SECONDS = 1.0
_ADDED_COLUMNS = {"llm_calls": "INTEGER NOT NULL DEFAULT 0", "cost_usd": "REAL"}
_COLUMNS = ("time", "client", "tool", "digest", "arguments", "outcome", "duration", "llm_calls", "cost_usd")


_OPEN: weakref.WeakSet[AuditLog] = weakref.WeakSet()


@atexit.register
def flush_all() -> None:
    """Write every log's waiting rows now (done at exit too)."""
    for log in list(_OPEN):
        log.flush()


class AuditLog:
    """Tool calls, one row each.

    Args:
        path: The database file.
        max_rows: The rows kept; older ones go.
        environ: Where secrets to redact are looked up (default: `os.environ`).
    """

    def __init__(self, path: Path, *, max_rows: int = 100_000, environ: Mapping[str, str] | None = None) -> None:
        self.path = path
        self.max_rows = max_rows
        self._environ = environ
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._writes = 0
        self._pending: list[tuple[Any, ...]] = []
        self._flusher: threading.Timer | None = None
        self._urgent = False
        _OPEN.add(self)

    @property
    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = open_store(
                self.path,
                "CREATE TABLE IF NOT EXISTS calls (id INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, "
                "client TEXT, tool TEXT NOT NULL, digest TEXT NOT NULL, arguments TEXT NOT NULL, "
                "outcome TEXT NOT NULL, duration REAL NOT NULL, llm_calls INTEGER NOT NULL DEFAULT 0, cost_usd REAL)",
            )
            columns = {row[1] for row in connection.execute("PRAGMA table_info(calls)")}
            for column, declaration in _ADDED_COLUMNS.items():
                if column not in columns:  # a log from before the column
                    connection.execute(f"ALTER TABLE calls ADD COLUMN {column} {declaration}")
            self._connection = connection
        return self._connection

    def record(
        self,
        *,
        tool: str,
        client: str | None,
        arguments: Mapping[str, Any],
        outcome: str,
        duration: float,
        llm_calls: int = 0,
        cost_usd: float | None = None,
    ) -> None:
        """Add one call (arguments redacted; a digest of them and a short preview are kept).

        `llm_calls` and `cost_usd` are what the call spent on a model (`cost_usd` None: no call, or one whose
        model has no price). The row is redacted and digested when its batch is written, off the caller's path.
        """
        row = (time.time(), client, tool, dict(arguments), outcome, duration, llm_calls, cost_usd)
        with self._lock:
            self._pending.append(row)
            full = len(self._pending) >= _BATCH
            # Rows are written in batches, off the caller's path: within a second, or at once when many wait.
            if self._flusher is None or (full and not self._urgent):
                if self._flusher is not None:
                    self._flusher.cancel()
                self._urgent = full
                self._flusher = threading.Timer(0 if full else _FLUSH_SECONDS, self.flush)
                self._flusher.daemon = True
                self._flusher.start()

    def flush(self) -> None:
        """Write the rows that wait, and drop the oldest past `max_rows`."""
        with self._lock:
            rows, self._pending = self._pending, []
            if self._flusher is not None:
                self._flusher.cancel()
                self._flusher = None
            self._urgent = False
            if not rows:
                return
            database = self._db
            database.execute("BEGIN")  # one transaction a batch, not one a row
            try:
                database.executemany(
                    f"INSERT INTO calls ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",  # noqa: S608
                    self._redacted(rows),
                )
                database.execute("DELETE FROM calls WHERE id <= (SELECT MAX(id) FROM calls) - ?", (self.max_rows,))
            except BaseException:
                database.execute("ROLLBACK")
                raise
            database.execute("COMMIT")
            self._writes += len(rows)

    def _redacted(self, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        secrets = known_secrets(self._environ)
        redacted: list[tuple[Any, ...]] = []
        for when, client, tool, arguments, outcome, duration, llm_calls, cost_usd in rows:
            text = json.dumps(redact(arguments, secrets), sort_keys=True, default=str, ensure_ascii=False)
            digest = hashlib.sha256(text.encode()).hexdigest()
            preview = text if len(text) <= 500 else text[:497] + "..."
            redacted.append(
                (when, client, tool, digest, preview, redact(outcome, secrets), duration, llm_calls, cost_usd)
            )
        return redacted

    def entries(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest calls first."""
        self.flush()
        with self._lock:
            rows = self._db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM calls ORDER BY id DESC LIMIT ?",  # noqa: S608 (constant names)
                (limit,),
            ).fetchall()
        return [dict(zip(_COLUMNS, row, strict=True)) for row in rows]

    def summary(self, limit: int = 10_000) -> list[dict[str, Any]]:
        """Calls per tool over the newest `limit` calls: count, errors, p50 and p99 of the duration, the last call.

        Each item is `{"tool", "calls", "errors", "p50", "p99", "last"}` (seconds; `last` since the epoch), the
        busiest tool first. An error is a call whose outcome is not `ok`.
        """
        self.flush()
        with self._lock:
            rows = self._db.execute(
                "SELECT tool, outcome, duration, time FROM calls ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        by_tool: dict[str, list[tuple[str, float, float]]] = {}
        for tool, outcome, duration, when in rows:
            by_tool.setdefault(tool, []).append((outcome, duration, when))
        summary: list[dict[str, Any]] = []
        for tool, calls in by_tool.items():
            durations = sorted(duration for _, duration, _ in calls)
            summary.append(
                {
                    "tool": tool,
                    "calls": len(calls),
                    "errors": sum(outcome != "ok" for outcome, _, _ in calls),
                    "p50": _percentile(durations, 50),
                    "p99": _percentile(durations, 99),
                    "last": max(when for _, _, when in calls),
                }
            )
        return sorted(summary, key=lambda item: (-item["calls"], item["tool"]))

    def close(self) -> None:
        """Write what waits and close the database, if it was opened."""
        self.flush()
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _percentile(ordered: list[float], percent: int) -> float:
    """The `percent` percentile of the sorted `ordered` (nearest rank), 0.0 when empty."""
    if not ordered:
        return 0.0
    rank = max(1, -(-len(ordered) * percent // 100))  # ceil, at least the first
    return ordered[rank - 1]
