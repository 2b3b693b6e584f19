"""Composition of toolkits into one `MCPServer`."""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import json
import sys
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.prompts.base import Prompt, PromptArgument
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata, func_metadata
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel, ValidationError, model_validator, validate_call

from codegen_lab.common._folders import default_cache_dir
from codegen_lab.common.errors import DuplicateNameError, RateLimitError
from codegen_lab.common.secrets import known_secrets, may_hold_secret, refresh_secrets, scrub
from codegen_lab.common.tracing import observed
from codegen_lab.llm import spending
from codegen_lab.mcp_core._audit import AuditLog
from codegen_lab.mcp_core._builtin import ServerInfoReport, server_toolkit
from codegen_lab.mcp_core._discovery import BUILTIN_TOOLKIT
from codegen_lab.mcp_core._mapping import map_exception
from codegen_lab.mcp_core._ratelimit import RateLimits, SharedRates, caller_of
from codegen_lab.mcp_core._roots import ClientRoots, check_arguments
from codegen_lab.mcp_core._schemas import SchemaCache, is_async
from codegen_lab.mcp_core._telemetry import ServerTelemetry, attach_telemetry

if TYPE_CHECKING:
    from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

    from codegen_lab.common._settings import Settings
    from codegen_lab.llm import LLMService, RedisLink
    from codegen_lab.mcp_core._toolkit import PromptSpec, Toolkit, ToolSpec

__all__ = ["build_server", "close_server"]

SERVER_NAME = "codegen-lab"

_CLOSERS: weakref.WeakKeyDictionary[MCPServer, list[Callable[[], Awaitable[None]]]] = weakref.WeakKeyDictionary()
"""What `close_server` closes for a server that `build_server` made: its connections to Redis."""

_FAILURES: ContextVar[list[str] | None] = ContextVar("codegen_lab_tool_failures", default=None)
"""The class names of what a tool raised during the call the middleware is serving (a list shared by reference, so
a tool run in a worker thread with a copy of the context still adds to it)."""


class _Unbuilt(ArgModelBase):
    """The argument model of a tool served from the schema cache until its first call builds the real one.

    The composed server's middleware builds it when a `tools/call` request arrives; a call that bypasses the
    protocol (`MCPServer.call_tool` in the same process) is refused with this error instead of running the tool
    with its arguments unchecked.
    """

    @model_validator(mode="before")
    @classmethod
    def _not_built(cls, data: Any) -> Any:
        raise ValueError(
            "the tool's argument model is built on its first call through an MCP session: "
            "call it through a client, such as `mcp.Client(server)`"
        )


@dataclass(slots=True)
class _Served:
    """A composed tool: the SDK's `Tool` and its spec; `built` is False until its argument model is made."""

    tool: Tool
    spec: ToolSpec
    built: bool

    def build(self) -> None:
        """Give a tool served from the schema cache its argument model, on its first call."""
        if self.built:
            return
        _import_deferred_names(self.spec.fn)
        skip = [self.tool.context_kwarg] if self.tool.context_kwarg is not None else []
        self.tool.fn_metadata = func_metadata(
            self.tool.fn, skip_names=skip, structured_output=self.spec.structured_output
        )
        self.built = True

    def bad_arguments(self, arguments: Mapping[str, Any]) -> Exception | None:
        """The SDK's argument validation error for `arguments` (as a `ToolError` with it as cause), or None."""
        try:
            self.tool.fn_metadata.validate_arguments(dict(arguments))
        except ValidationError as exc:
            error = ToolError(str(exc))
            error.__cause__ = exc
            return error
        return None


