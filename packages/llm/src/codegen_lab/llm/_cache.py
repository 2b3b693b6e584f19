"""The response cache: SQLite in the user's cache folder, with a time to live and a size cap (LRU)."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite3

    from codegen_lab.common._settings import Settings

from codegen_lab.common._folders import default_cache_dir
from codegen_lab.common._sqlite import open_store
from codegen_lab.llm._types import Completion, CompletionRequest, Usage

__all__ = ["ResponseCache", "cache_key", "decode_completion", "default_cache_dir", "encode_completion"]


def cache_key(backend: str, model: str, request: CompletionRequest) -> str:
    """A hash of everything that decides the answer: backend, model, system, messages and parameters."""
    payload = json.dumps(
        {
            "backend": backend,
            "model": model,
            "system": request.system,
            "messages": [[message.role, message.content] for message in request.messages],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stop": list(request.stop),
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def encode_completion(completion: Completion) -> str:
    """A completion as the JSON text a cache stores."""
    return json.dumps(asdict(completion))


def decode_completion(text: str, key: str) -> Completion:
    """The completion a cache stored as `text` under `key`, marked `cached`."""
    data: dict[str, Any] = json.loads(text)
    return Completion(
        text=str(data["text"]),
        backend=str(data["backend"]),
        model=str(data["model"]),
        usage=Usage(**data["usage"]),
        stop_reason=data.get("stop_reason"),
        cached=True,
        cost_usd=data.get("cost_usd"),
        cache_key=key,
        notes=tuple(data.get("notes", ())),
    )


class ResponseCache:
    """Completions by `cache_key`, in one SQLite file.

    Args:
        path: The database file (its folder is created).
        ttl: Seconds an entry stays valid.
        max_bytes: Total size of the stored answers; past it the least recently used go.
    """

    def __init__(self, path: Path, *, ttl: float, max_bytes: int, clock: Any = time.time) -> None:
        self.path = path
        self.ttl = ttl
        self.max_bytes = max_bytes
        self._clock = clock
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self._connection: sqlite3.Connection | None = None

    @property
    def _db(self) -> sqlite3.Connection:
        """The database, opened (and made) on first use: a server that never asks an LLM never touches it."""
        if self._connection is None:
            self._connection = open_store(
                self.path,
                "CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, value TEXT NOT NULL, "
                "created REAL NOT NULL, used REAL NOT NULL, size INTEGER NOT NULL)",
            )
        return self._connection

    @classmethod
    def from_settings(cls, settings: Settings) -> ResponseCache:
        """The cache the settings describe: `llm-responses.sqlite3` in the cache folder, with its TTL and size."""
        folder = settings.cache_dir or default_cache_dir()
        return cls(
            folder / "llm-responses.sqlite3",
            ttl=settings.llm_cache_ttl,
            max_bytes=int(settings.llm_cache_max_mb * 1024 * 1024),
        )

    def get(self, key: str) -> Completion | None:
        """The cached completion, or None when absent or expired."""
        now = self._clock()
        with self._lock:
            row = self._db.execute("SELECT value, created FROM answers WHERE key = ?", (key,)).fetchone()
            if row is None or now - row[1] > self.ttl:
                if row is not None:
                    self._db.execute("DELETE FROM answers WHERE key = ?", (key,))
                self.misses += 1
                return None
            self._db.execute("UPDATE answers SET used = ? WHERE key = ?", (now, key))
            self.hits += 1
        return decode_completion(row[0], key)

    def put(self, key: str, completion: Completion) -> None:
        """Store a completion, then evict the least recently used answers past the size cap."""
        value = encode_completion(completion)
        now = self._clock()
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO answers (key, value, created, used, size) VALUES (?, ?, ?, ?, ?)",
                (key, value, now, now, len(value)),
            )
            total = self._db.execute("SELECT COALESCE(SUM(size), 0) FROM answers").fetchone()[0]
            while total > self.max_bytes:
                oldest = self._db.execute("SELECT key, size FROM answers ORDER BY used ASC LIMIT 1").fetchone()
                if oldest is None:
                    break
                self._db.execute("DELETE FROM answers WHERE key = ?", (oldest[0],))
                total -= oldest[1]

    def counters(self) -> dict[str, Any]:
        """This process's hits and misses and where the file is, without touching the database."""
        return {"path": str(self.path), "hits": self.hits, "misses": self.misses}

    def stats(self) -> dict[str, Any]:
        """Entries, bytes, this process's hits and misses, and where the file is."""
        with self._lock:
            entries, size = self._db.execute("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM answers").fetchone()
            spent = self._db.execute(
                "SELECT COALESCE(SUM(json_extract(value, '$.cost_usd')), 0), "
                "COALESCE(SUM(json_extract(value, '$.usage.input_tokens')), 0), "
                "COALESCE(SUM(json_extract(value, '$.usage.output_tokens')), 0), "
                "COALESCE(SUM(json_extract(value, '$.usage.cache_read_input_tokens')), 0) FROM answers"
            ).fetchone()
        return {
            "path": str(self.path),
            "entries": entries,
            "bytes": size,
            "max_bytes": self.max_bytes,
            "ttl_seconds": self.ttl,
            "hits": self.hits,
            "misses": self.misses,
            "stored_cost_usd": round(float(spent[0]), 6),
            "stored_input_tokens": int(spent[1]),
            "stored_output_tokens": int(spent[2]),
            "stored_cache_read_input_tokens": int(spent[3]),
        }

    def clear(self) -> int:
        """Remove every entry; how many there were."""
        with self._lock:
            count = self._db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
            self._db.execute("DELETE FROM answers")
            self._db.execute("VACUUM")
        return int(count)

    def close(self) -> None:
        """Close the database, if it was opened."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
