"""Writing user files without ever leaving one half-written, and taking a change back.

Every write goes to a temporary file in the same folder, is flushed to disk, then renamed over the target. The
previous content is kept in the state folder (`CODEGEN_LAB_STATE_DIR`, else `$XDG_STATE_HOME/codegen-lab`, else
`~/.local/state/codegen-lab`), and each change set is journaled so that `revert` restores it.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from codegen_lab.mcp_core.files import replace_atomically
from codegen_lab.rule_engine.errors import RuleEngineUsageError, RuleWriteError

__all__ = ["ChangeSet", "revert_last", "state_dir", "write_atomically"]


def state_dir() -> Path:
    """The folder for backups and the journal."""
    explicit = os.environ.get("CODEGEN_LAB_STATE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "codegen-lab"


@dataclass
class ChangeSet:
    """A group of writes under one root that `revert_last` takes back together.

    Example:
        ```python
        with ChangeSet(root) as change:
            change.write(root / ".cursor/rules/python.mdc", text)
        ```
    """

    root: Path
    purpose: str = "write"
    files: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    id: str = field(default_factory=lambda: time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{time.time_ns() % 10**6}")

    def write(self, path: Path, text: str) -> None:
        """Write `text` to `path` (inside the root) atomically, keeping what was there for `revert_last`.

        Raises:
            RuleEngineUsageError: When `path` is outside the root.
            RuleWriteError: When the file cannot be written; it is then left as it was.
        """
        root = self.root.resolve()
        target = path.resolve()
        if not target.is_relative_to(root):
            raise RuleEngineUsageError(f"refusing to write {path}: it is outside the root {root}")
        relpath = target.relative_to(root).as_posix()
        backup: str | None = None
        try:
            if target.exists():
                kept = state_dir() / "backups" / self.id / relpath
                kept.parent.mkdir(parents=True, exist_ok=True)
                kept.write_bytes(target.read_bytes())
                backup = str(kept)
            replace_atomically(target, text.encode("utf-8"))
        except OSError as exc:
            raise RuleWriteError(f"could not write {relpath}: {exc.strerror or exc}") from exc
        self.files.append({"path": relpath, "backup": backup})

    def remove(self, path: Path) -> None:
        """Delete `path` (inside the root), keeping its content for `revert_last`."""
        target = path.resolve()
        relpath = target.relative_to(self.root.resolve()).as_posix()
        kept = state_dir() / "backups" / self.id / relpath
        kept.parent.mkdir(parents=True, exist_ok=True)
        kept.write_bytes(target.read_bytes())
        target.unlink()
        self.files.append({"path": relpath, "backup": str(kept), "removed": True})

    def __enter__(self) -> ChangeSet:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if not self.files:
            return
        journal = state_dir() / "journal.jsonl"
        journal.parent.mkdir(parents=True, exist_ok=True)
        entry = {
            "id": self.id,
            "time": time.time(),
            "root": str(self.root.resolve()),
            "purpose": self.purpose,
            "files": self.files,
        }
        with journal.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")


def write_atomically(path: Path, text: str, *, root: Path, purpose: str = "write") -> None:
    """Write one file atomically with a backup, as its own change set."""
    with ChangeSet(root, purpose) as change:
        change.write(path, text)


def revert_last(root: Path) -> list[str]:
    """Take back the last change set under `root` that is not taken back yet; the files it restored.

    Raises:
        RuleEngineUsageError: When there is nothing to take back.
    """
    root = root.resolve()
    journal = state_dir() / "journal.jsonl"
    entries = (
        [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines() if line.strip()]
        if journal.exists()
        else []
    )
    reverted = {entry["reverts"] for entry in entries if "reverts" in entry}
    pending = [e for e in entries if e.get("root") == str(root) and "reverts" not in e and e["id"] not in reverted]
    if not pending:
        raise RuleEngineUsageError(f"nothing to revert under {root}")
    last = pending[-1]
    restored: list[str] = []
    for item in reversed(last["files"]):
        target = root / item["path"]
        if item["backup"] is None:
            target.unlink(missing_ok=True)
        else:
            replace_atomically(target, Path(item["backup"]).read_bytes())
        restored.append(item["path"])
    with journal.open("a", encoding="utf-8") as handle:
        handle.write(
            json.dumps({"id": f"revert-{last['id']}", "time": time.time(), "root": str(root), "reverts": last["id"]})
            + "\n"
        )
    return restored
