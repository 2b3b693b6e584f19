"""Errors of uvtools, on the Codegen Lab hierarchy of `codegen_lab.common.errors`.

```
CodegenLabError
├── UsageError                      the caller's fault (mcp-core)
│   ├── WorkspaceError              no workspace, or a pyproject.toml that is not what uv accepts (names the file)
│   ├── LockFileError               a uv.lock that cannot be read: bad TOML, unsupported version (names the file)
│   └── CycleError                  members depend on each other in a cycle (carries the cycle)
└── OperationError                  a failure while working (mcp-core)
    └── CommandError                uv or git exited with an error (carries the command and its output)
```

This module imports only the standard library and mcp-core's errors, never the MCP SDK.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from codegen_lab.common.errors import OperationError, UsageError

__all__ = ["CommandError", "CycleError", "LockFileError", "WorkspaceError"]


class WorkspaceError(UsageError):
    """The workspace cannot be found or one of its pyproject.toml files is invalid.

    Args:
        message: What is wrong.
        path: The file or folder it is about.
        hint: How to fix it.
    """

    def __init__(self, message: str, *, path: Path | None = None, hint: str | None = None) -> None:
        super().__init__(f"{path}: {message}" if path is not None else message, hint=hint)
        self.path = path


class LockFileError(UsageError):
    """A `uv.lock` cannot be read: not TOML, or a lock version or revision this reader does not know.

    Args:
        message: What is wrong, naming the field.
        path: The lock file (or `REF:uv.lock` for one read from git).
    """

    def __init__(self, message: str, *, path: str, hint: str | None = None) -> None:
        super().__init__(f"{path}: {message}", hint=hint)
        self.path = path


class CycleError(UsageError):
    """Members depend on each other in a cycle, so there is no dependency-first order.

    Args:
        cycle: The members of the cycle, the first repeated at the end: `("a", "b", "a")`.
    """

    def __init__(self, cycle: Sequence[str]) -> None:
        self.cycle = tuple(cycle)
        super().__init__(
            f"workspace members depend on each other in a cycle: {' -> '.join(self.cycle)}",
            hint="Remove one of these dependencies (a dependency group may hold a test-only one)",
        )


class CommandError(OperationError):
    """A uv or git command exited with an error.

    Args:
        command: The arguments it ran with.
        returncode: Its exit status.
        output: What it wrote to stderr (else stdout), for the message.
    """

    def __init__(self, command: Sequence[str], returncode: int, output: str) -> None:
        self.command = tuple(command)
        self.returncode = returncode
        self.output = output
        shown = " ".join([Path(self.command[0]).name, *self.command[1:]]) if self.command else ""
        detail = output.strip()
        super().__init__(f"`{shown}` exited with status {returncode}" + (f": {detail}" if detail else ""))
