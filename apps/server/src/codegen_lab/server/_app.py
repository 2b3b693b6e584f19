"""Wiring: settings, logging, the installed toolkits and the composed server."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from codegen_lab.common.secrets import RedactingFormatter
from codegen_lab.mcp_core import Toolkit, build_server, discover_toolkits

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from codegen_lab.common import Settings
    from codegen_lab.llm import LLMService
    from codegen_lab.mcp_core import RateLimits, ServerContext

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
    handler.setFormatter(RedactingFormatter(_LOG_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)


def create_server(settings: Settings, *, rate_limits: RateLimits | None = None) -> MCPServer:
    """The MCP server of every installed toolkit that the settings let load, after the built-in `server` one.

    Every toolkit factory receives one `ServerContext`: the settings (root, state folder) and the LLM service,
    made on first use. `rate_limits` are the tool classes' buckets (default: fresh ones from the settings); the
    dashboard passes its own to show their state.

    Raises:
        SettingsError: When `include` or `exclude` names a toolkit that is not installed.
        UsageError: When `anthropic-key-file` is set but cannot be read.
        ToolkitError: When a toolkit fails to load or two declare the same name.
    """
    from codegen_lab.llm import anthropic_key, warn_unknown_model  # noqa: PLC0415
    from codegen_lab.mcp_core import ServerContext  # noqa: PLC0415

    # an unreadable key file stops the start, before any tool is served
    if anthropic_key(settings.anthropic_key_file) and "anthropic" in settings.llm_order:
        warn_unknown_model(settings.anthropic_model)  # a typo shows as the server starts, not as a later 404
    llm = deferred_llm(settings)
    context = ServerContext(settings, llm=llm)
    toolkits = [codegen_toolkit(context), *discover_toolkits(settings, context=context)]
    return build_server(settings, toolkits, packages=[APP_PACKAGE], llm=llm, rate_limits=rate_limits)


def deferred_llm(settings: Settings) -> Callable[[], LLMService]:
    """The LLM service of `settings`, made on first use: a server that no tool asks for a model never imports it.

    Every caller runs on the server's event loop, so one service is made.
    """

    @functools.cache
    def service() -> LLMService:
        from codegen_lab.llm import LLMService  # noqa: PLC0415
        from codegen_lab.mcp_core import sampling_backend  # noqa: PLC0415

        return LLMService.from_settings(settings, sampling=sampling_backend)

    return service


def codegen_toolkit(context: ServerContext) -> Toolkit:
    """The `codegen` toolkit (`generate_code`, `review_code`, prompts) over the code loop the server wires."""
    from codegen_lab.codegen.mcp import create_toolkit  # noqa: PLC0415
    from codegen_lab.server._codegen import code_loop  # noqa: PLC0415

    if context.llm is None:
        raise ValueError("the code loop needs the server's model: ServerContext(settings, llm=...)")
    return create_toolkit(code_loop(context.settings, context.llm), package=APP_PACKAGE)
