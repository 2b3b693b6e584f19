"""Wiring: settings, logging, the installed toolkits and the composed server."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from codegen_lab.mcp_core import build_server, discover_toolkits

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from codegen_lab.mcp_core import Settings

__all__ = ["APP_PACKAGE", "configure_logging", "create_server"]

APP_PACKAGE = "codegen-lab-server"
_LOG_FORMAT = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"


def configure_logging(level: str) -> None:
    """Send every log record to stderr: stdout belongs to the MCP stdio transport.

    This is the only place in Codegen Lab that configures logging; libraries only log.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(_LOG_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)


def create_server(settings: Settings) -> MCPServer:
    """The MCP server of every installed toolkit that the settings let load, after the built-in `server` one.

    Raises:
        SettingsError: When `include` or `exclude` names a toolkit that is not installed.
        UsageError: When `anthropic-key-file` is set but cannot be read.
        ToolkitError: When a toolkit fails to load or two declare the same name.
    """
    from codegen_lab.mcp_core.llm import LLMService  # noqa: PLC0415

    llm = LLMService.from_settings(settings)
    return build_server(settings, discover_toolkits(settings), packages=[APP_PACKAGE], llm=llm)
