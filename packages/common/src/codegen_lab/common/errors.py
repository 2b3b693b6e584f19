"""Errors of Codegen Lab: one hierarchy that splits the caller's mistakes from failures while working.

The hierarchy splits "you used it wrong" from "it failed while running":

```
CodegenLabError                 base of every error Codegen Lab raises on purpose
├── UsageError                  the caller's fault: a bad argument, path or option; carries a hint to fix it
│   └── SettingsError           a bad setting, naming each field and where its value came from
├── OperationError              a failure while doing the work (a subprocess died, a file could not be read)
│   ├── LLMUnavailableError     no LLM backend answered (none configured, outage, rate limit, deadline)
│   └── RateLimitError          a tool's class reached its rate limit (setting rate-limits); retry later
└── ToolkitError                a toolkit could not be loaded or composed
    └── DuplicateNameError      two toolkits declare the same tool, prompt or resource
```

This module imports nothing but the standard library, so that a library's core can raise these errors without
importing the MCP SDK. `codegen_lab.mcp_core.map_exception` turns them into MCP answers.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "CodegenLabError",
    "DuplicateNameError",
    "LLMUnavailableError",
    "OperationError",
    "RateLimitError",
    "SettingsError",
    "ToolkitError",
    "UsageError",
]


class CodegenLabError(Exception):
    """Base of every error Codegen Lab raises on purpose."""


class UsageError(CodegenLabError, ValueError):
    """The caller used something wrongly: an argument, a path, an option.

    Args:
        message: What is wrong, naming the argument, field or file it is about.
        hint: How to fix the call, when the message alone does not say.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if self.hint is None else f"{self.message}. {self.hint}"


class SettingsError(UsageError):
    """One or more settings are invalid.

    Args:
        problems: One line per bad field: the field, the value, where it came from, and what is wrong.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"invalid codegen-lab settings:\n{lines}")


class OperationError(CodegenLabError, RuntimeError):
    """The work itself failed: the caller's request was fine, but running it was not."""


class LLMUnavailableError(OperationError):
    """No LLM backend could answer; the message says why for each one tried, and never holds a key."""

    def __init__(self, message: str) -> None:
        super().__init__(message if message.startswith("LLM unavailable") else f"LLM unavailable: {message}")


class ToolkitError(CodegenLabError):
    """A toolkit could not be declared, loaded or composed into the server."""


class DuplicateNameError(ToolkitError):
    """Two toolkits declare a tool, prompt or resource under the same name.

    Args:
        kind: `"tool"`, `"prompt"`, `"resource"` or `"toolkit"`.
        name: The name (or URI) both declare.
        first: The toolkit that declared it first (with its package, when known).
        second: The toolkit that declared it again.
    """

    def __init__(self, kind: str, name: str, first: str, second: str) -> None:
        self.kind = kind
        self.name = name
        self.first = first
        self.second = second
        super().__init__(
            f"{kind} {name!r} is declared by both toolkit {first} and toolkit {second}; "
            f"exclude one of them (setting `exclude`, or CODEGEN_LAB_EXCLUDE) or rename the {kind}"
        )


class RateLimitError(OperationError):
    """A tool was called more often than the rate limit of its class allows.

    Args:
        tool: The tool called.
        rate_class: Its class, such as `tests`.
        limit: The class's limit, such as `10/minute`.
        retry_after: Seconds until a call of the class fits again.
        setting: The setting that holds the limit (`rate-limits`, or `client-rate-limits` for one client's).
    """

    def __init__(
        self, *, tool: str, rate_class: str, limit: str, retry_after: float, setting: str = "rate-limits"
    ) -> None:
        self.tool = tool
        self.rate_class = rate_class
        self.limit = limit
        self.retry_after = retry_after
        self.setting = setting
        super().__init__(
            f"rate limit reached: {tool!r} is in the tool class {rate_class!r}, limited to {limit} (setting "
            f"{setting}); retry in {max(math.ceil(retry_after * 10) / 10, 0.1):.1f} s"
        )
