"""The built-in `server` toolkit: what this server is, what it serves, and for how long it has run."""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Annotated, Any, Literal

from mcp_types import CallToolResult, TextContent, ToolAnnotations
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS
from pydantic import Field
from pydantic_core import to_json

from codegen_lab.common.results import Result
from codegen_lab.llm import LLMUsage
from codegen_lab.mcp_core._toolkit import Toolkit

if TYPE_CHECKING:
    from collections.abc import Callable

    from codegen_lab.common._settings import Settings
    from codegen_lab.llm import LLMService, RedisLink

__all__ = ["ServerInfo", "ToolkitInfo", "server_toolkit"]

OWN_PACKAGE = "codegen-lab-mcp-core"
INFO_URI = "codegen-lab://server/info"


class ToolkitInfo(Result):
    """One loaded toolkit and what it serves."""

    name: str
    """The toolkit's name (its tools' names start with it)."""
    package: str | None
    """The distribution that ships it."""
    version: str | None
    """That distribution's installed version."""
    description: str
    """What the toolkit is for."""
    tools: list[str]
    """Its tools' names."""
    resources: list[str]
    """Its resources' URIs."""
    prompts: list[str]
    """Its prompts' names."""
    rate_class: str | None = None
    """The rate-limit class of its tools, except those in `rate_classes` (the server's `rate_limits` gives each
    class's limit)."""
    rate_classes: dict[str, str | None] = Field(default_factory=dict[str, str | None])
    """The tools whose rate-limit class is not the toolkit's (None: not limited)."""


class ResponseCache(Result):
    """The LLM response cache of this process."""

    path: str
    """The cache's file."""
    hits: int
    """Calls it answered."""
    misses: int
    """Calls it could not answer."""


class RedisStatus(Result):
    """The Redis the replicas share (setting redis-url)."""

    redis: Literal["ok", "degraded"]
    """`ok`, or `degraded` while Redis cannot be reached."""
    url: str
    """Its URL, without a password."""
    reason: str | None
    """Why it is degraded, else None."""
    outages: int
    """How many times it could not be reached so far."""


class SharedLLM(RedisStatus):
    """The LLM figures the replicas share through Redis."""

    usage: str
    """Whose usage the report sums: `every replica's`, or `this replica's` while Redis is down."""
    cache_hits: int
    """Calls the shared response cache answered."""
    cache_misses: int
    """Calls the shared response cache could not answer."""


class LLMReport(Result):
    """The LLM service's usage per tool, its response cache and its breakers."""

    backends: list[str]
    """The backends asked, in order."""
    model: str | None
    """The Anthropic model, when that backend is configured."""
    model_warning: str | None
    """Why the model may not be what was meant, else None."""
    tools: dict[str, LLMUsage]
    """Each tool's usage, by tool name (`(direct)` for calls outside a tool)."""
    totals: LLMUsage
    """The usage of every tool together."""
    cache: ResponseCache | None
    """The response cache, or None when it is off."""
    breakers: dict[str, str]
    """Each backend's circuit breaker: `closed`, `open` or `half-open`."""
    shared: SharedLLM | None = None
    """With Redis, the shared figures and Redis's state; else None."""


class ServerInfo(Result):
    """What `server_info` reports."""

    name: str
    """The server's name, as clients see it."""
    version: str
    """The server's version."""
    packages: dict[str, str]
    """Installed version of each package the server is made of: the SDK, mcp-core, and each toolkit's package."""
    toolkits: list[ToolkitInfo]
    """The loaded toolkits, the built-in `server` first."""
    protocol_versions: list[str]
    """The MCP protocol revisions this server speaks, oldest first."""
    workspace_root: str
    """The folder the tools work in."""
    uptime_seconds: float
    """Seconds since the server started."""
    python: str
    """The Python version the server runs on."""
    llm: LLMReport | None = None
    """LLM usage per tool, the response cache and the breakers, when the server has an LLM service."""
    rate_limits: dict[str, str] = Field(default_factory=dict[str, str])
    """Calls allowed per tool class (setting rate-limits); `off` for none."""
    shared: RedisStatus | None = None
    """The Redis the replicas share (setting redis-url), or None when there is none."""