def _tool(spec: ToolSpec, schemas: SchemaCache) -> _Served:
    """The SDK tool of `spec`, its failures answered as error results by `map_exception`.

    Its schemas come from `schemas` when an earlier start built them (and the tool builds its argument model on
    its first call), else they are built and kept there.
    """
    fn = _guarded(spec.fn, "tool", spec.name)
    kept = schemas.get(spec)
    if kept is None:
        _import_deferred_names(spec.fn)
        built = Tool.from_function(
            fn,
            name=spec.name,
            title=spec.title,
            description=spec.description or spec.fn.__doc__,
            annotations=spec.annotations,
            structured_output=spec.structured_output,
        )
        schemas.put(spec, built)
        return _Served(built, spec, built=True)
    tool = Tool(
        fn=fn,
        name=spec.name,
        title=spec.title,
        description=spec.description or spec.fn.__doc__ or "",
        parameters=kept["parameters"],
        fn_metadata=FuncMetadata(arg_model=_Unbuilt, output_schema=kept["output_schema"]),
        is_async=is_async(spec.fn),
        context_kwarg=kept["context_kwarg"],
        annotations=spec.annotations,
    )
    return _Served(tool, spec, built=False)


@dataclass(slots=True)
class _ToolCalls:
    """The server middleware around every call of a composed tool (`ServerMiddleware`).

    Before the tool runs: its argument model when it came from the schema cache, the check of its path and
    revision arguments against the client's roots, its rate limit. After: an argument validation failure said the
    way `map_exception` says it, secrets scrubbed from the result, the call in the audit log. A client's
    `notifications/roots/list_changed` makes the roots be asked for again.
    """

    tools: dict[str, _Served]
    roots: ClientRoots
    limits: RateLimits
    audit: AuditLog | None
    telemetry: ServerTelemetry

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method == "notifications/roots/list_changed":
            self.roots.forget()
        if ctx.method != "tools/call" or ctx.params is None:
            return await call_next(ctx)
        served = self.tools.get(str(ctx.params.get("name")))
        raw_arguments: object = ctx.params.get("arguments")
        if served is None or not isinstance(raw_arguments, Mapping | None):
            return await call_next(ctx)  # not one of ours, or arguments the SDK refuses itself
        arguments: Mapping[str, Any] = cast("Mapping[str, Any]", raw_arguments or {})
        name = served.spec.name
        started = time.perf_counter()
        outcome = "ok"
        error_type = ""
        with spending() as spent:  # the LLM calls this call makes, for the audit log
            try:
                served.build()
                await check_arguments(self.roots, ctx, arguments, served.spec)
                # after the checks: a refused call runs nothing and costs nothing
                await self.limits.acheck(served.spec.rate_class, name, caller_of(ctx))
                failures: list[str] = []
                reset = _FAILURES.set(failures)
                try:
                    with observed(self.telemetry.observe):  # what the tool's work reports: its sandboxed runs
                        result = await call_next(ctx)
                finally:
                    _FAILURES.reset(reset)
                if _is_error(result):
                    error_type = failures[-1] if failures else "ToolError"
                    bad = served.bad_arguments(arguments)
                    if bad is not None:
                        result = _error_result(map_exception(bad, kind="tool", name=name))
                        error_type = "ValidationError"
                    outcome = f"error: {_text_of(result)}"[:300]
                return _scrubbed(result)
            except MCPError as exc:
                outcome = f"error: {exc}"[:300]
                error_type = type(exc).__name__
                raise
            except Exception as exc:
                mapped = map_exception(exc, kind="tool", name=name)
                outcome = f"error: {mapped}"[:300]
                error_type = _error_type(exc)
                if isinstance(mapped, MCPError):
                    raise mapped from None
                return _error_result(mapped)
            finally:
                _count(self.telemetry, name, served.spec.rate_class, time.perf_counter() - started, outcome, error_type)
                if self.audit is not None:
                    self.audit.record(
                        tool=name,
                        client=_client_name(ctx),
                        arguments=dict(arguments),
                        outcome=outcome,
                        duration=time.perf_counter() - started,
                        llm_calls=spent.answered,
                        cost_usd=round(spent.cost_usd, 6) if spent.answered and not spent.unpriced else None,
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


def _error_result(error: Exception) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=str(error))], is_error=True)


def _is_error(result: HandlerResult) -> bool:
    """Whether a `tools/call` answer (the result, or its JSON as the SDK hands it to middleware) is an error."""
    if isinstance(result, CallToolResult):
        return result.is_error
    return isinstance(result, dict) and result.get("isError") is True


