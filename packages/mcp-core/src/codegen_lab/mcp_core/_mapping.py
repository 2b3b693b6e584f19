"""The one function that turns an exception into an MCP answer."""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING, Any, Literal

import mcp_types
from mcp.server.mcpserver.exceptions import ResourceError, ToolError, UnexpectedResourceError, UnexpectedToolError
from mcp.shared.exceptions import MCPError
from pydantic import ValidationError

from codegen_lab.common import tracing
from codegen_lab.common.errors import CodegenLabError, UsageError
from codegen_lab.common.secrets import holds_secret, scrub_text

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pydantic_core import ErrorDetails

__all__ = ["map_exception"]

logger = logging.getLogger(__name__)


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
        if holds_secret(cause.error.message):
            return MCPError(code=cause.error.code, message=scrub_text(cause.error.message))
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
        tracing.event("incident", **{"incident.id": incident, "error.type": type(cause).__name__})
        message = f"internal error in {kind} {name!r} (incident {incident}); the server log has the details"
        caller_fault = False

    message = scrub_text(message)
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
