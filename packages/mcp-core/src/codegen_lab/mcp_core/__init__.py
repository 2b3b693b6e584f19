"""The server foundation of Codegen Lab: toolkits composed into one MCP server on the official `mcp` SDK.

A library adds tools to the server by shipping a `Toolkit` under the entry-point group `codegen_lab.toolkits`;
`discover_toolkits` finds the installed ones and `build_server` composes them, after the built-in `server`
toolkit, into one `MCPServer`.

The errors and the settings it uses live in `codegen_lab.common`, which imports no MCP code. Names here are
imported when first used.
"""

from typing import TYPE_CHECKING

from codegen_lab.common.exports import declared_exports as _declared_exports

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context as Context
    from mcp_types import ToolAnnotations as ToolAnnotations

    from codegen_lab.mcp_core._builtin import INFO_URI as INFO_URI, ServerInfo as ServerInfo, ToolkitInfo as ToolkitInfo
    from codegen_lab.mcp_core._compose import build_server as build_server, close_server as close_server
    from codegen_lab.mcp_core._context import LoopCompleter as LoopCompleter, ServerContext as ServerContext
    from codegen_lab.mcp_core._discovery import (
        BUILTIN_TOOLKIT as BUILTIN_TOOLKIT,
        ENTRY_POINT_GROUP as ENTRY_POINT_GROUP,
        ToolkitFactory as ToolkitFactory,
        discover_toolkits as discover_toolkits,
        installed_toolkits as installed_toolkits,
    )
    from codegen_lab.mcp_core._http import (
        BearerAuth as BearerAuth,
        http_app as http_app,
        load_tokens as load_tokens,
        serve_http as serve_http,
    )
    from codegen_lab.mcp_core._mapping import map_exception as map_exception
    from codegen_lab.mcp_core._ratelimit import RateLimits as RateLimits
    from codegen_lab.mcp_core._sampling import SamplingBackend as SamplingBackend, sampling_backend as sampling_backend
    from codegen_lab.mcp_core._stdio import check_message as check_message, serve_stdio as serve_stdio
    from codegen_lab.mcp_core._toolkit import (
        PromptSpec as PromptSpec,
        ResourceSpec as ResourceSpec,
        Toolkit as Toolkit,
        ToolSpec as ToolSpec,
    )

__version__: str
"""The installed version of codegen-lab-mcp-core, read from its metadata when first asked for."""


__getattr__, __dir__ = _declared_exports(__name__, "codegen-lab-mcp-core")
