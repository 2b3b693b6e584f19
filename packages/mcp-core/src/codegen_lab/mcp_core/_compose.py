"""Composition of toolkits into one `MCPServer`."""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.prompts.base import Prompt, PromptArgument
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import func_metadata
from mcp_types import CallToolResult, NotificationParams
from pydantic import ConfigDict, PrivateAttr, validate_call

from codegen_lab.common._folders import default_cache_dir
from codegen_lab.common.errors import DuplicateNameError, RateLimitError
from codegen_lab.common.secrets import known_secrets, may_hold_secret, refresh_secrets, scrub
from codegen_lab.llm import spending
from codegen_lab.mcp_core._audit import AuditLog
from codegen_lab.mcp_core._builtin import ServerInfoReport, server_toolkit
from codegen_lab.mcp_core._discovery import BUILTIN_TOOLKIT
from codegen_lab.mcp_core._mapping import map_exception
from codegen_lab.mcp_core._ratelimit import RateLimits, caller_of
from codegen_lab.mcp_core._roots import ClientRoots, check_arguments
from codegen_lab.mcp_core._schemas import SchemaCache
from codegen_lab.mcp_core._telemetry import ServerTelemetry, attach_telemetry

if TYPE_CHECKING:
    from mcp.server.context import LifespanContextT, RequestT
    from mcp.server.mcpserver import Context

    from codegen_lab.common._settings import Settings
    from codegen_lab.llm import LLMService, RedisLink
    from codegen_lab.mcp_core._toolkit import PromptSpec, Toolkit, ToolSpec

__all__ = ["build_server"]

SERVER_NAME = "codegen-lab"


class _MappedTool(Tool):
    """A tool whose every failure goes through `map_exception` and whose every call goes into the audit log.

    Argument validation failures included: the SDK validates inside `run`.
    """

    model_config = ConfigDict(defer_build=True)  # a tool from the schema cache never validates itself

    _audit: AuditLog | None = PrivateAttr(default=None)
    _structured_output: bool | None = PrivateAttr(default=None)
    _needs_metadata: bool = PrivateAttr(default=False)
    _spec: ToolSpec | None = PrivateAttr(default=None)
    _roots: ClientRoots | None = PrivateAttr(default=None)
    _limits: RateLimits | None = PrivateAttr(default=None)
    _rate_class: str | None = PrivateAttr(default=None)
    _telemetry: ServerTelemetry | None = PrivateAttr(default=None)

    @classmethod
    def from_spec(cls, spec: ToolSpec, schemas: SchemaCache, roots: ClientRoots) -> _MappedTool:
        """The tool of `spec`, checking its path and revision arguments against `roots` before it runs.

        Its schemas come from `schemas` when an earlier start built them (and the tool builds its argument model
        on its first call), else they are built and kept there.
        """
        tool = cls._from_spec(spec, schemas)
        tool._spec, tool._roots = spec, roots
        return tool

    @classmethod
    def _from_spec(cls, spec: ToolSpec, schemas: SchemaCache) -> _MappedTool:
        fields = schemas.get(spec)
        if fields is None:
            _import_deferred_names(spec.fn)
            built = cls.from_function(
                spec.fn,
                name=spec.name,
                title=spec.title,
                description=spec.description,
                annotations=spec.annotations,
                structured_output=spec.structured_output,
            )
            schemas.put(spec, built)
            return cast("_MappedTool", built)
        tool = cls.model_construct(**fields, fn_metadata=None)
        vars(tool)["output_schema"] = schemas.output_schema(spec)  # what the SDK's cached_property would compute
        tool._structured_output = spec.structured_output
        tool._needs_metadata = True
        return tool

    def audited_by(self, audit: AuditLog | None) -> _MappedTool:
        """This tool, recording its calls in `audit` (None: no audit)."""
        self._audit = audit
        return self

    def limited_by(self, limits: RateLimits, rate_class: str | None) -> _MappedTool:
        """This tool, its calls counted against the limit of `rate_class` in `limits` (None: not limited)."""
        self._limits = limits
        self._rate_class = rate_class
        return self

    def counted_by(self, telemetry: ServerTelemetry) -> _MappedTool:
        """This tool, its calls counted in `telemetry` (outcome, duration, refusals)."""
        self._telemetry = telemetry
        return self

    async def run(
        self, arguments: dict[str, Any], context: Context[LifespanContextT, RequestT], convert_result: bool = False
    ) -> Any:
        started = time.perf_counter()
        outcome = "ok"
        private: dict[str, Any] = self.__pydantic_private__ or {}  # one lookup: private attributes are slow to read
        if private["_needs_metadata"]:
            skip = [self.context_kwarg] if self.context_kwarg is not None else []
            _import_deferred_names(self.fn)
            self.fn_metadata = func_metadata(self.fn, skip_names=skip, structured_output=private["_structured_output"])
            private["_needs_metadata"] = False
        roots: ClientRoots | None = private["_roots"]
        spec: ToolSpec | None = private["_spec"]
        limits: RateLimits | None = private["_limits"]
        audit: AuditLog | None = private["_audit"]
        error_type = ""
        with spending() as spent:  # the LLM calls this call makes, for the audit log
            try:
                if roots is not None and spec is not None:
                    await check_arguments(roots, context, arguments, spec)
                if limits is not None:  # after the checks: a refused call runs nothing and costs nothing
                    await limits.acheck(private["_rate_class"], self.name, caller_of(context))
                result = _scrubbed(await super().run(arguments, context, convert_result))
                if getattr(result, "is_error", False):
                    outcome = "error result"
                return result
            except Exception as exc:
                mapped = map_exception(exc, kind="tool", name=self.name)
                outcome = f"error: {mapped}"[:300]
                error_type = _error_type(exc)
                raise mapped from None
            finally:
                telemetry: ServerTelemetry | None = private["_telemetry"]
                if telemetry is not None:
                    _count(
                        telemetry, self.name, private["_rate_class"], time.perf_counter() - started, outcome, error_type
                    )
                if audit is not None:
                    audit.record(
                        tool=self.name,
                        client=_client_name(context),
                        arguments=arguments,
                        outcome=outcome,
                        duration=time.perf_counter() - started,
                        llm_calls=spent.calls,
                        cost_usd=round(spent.cost_usd, 6) if spent.calls and spent.priced else None,
                    )