def _text_of(result: HandlerResult) -> str:
    """The text blocks of a `tools/call` answer."""
    if isinstance(result, CallToolResult):
        result = result.model_dump(by_alias=True, mode="json")
    content: object = result.get("content") if isinstance(result, dict) else None
    blocks = cast("list[object]", content) if isinstance(content, list) else []
    texts = [cast("dict[str, object]", block).get("text") for block in blocks if isinstance(block, dict)]
    return " ".join(text for text in texts if isinstance(text, str))


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


def _scrubbed(result: HandlerResult) -> HandlerResult:
    """`result` without any known secret (an environment variable's key or token, a registered value)."""
    secrets = known_secrets()
    if not secrets or result is None:
        return result
    if isinstance(result, BaseModel):
        text = result.model_dump_json(by_alias=True)
    else:
        text = json.dumps(result, ensure_ascii=False, default=str)
    if not may_hold_secret(text, secrets):  # the common case, in one pass
        return result
    dumped = result.model_dump(by_alias=True, mode="json") if isinstance(result, BaseModel) else result
    # each string is scrubbed on its own: in a JSON dump a secret holding `"` or `\` is escaped once more
    scrubbed = scrub(dumped, secrets)
    return result if scrubbed == dumped else scrubbed


def _client_name(context: ServerRequestContext[Any, Any]) -> str | None:
    """The client's name and version, as it introduced itself, when it did."""
    try:
        params = context.session.client_params
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
            it and `server_info` reports its state. Pass the same link to the LLM service. `close_server` closes
            its connections.

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
    if shared is not None and limits.shared is None:  # buckets made by the caller count in Redis too
        limits.shared = SharedRates(shared)
    telemetry = ServerTelemetry(llm=llm)
    if shared is not None:
        telemetry.readiness.append(shared.problem)
    served = {spec.name: _tool(spec, schemas) for toolkit in all_toolkits for spec in toolkit.tools}
    instructions = "\n\n".join(
        f"{toolkit.name}: {toolkit.instructions}" for toolkit in all_toolkits if toolkit.instructions
    )
    server: MCPServer = MCPServer(
        name=name,
        version=version or report.own_version(),
        instructions=instructions or None,
        tools=[entry.tool for entry in served.values()],
        log_level=settings.log_level,
        warn_on_duplicate_tools=False,
        warn_on_duplicate_resources=False,
        warn_on_duplicate_prompts=False,
        middleware=[_ToolCalls(served, roots, limits, audit, telemetry)],
    )
    attach_telemetry(server, telemetry)
    _CLOSERS[server] = [limits.close, *([shared.close] if shared is not None else [])]
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


async def close_server(server: MCPServer) -> None:
    """Close what `build_server` opened for `server`: its connections to Redis (the rate limits', the link's).

    The HTTP transport does it as it shuts down; a server that serves again reconnects.
    """
    for close in _CLOSERS.get(server, ()):
        await close()


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
    return Prompt(
        name=spec.name,
        title=spec.title,
        description=spec.description or fn.__doc__ or "",
        arguments=[PromptArgument(**argument) for argument in kept["arguments"]],
        fn=_validated_on_first_call(fn),
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


def _guarded(fn: Callable[..., Any], kind: Literal["tool", "resource", "prompt"], name: str) -> Callable[..., Any]:
    """`fn`, with its failures mapped by `map_exception`; the signature the SDK inspects stays the same.

    A tool's failure is answered with an error result that carries the message as `map_exception` words it (the
    SDK would prefix it with `Error executing tool ...`); a resource's or a prompt's, and an `MCPError` of a tool,
    are raised, as JSON-RPC errors.
    """

    def answer(exc: Exception) -> CallToolResult:
        failures = _FAILURES.get()
        if failures is not None:  # the middleware counts the call by what failed
            failures.append(type(exc).__name__)
        mapped = map_exception(exc, kind=kind, name=name)
        if isinstance(mapped, MCPError) or kind != "tool":
            raise mapped from None
        return _error_result(mapped)

    if is_async(fn):

        @functools.wraps(fn)
        async def guarded_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except Exception as exc:
                return answer(exc)

        return guarded_async

    @functools.wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            return answer(exc)

    return guarded
