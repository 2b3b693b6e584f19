"""Composition of toolkits into one `MCPServer`."""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.tools import Tool

from codegen_lab.mcp_core._builtin import ServerInfoReport, server_toolkit
from codegen_lab.mcp_core._discovery import BUILTIN_TOOLKIT
from codegen_lab.mcp_core._mapping import map_exception
from codegen_lab.mcp_core.errors import DuplicateNameError

if TYPE_CHECKING:
    from mcp.server.context import LifespanContextT, RequestT
    from mcp.server.mcpserver import Context

    from codegen_lab.mcp_core._settings import Settings
    from codegen_lab.mcp_core._toolkit import Toolkit
    from codegen_lab.mcp_core.llm import LLMService

__all__ = ["build_server"]

SERVER_NAME = "codegen-lab"


class _MappedTool(Tool):
    """A tool whose every failure, argument validation included, goes through `map_exception`."""

    async def run(
        self, arguments: dict[str, Any], context: Context[LifespanContextT, RequestT], convert_result: bool = False
    ) -> Any:
        try:
            return await super().run(arguments, context, convert_result)
        except Exception as exc:
            raise map_exception(exc, kind="tool", name=self.name) from None


def build_server(
    settings: Settings,
    toolkits: Sequence[Toolkit],
    *,
    name: str = SERVER_NAME,
    version: str | None = None,
    packages: Iterable[str] = (),
    llm: LLMService | None = None,
) -> MCPServer:
    """Compose the toolkits, after the built-in `server` toolkit, into one MCP server.

    Args:
        settings: The server's settings.
        toolkits: The toolkits to serve, usually from `discover_toolkits(settings)`.
        name: The server's name, as clients see it.
        version: The server's version, as clients see it (default: this package's).
        packages: More distributions whose versions `server_info` reports, such as the application's own.
        llm: The LLM service whose usage `server_info` reports.

    Returns:
        The composed server, not yet running.

    Raises:
        DuplicateNameError: When two toolkits declare the same toolkit name, tool, prompt or resource; the
            message names both toolkits.
    """
    started = time.monotonic()
    report = ServerInfoReport(settings=settings, started=started, packages=tuple(packages), server_name=name, llm=llm)
    all_toolkits = [server_toolkit(report), *toolkits]
    report.toolkits = tuple(all_toolkits)
    _check_unique(all_toolkits)

    tools = [
        _MappedTool.from_function(
            spec.fn,
            name=spec.name,
            title=spec.title,
            description=spec.description,
            annotations=spec.annotations,
            structured_output=spec.structured_output,
        )
        for toolkit in all_toolkits
        for spec in toolkit.tools
    ]
    instructions = "\n\n".join(
        f"{toolkit.name}: {toolkit.instructions}" for toolkit in all_toolkits if toolkit.instructions
    )
    server: MCPServer = MCPServer(
        name=name,
        version=version or report.own_version(),
        instructions=instructions or None,
        tools=tools,
        log_level=settings.log_level,
        warn_on_duplicate_tools=False,
        warn_on_duplicate_resources=False,
        warn_on_duplicate_prompts=False,
    )
    for toolkit in all_toolkits:
        for resource in toolkit.resources:
            server.resource(
                resource.uri,
                name=resource.name,
                title=resource.title,
                description=resource.description,
                mime_type=resource.mime_type,
            )(_guarded(resource.fn, "resource", resource.uri))
        for prompt in toolkit.prompts:
            server.prompt(prompt.name, title=prompt.title, description=prompt.description)(
                _guarded(prompt.fn, "prompt", prompt.name)
            )
    return server


def _check_unique(toolkits: Sequence[Toolkit]) -> None:
    owners: dict[tuple[str, str], Toolkit] = {}
    for toolkit in toolkits:
        names: list[tuple[str, str]] = [("toolkit", toolkit.name)]
        names += [("tool", tool.name) for tool in toolkit.tools]
        names += [("prompt", prompt.name) for prompt in toolkit.prompts]
        names += [("resource", resource.uri) for resource in toolkit.resources]
        for key in names:
            first = owners.setdefault(key, toolkit)
            if first is not toolkit:
                first_label = "'server' (built in)" if first.name == BUILTIN_TOOLKIT else first.label
                raise DuplicateNameError(key[0], key[1], first_label, toolkit.label)


def _guarded(fn: Callable[..., Any], kind: Literal["resource", "prompt"], name: str) -> Callable[..., Any]:
    """`fn`, with its failures mapped by `map_exception`; the signature the SDK inspects stays the same."""
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def guarded_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except Exception as exc:
                raise map_exception(exc, kind=kind, name=name) from None

        return guarded_async

    @functools.wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise map_exception(exc, kind=kind, name=name) from None

    return guarded