def _error_type(exc: Exception) -> str:
    """The class name of what failed: the cause of the SDK's wrapper, else the exception itself."""
    cause = exc.__cause__ if isinstance(exc, ToolError) and exc.__cause__ is not None else exc
    return type(cause).__name__


def _count(
    telemetry: ServerTelemetry, tool: str, rate_class: str | None, seconds: float, outcome: str, error: str
) -> None:
    """Count one call in `telemetry`: its outcome and duration, a refusal by its class's limit, an incident."""
    if error == RateLimitError.__name__:
        telemetry.record_refusal(rate_class or "")
        kind = "refused"
    else:
        kind = "ok" if outcome == "ok" else "error"
        if "(incident " in outcome:
            telemetry.record_incident()
    telemetry.record_call(tool, seconds, outcome=kind, error_type=error or ("tool_error" if kind == "error" else ""))


def _import_deferred_names(fn: Callable[..., Any]) -> None:
    """Put into `fn`'s module the names its string annotations use that the module imports only when first asked.

    A toolkit module can keep its result types out of the server's start: it imports them under `TYPE_CHECKING`
    and serves them from a module `__getattr__` (PEP 562). The SDK evaluates a tool's annotations in the module's
    namespace, which a module `__getattr__` does not fill, so the names are fetched through it here, just before a
    tool's schemas or argument model are built (at the first start, or on the tool's first call).
    """
    while isinstance(fn, functools.partial):
        fn = fn.func  # pyright: ignore[reportUnknownMemberType]
    fn = inspect.unwrap(fn)
    namespace: dict[str, Any] | None = getattr(fn, "__globals__", None)
    module = sys.modules.get(getattr(fn, "__module__", None) or "")
    if namespace is None or module is None or "__getattr__" not in namespace:
        return
    annotations: dict[str, object] = getattr(fn, "__annotations__", None) or {}
    for annotation in annotations.values():
        if not isinstance(annotation, str):
            continue
        try:
            tree = ast.parse(annotation, mode="eval")
        except SyntaxError:
            continue  # the SDK reports the annotation it cannot read
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id not in namespace and not hasattr(builtins, node.id):
                try:
                    namespace[node.id] = getattr(module, node.id)
                except AttributeError:
                    continue  # the SDK names the annotation it cannot evaluate


def _scrubbed(result: Any) -> Any:
    """`result` without any known secret (an environment variable's key or token, a registered value)."""
    secrets = known_secrets()
    if not secrets or not isinstance(result, CallToolResult):
        return result
    if not may_hold_secret(result.model_dump_json(by_alias=True), secrets):  # the common case, in one pass
        return result
    # each string is scrubbed on its own: in a JSON dump a secret holding `"` or `\` is escaped once more
    dumped = result.model_dump(by_alias=True, mode="json")
    scrubbed = scrub(dumped, secrets)
    return result if scrubbed == dumped else CallToolResult.model_validate(scrubbed)


