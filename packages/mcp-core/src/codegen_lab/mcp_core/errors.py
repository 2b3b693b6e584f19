"""Errors of Codegen Lab, and the one function that turns any exception into an MCP answer.

The hierarchy splits "you used it wrong" from "it failed while running":

```
CodegenLabError                 base of every error Codegen Lab raises on purpose
├── UsageError                  the caller's fault: a bad argument, path or option; carries a hint to fix it
│   └── SettingsError           a bad setting, naming each field and where its value came from
├── OperationError              a failure while doing the work (a subprocess died, a file could not be read)
└── ToolkitError                a toolkit could not be loaded or composed
    └── DuplicateNameError      two toolkits declare the same tool, prompt or resource
```

`map_exception` is the only place where exceptions become MCP results: a `UsageError` (or arguments that do
not fit a tool's schema) reaches the model with a message that says how to fix the call; any other
`CodegenLabError` reaches it with its message; anything else is logged with its traceback under an incident
id, and the model gets a short message carrying only that id.
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING, Any, Literal

import mcp_types
from mcp.server.mcpserver.exceptions import ResourceError, ToolError, UnexpectedResourceError, UnexpectedToolError
from mcp.shared.exceptions import MCPError
from pydantic import ValidationError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pydantic_core import ErrorDetails

__all__ = [
    "CodegenLabError",
    "DuplicateNameError",
    "OperationError",
    "SettingsError",
    "ToolkitError",
    "UsageError",
    "map_exception",
]

logger = logging.getLogger(__name__)


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


def map_exception(exc: BaseException, *, kind: Literal["tool", "resource", "prompt"], name: str) -> Exception:
    """Turn an exception raised while serving an MCP request into what the SDK should see.

    This is the single place where Codegen Lab decides what a client learns about a failure.

    Args:
        exc: What was raised (for a tool call, the SDK's own wrapper is unwrapped to its cause).
        kind: What was being served: a tool call, a resource read or a prompt.
        name: The tool or prompt name, or the resource URI.

    Returns:
        For a tool, a `ToolError` (the SDK answers it with an `isError` result that carries the message); for a
        resource or a prompt, an `MCPError` (answered as a JSON-RPC error). An `MCPError` passes through as is.
    """
    # The SDK wraps what a tool or resource raised in its own error; the original is the cause.
    wrapped = isinstance(exc, ToolError | ResourceError) and exc.__cause__ is not None
    cause = exc.__cause__ if wrapped and exc.__cause__ is not None else exc
    if isinstance(cause, MCPError):
        return cause

    caller_fault = True
    anticipated = (ToolError, ResourceError)
    crashed = (UnexpectedToolError, UnexpectedResourceError)
    if kind == "tool" and isinstance(cause, ValidationError) and wrapped and not isinstance(exc, crashed):
        # The SDK validated the arguments against the tool's schema and they did not fit.
        message = _describe_bad_arguments(name, cause.errors())
    elif isinstance(cause, UsageError):
        message = str(cause)
    elif isinstance(cause, CodegenLabError):
        message = str(cause)
        caller_fault = False
    elif isinstance(cause, anticipated) and not isinstance(cause, crashed):
        # The SDK's own anticipated errors (an unknown tool, a resource that is not there) or one a tool raised.
        message = str(cause)
    else:
        incident = secrets.token_hex(4)
        logger.error("%s %r failed unexpectedly (incident %s)", kind, name, incident, exc_info=cause)
        message = f"internal error in {kind} {name!r} (incident {incident}); the server log has the details"
        caller_fault = False

    if kind == "tool":
        return ToolError(message)
    code = mcp_types.INVALID_PARAMS if caller_fault else mcp_types.INTERNAL_ERROR
    return MCPError(code=code, message=message, data={kind: name})


def _describe_bad_arguments(tool: str, errors: Sequence[ErrorDetails]) -> str:
    lines: list[str] = []
    for error in errors:
        where = ".".join(str(part) for part in error["loc"]) or "(arguments)"
        if error["type"] == "missing":
            lines.append(f"`{where}` is required but missing")
        elif error["type"] == "extra_forbidden":
            lines.append(f"`{where}` is not a parameter of this tool")
        else:
            lines.append(f"`{where}`: {error['msg']} (got {_short(error.get('input'))})")
    listed = "; ".join(lines)
    return f"invalid arguments for tool {tool!r}: {listed}. Check the tool's input schema and call it again"


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."
