"""Writing user files safely: through mcp-core's journaled `ChangeSet`, all of them or none."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from codegen_lab.common.errors import OperationError

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from codegen_lab.common.files import ChangeSet

__all__ = ["write_files"]

logger = logging.getLogger(__name__)


def write_files(change: ChangeSet, contents: Mapping[Path, str]) -> None:
    """Write every file of `contents` in `change` (atomically, with backups), or none.

    Raises:
        OperationError: When a file cannot be written; the change set is then rolled back, every file as it was.
    """
    try:
        for path, text in contents.items():
            change.write(path, text)
    except OperationError as exc:
        change.rollback()
        raise OperationError(f"could not write {', '.join(map(str, contents))}; nothing was changed: {exc}") from exc
    logger.info("wrote %s", ", ".join(map(str, contents)))
