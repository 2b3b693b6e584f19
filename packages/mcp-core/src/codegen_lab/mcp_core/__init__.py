"""The server foundation of Codegen Lab: toolkits composed into one MCP server on the official `mcp` SDK.

A library adds tools to the server by shipping a `Toolkit` under the entry-point group `codegen_lab.toolkits`;
`discover_toolkits` finds the installed ones and `build_server` composes them, after the built-in `server`
toolkit, into one `MCPServer`.

Names are imported when first used, so that `codegen_lab.mcp_core.errors` (and `Settings`) can be used by a
library's core without importing the MCP SDK.
"""

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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
    from codegen_lab.mcp_core._mapping import map_exception
    from codegen_lab.mcp_core._settings import ENV_PREFIX, Settings, load_settings
    from codegen_lab.mcp_core._toolkit import PromptSpec, ResourceSpec, Toolkit, ToolSpec
    from codegen_lab.mcp_core.errors import (
        CodegenLabError,
        DuplicateNameError,
        LLMUnavailableError,
        OperationError,
        SettingsError,
        ToolkitError,
        UsageError,
    )

__version__: str
"""The installed version of codegen-lab-mcp-core, read from its metadata when first asked for."""

__all__ = [
    "BUILTIN_TOOLKIT",
    "ENTRY_POINT_GROUP",
    "ENV_PREFIX",
    "CodegenLabError",
    "Context",
    "DuplicateNameError",
    "LLMUnavailableError",
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

_HOMES = {
    "Context": "mcp.server.mcpserver",
    "ToolAnnotations": "mcp_types",
    "ServerInfo": "codegen_lab.mcp_core._builtin",
    "ToolkitInfo": "codegen_lab.mcp_core._builtin",
    "build_server": "codegen_lab.mcp_core._compose",
    "BUILTIN_TOOLKIT": "codegen_lab.mcp_core._discovery",
    "ENTRY_POINT_GROUP": "codegen_lab.mcp_core._discovery",
    "ToolkitFactory": "codegen_lab.mcp_core._discovery",
    "discover_toolkits": "codegen_lab.mcp_core._discovery",
    "installed_toolkits": "codegen_lab.mcp_core._discovery",
    "map_exception": "codegen_lab.mcp_core._mapping",
    "ENV_PREFIX": "codegen_lab.mcp_core._settings",
    "Settings": "codegen_lab.mcp_core._settings",
    "load_settings": "codegen_lab.mcp_core._settings",
    "PromptSpec": "codegen_lab.mcp_core._toolkit",
    "ResourceSpec": "codegen_lab.mcp_core._toolkit",
    "ToolSpec": "codegen_lab.mcp_core._toolkit",
    "Toolkit": "codegen_lab.mcp_core._toolkit",
    "CodegenLabError": "codegen_lab.mcp_core.errors",
    "DuplicateNameError": "codegen_lab.mcp_core.errors",
    "LLMUnavailableError": "codegen_lab.mcp_core.errors",
    "OperationError": "codegen_lab.mcp_core.errors",
    "SettingsError": "codegen_lab.mcp_core.errors",
    "ToolkitError": "codegen_lab.mcp_core.errors",
    "UsageError": "codegen_lab.mcp_core.errors",
}


def __getattr__(name: str) -> object:
    if name == "__version__":
        from importlib.metadata import version  # noqa: PLC0415

        value: object = version("codegen-lab-mcp-core")
    elif name in _HOMES:
        value = getattr(import_module(_HOMES[name]), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