@dataclass(slots=True)
class ServerInfoReport:
    """Builds `ServerInfo`; the parts that do not change are computed on the first call, not at start-up."""

    settings: Settings
    started: float
    packages: tuple[str, ...]
    server_name: str
    toolkits: tuple[Toolkit, ...] = ()
    llm: LLMService | Callable[[], LLMService] | None = None
    shared: RedisLink | None = None
    _static: ServerInfo | None = field(default=None, init=False)
    _static_json: dict[str, Any] | None = field(default=None, init=False)

    def own_version(self) -> str:
        """The version of the first of `packages` (the application), else of mcp-core."""
        return _version_of(self.packages[0] if self.packages else OWN_PACKAGE) or "0"

    def build(self) -> ServerInfo:
        """The report, with the uptime as of now."""
        if self._static is None:
            self._static = self._build_static()
        return ServerInfo.model_validate({**self._static.model_dump(), **self._changing()})

    async def result(self) -> CallToolResult:
        """The report as a tool result: the unchanging part is serialized once, not on every call.

        With Redis, the LLM usage is every replica's (this one's while Redis is down).
        """
        if self._static_json is None:
            if self._static is None:
                self._static = self._build_static()
            self._static_json = self._static.model_dump(mode="json")
        changing = self._changing(with_llm=self.shared is None)
        if self.shared is not None:
            if self.llm is not None:
                changing["llm"] = await (self.llm() if callable(self.llm) else self.llm).shared_usage_report()
            changing["shared"] = self.shared.status()
        report = {**self._static_json, **changing}
        return CallToolResult(
            content=[TextContent(type="text", text=to_json(report).decode())], structured_content=report
        )

    def _changing(self, *, with_llm: bool = True) -> dict[str, Any]:
        update: dict[str, Any] = {"uptime_seconds": round(time.monotonic() - self.started, 3)}
        if self.shared is not None:
            update["shared"] = self.shared.status()
        if self.llm is not None and with_llm:
            update["llm"] = (self.llm() if callable(self.llm) else self.llm).usage_report()
        return update

    def _build_static(self) -> ServerInfo:
        distributions = ["mcp", OWN_PACKAGE, *self.packages]
        distributions += [toolkit.package for toolkit in self.toolkits if toolkit.package]
        packages = {name: found for name in dict.fromkeys(distributions) if (found := _version_of(name))}
        return ServerInfo(
            name=self.server_name,
            version=self.own_version(),
            packages=packages,
            toolkits=[
                ToolkitInfo(
                    name=toolkit.name,
                    package=toolkit.package,
                    version=packages.get(toolkit.package) if toolkit.package else None,
                    description=toolkit.description,
                    tools=[tool.name for tool in toolkit.tools],
                    resources=[resource.uri for resource in toolkit.resources],
                    prompts=[prompt.name for prompt in toolkit.prompts],
                    rate_class=toolkit.rate_class,
                    rate_classes={
                        tool.name: tool.rate_class for tool in toolkit.tools if tool.rate_class != toolkit.rate_class
                    },
                )
                for toolkit in self.toolkits
            ],
            protocol_versions=[*HANDSHAKE_PROTOCOL_VERSIONS, *MODERN_PROTOCOL_VERSIONS],
            workspace_root=str(self.settings.root),
            uptime_seconds=0.0,
            python=platform.python_version(),
            rate_limits=dict(self.settings.rate_limits),
        )


def _version_of(distribution: str) -> str | None:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def server_toolkit(report: ServerInfoReport) -> Toolkit:
    """The built-in `server` toolkit: the tool `server_info` and the resource `codegen-lab://server/info`."""
    toolkit = Toolkit(
        "server",
        description="What this server is: versions, toolkits and their tools, protocol versions, root, uptime.",
        package=OWN_PACKAGE,
    )

    @toolkit.tool(
        title="Server information",
        annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False),
    )
    async def info() -> Annotated[CallToolResult, ServerInfo]:
        """Report this server: the version of each loaded package, the toolkits and their tools, the MCP protocol versions it serves, the workspace root and the uptime."""  # noqa: E501
        return await report.result()

    @toolkit.resource(INFO_URI, name="server-info", title="Server information", mime_type="application/json")
    async def info_resource() -> str:
        """The same report as the `server_info` tool, as JSON."""
        return to_json((await report.result()).structured_content, indent=2).decode()

    return toolkit
