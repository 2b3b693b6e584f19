"""The server foundation of Codegen Lab: toolkits composed into one MCP server on the official `mcp` SDK.

A library adds tools to the server by shipping a `Toolkit` under the entry-point group `codegen_lab.toolkits`;
`discover_toolkits` finds the installed ones and `build_server` composes them, after the built-in `server`
toolkit, into one `MCPServer`.

The errors and the settings it uses live in `codegen_lab.common`, which imports no MCP code. Names here are
imported when first used.
"""

from typing import TYPE_CHECKING

from codegen_lab.common.exports import lazy_exports as _lazy_exports

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context
    from mcp_types import ToolAnnotations

    from codegen_lab.mcp_core._builtin import ServerInfo, ToolkitInfo
    from codegen_lab.mcp_core._compose import build_server
    from codegen_lab.mcp_core._context import LoopCompleter, ServerContext
    from codegen_lab.mcp_core._discovery import (
        BUILTIN_TOOLKIT,
        ENTRY_POINT_GROUP,
        ToolkitFactory,
        discover_toolkits,
        installed_toolkits,
    )
    from codegen_lab.mcp_core._http import BearerAuth, http_app, load_tokens, serve_http
    from codegen_lab.mcp_core._mapping import map_exception
    from codegen_lab.mcp_core._ratelimit import RateLimits
    from codegen_lab.mcp_core._sampling import SamplingBackend, sampling_backend
    from codegen_lab.mcp_core._stdio import check_message, serve_stdio
    from codegen_lab.mcp_core._toolkit import PromptSpec, ResourceSpec, Toolkit, ToolSpec

__version__: str
"""The installed version of codegen-lab-mcp-core, read from its metadata when first asked for."""

__all__ = [
    "BUILTIN_TOOLKIT",
    "ENTRY_POINT_GROUP",
    "BearerAuth",
    "Context",
    "LoopCompleter",
    "PromptSpec",
    "RateLimits",
    "ResourceSpec",
    "SamplingBackend",
    "ServerContext",
    "ServerInfo",
    "ToolAnnotations",
    "ToolSpec",
    "Toolkit",
    "ToolkitFactory",
    "ToolkitInfo",
    "__version__",
    "build_server",
    "check_message",
    "discover_toolkits",
    "http_app",
    "installed_toolkits",
    "load_tokens",
    "map_exception",
    "sampling_backend",
    "serve_http",
    "serve_stdio",
]

_HOMES = {
    "Context": "mcp.server.mcpserver",
    "ToolAnnotations": "mcp_types",
    "ServerInfo": "codegen_lab.mcp_core._builtin",
    "ToolkitInfo": "codegen_lab.mcp_core._builtin",
    "build_server": "codegen_lab.mcp_core._compose",
    "LoopCompleter": "codegen_lab.mcp_core._context",
    "ServerContext": "codegen_lab.mcp_core._context",
    "BearerAuth": "codegen_lab.mcp_core._http",
    "http_app": "codegen_lab.mcp_core._http",
    "load_tokens": "codegen_lab.mcp_core._http",
    "serve_http": "codegen_lab.mcp_core._http",
    "BUILTIN_TOOLKIT": "codegen_lab.mcp_core._discovery",
    "ENTRY_POINT_GROUP": "codegen_lab.mcp_core._discovery",
    "ToolkitFactory": "codegen_lab.mcp_core._discovery",
    "discover_toolkits": "codegen_lab.mcp_core._discovery",
    "installed_toolkits": "codegen_lab.mcp_core._discovery",
    "map_exception": "codegen_lab.mcp_core._mapping",
    "RateLimits": "codegen_lab.mcp_core._ratelimit",
    "SamplingBackend": "codegen_lab.mcp_core._sampling",
    "sampling_backend": "codegen_lab.mcp_core._sampling",
    "check_message": "codegen_lab.mcp_core._stdio",
    "serve_stdio": "codegen_lab.mcp_core._stdio",
    "PromptSpec": "codegen_lab.mcp_core._toolkit",
    "ResourceSpec": "codegen_lab.mcp_core._toolkit",
    "ToolSpec": "codegen_lab.mcp_core._toolkit",
    "Toolkit": "codegen_lab.mcp_core._toolkit",
}

__getattr__, __dir__ = _lazy_exports(__name__, "codegen-lab-mcp-core", _HOMES, __all__)
