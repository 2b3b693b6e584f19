"""The server foundation of Codegen Lab: toolkits composed into one MCP server on the official `mcp` SDK.

A library adds tools to the server by shipping a `Toolkit` under the entry-point group `codegen_lab.toolkits`;
`discover_toolkits` finds the installed ones and `build_server` composes them, after the built-in `server`
toolkit, into one `MCPServer`.
"""

from importlib.metadata import version as _version

from mcp.server.mcpserver import Context
from mcp_types import ToolAnnotations

from codegen_lab.mcp_core._builtin import ServerInfo, ToolkitInfo
from codegen_lab.mcp_core._compose import build_server
from codegen_lab.mcp_core._discovery import (
    BUILTIN_TOOLKIT,
    ENTRY_POINT_GROUP,
    ToolkitFactory,
    discover_toolkits,
    installed_toolkits,
)
from codegen_lab.mcp_core._settings import ENV_PREFIX, Settings, load_settings
from codegen_lab.mcp_core._toolkit import PromptSpec, ResourceSpec, Toolkit, ToolSpec
from codegen_lab.mcp_core.errors import (
    CodegenLabError,
    DuplicateNameError,
    OperationError,
    SettingsError,
    ToolkitError,
    UsageError,
    map_exception,
)

__all__ = [
    "BUILTIN_TOOLKIT",
    "ENTRY_POINT_GROUP",
    "ENV_PREFIX",
    "CodegenLabError",
    "Context",
    "DuplicateNameError",
    "OperationError",
    "PromptSpec",
    "ResourceSpec",
    "ServerInfo",
    "Settings",
    "SettingsError",
    "ToolAnnotations",
    "ToolSpec",
    "Toolkit",
    "ToolkitError",
    "ToolkitFactory",
    "ToolkitInfo",
    "UsageError",
    "__version__",
    "build_server",
    "discover_toolkits",
    "installed_toolkits",
    "load_settings",
    "map_exception",
]

__version__ = _version("codegen-lab-mcp-core")