def _client_name(context: Any) -> str | None:
    """The client's name and version, as it introduced itself, when it did."""
    try:
        params = context.request_context.session.client_params
        info = params.client_info if params is not None else None
    except (AttributeError, LookupError, ValueError):
        return None
    return f"{info.name} {info.version}" if info is not None else None


def build_server(
    settings: Settings,
    toolkits: Sequence[Toolkit],
    *,
    name: str = SERVER_NAME,
    version: str | None = None,
    packages: Iterable[str] = (),
    llm: LLMService | Callable[[], LLMService] | None = None,
    rate_limits: RateLimits | None = None,
    shared: RedisLink | None = None,
) -> MCPServer:
    """Compose the toolkits, after the built-in `server` toolkit, into one MCP server.

    Args:
        settings: The server's settings.
        toolkits: The toolkits to serve, usually from `discover_toolkits(settings)`.
        name: The server's name, as clients see it.
        version: The server's version, as clients see it (default: this package's).
        packages: More distributions whose versions `server_info` reports, such as the application's own.
        llm: The LLM service whose usage `server_info` reports, or a function that gives it when first asked.
        rate_limits: The token buckets of the tool classes (default: fresh ones from `settings.rate_limits` and,
            per client, `settings.client_rate_limits`).
        shared: The Redis the replicas share (setting `redis-url`): the rate limits count there, `/readyz` checks
            it and `server_info` reports its state. Pass the same link to the LLM service.

    Returns:
        The composed server, not yet running.

    Raises:
        DuplicateNameError: When two toolkits declare the same toolkit name, tool, prompt or resource; the
            message names both toolkits.
    """
    started = time.monotonic()
    refresh_secrets()  # the environment as the server starts
    report = ServerInfoReport(
        settings=settings, started=started, packages=tuple(packages), server_name=name, llm=llm, shared=shared
    )
    all_toolkits = [server_toolkit(report), *toolkits]
    report.toolkits = tuple(all_toolkits)
    _check_unique(all_toolkits)

    audit = AuditLog(settings.state_dir_path / "audit.sqlite3") if settings.audit else None
    schemas = SchemaCache.load(settings.cache_dir or default_cache_dir())
    roots = ClientRoots(settings.root)
    limits = rate_limits or RateLimits(settings.rate_limits, per_client=settings.client_rate_limits, shared=shared)
    telemetry = ServerTelemetry(llm=llm)
    if shared is not None:
        telemetry.readiness.append(shared.problem)
    tools: list[Tool] = [
        _MappedTool.from_spec(spec, schemas, roots)
        .audited_by(audit)
        .limited_by(limits, spec.rate_class)
        .counted_by(telemetry)
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
    attach_telemetry(server, telemetry)
    _forget_roots_when_they_change(server, roots)
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
            server.add_prompt(_prompt(prompt, schemas))
    schemas.save()
    return server


def _forget_roots_when_they_change(server: MCPServer, roots: ClientRoots) -> None:
    """Ask clients for their roots again after one sends `notifications/roots/list_changed`."""
    lowlevel = getattr(server, "_lowlevel_server", None)
    if lowlevel is None:  # pragma: no cover - an SDK without it: roots are asked once per connection
        return

    async def changed(context: Any, params: NotificationParams) -> None:
        roots.forget()

    lowlevel.add_notification_handler("notifications/roots/list_changed", NotificationParams, changed)


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


def _prompt(spec: PromptSpec, schemas: SchemaCache) -> Prompt:
    """The SDK prompt of `spec`: its arguments from `schemas` when an earlier start listed them, else built."""
    fn = _guarded(spec.fn, "prompt", spec.name)
    kept = schemas.prompt(spec)
    if kept is None:
        _import_deferred_names(spec.fn)
        built = Prompt.from_function(fn, name=spec.name, title=spec.title, description=spec.description)
        schemas.put_prompt(spec, built)
        return built
    return Prompt.model_construct(
        name=spec.name,
        title=spec.title,
        description=spec.description or fn.__doc__ or "",
        arguments=[PromptArgument.model_construct(**argument) for argument in kept["arguments"]],
        fn=_validated_on_first_call(fn),
        icons=None,
        context_kwarg=kept["context_kwarg"],
    )


def _validated_on_first_call(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` with its arguments validated as `validate_call` does, the validator built on the first call."""
    validated: Callable[..., Any] | None = None

    def validator() -> Callable[..., Any]:
        nonlocal validated
        if validated is None:
            _import_deferred_names(fn)
            validated = validate_call(fn)
        return validated

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def call_async(*args: Any, **kwargs: Any) -> Any:
            return await validator()(*args, **kwargs)

        return call_async

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        return validator()(*args, **kwargs)

    return call


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
