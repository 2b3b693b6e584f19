"""Writing rule files through mcp-core's journaled `ChangeSet`, and taking the last change back.

Every write goes to a temporary file in the same folder, is flushed to disk, then renamed over the target; the
previous content is kept in the state folder and the change journaled (`codegen_lab.common.files`), so that
`revert_last` (`codegen-lab rules revert`, or `codegen-lab undo`) restores it.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from codegen_lab.common.errors import OperationError, UsageError
from codegen_lab.common.files import ChangeSet, default_state_dir, undo_last
from codegen_lab.rule_engine.errors import RuleEngineUsageError, RuleWriteError

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["ChangeSet", "journaled_writes", "revert_last", "state_dir", "write_atomically"]

state_dir = default_state_dir
"""The folder for backups and the journal (`codegen_lab.common.files.default_state_dir`)."""


def write_atomically(
    path: Path, text: str, *, root: Path, purpose: str = "write", state_dir: Path | None = None
) -> None:
    """Write one file atomically with a backup, as its own change set.

    Raises:
        RuleEngineUsageError: When `path` is outside the root.
        RuleWriteError: When the file cannot be written; it is then left as it was.
    """
    with journaled_writes(root, purpose, state_dir=state_dir) as write:
        write(path, text)


@contextmanager
def journaled_writes(
    root: Path, purpose: str, *, state_dir: Path | None = None
) -> Generator[Callable[[Path, str], None]]:
    """A writer whose writes, however many, are one change set: one `revert` takes them all back.

    Example:
        ```python
        with journaled_writes(root, "lint --fix") as write:
            write(root / ".cursor/rules/a.mdc", text_a)
            write(root / ".cursor/rules/b.mdc", text_b)
        revert_last(root)  # both files as they were
        ```

    The writer raises `RuleEngineUsageError` for a path outside the root and `RuleWriteError` when a file cannot
    be written (that file is then left as it was).
    """
    with ChangeSet(root, purpose, state_dir=state_dir) as change:

        def write(path: Path, text: str) -> None:
            try:
                change.write(path, text)
            except UsageError as exc:
                raise RuleEngineUsageError(exc.message, hint=exc.hint) from exc
            except OperationError as exc:
                raise RuleWriteError(str(exc)) from exc

        yield write


def revert_last(root: Path, *, state_dir: Path | None = None) -> list[str]:
    """Take back the last change set under `root` that is not taken back yet; the files it restored or removed.

    Raises:
        RuleEngineUsageError: When there is nothing to take back, or a file was edited since the change.
    """
    try:
        report = undo_last(root, state_dir=state_dir)
    except UsageError as exc:
        raise RuleEngineUsageError(exc.message.replace("nothing to undo", "nothing to revert"), hint=exc.hint) from exc
    taken_back = {*report.restored, *report.removed}
    return list(dict.fromkeys(item.path for item in report.change.files if item.path in taken_back))
