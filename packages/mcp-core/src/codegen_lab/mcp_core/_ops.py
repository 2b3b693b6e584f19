"""The operations routes of the HTTP transport: `/healthz`, `/readyz` and `/metrics` (Prometheus text).

- `GET /healthz`: 200 while the process serves; nothing else is checked (a liveness probe).
- `GET /readyz`: 200 when the toolkits are loaded and every readiness check passes (Redis answers, when it is
  configured); 503 with a JSON body naming what is wrong (`{"status": "degraded", "reasons": [...]}`) otherwise.
- `GET /metrics`: the server's counters with the OpenTelemetry MCP semantic-convention names, protected like
  `/mcp`: with tokens configured, any valid bearer token (read or write); without, the server is loopback-only.

Only `http_app` imports this module, so `prometheus-client` loads when the HTTP transport starts, never for stdio.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from codegen_lab.mcp_core._telemetry import ServerTelemetry

__all__ = ["OperationsRoutes", "TelemetryCollector"]

_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_TOKEN_TYPES = (
    ("input", "input_tokens"),
    ("output", "output_tokens"),
    ("cache_read", "cache_read_input_tokens"),
    ("cache_write", "cache_creation_input_tokens"),
)
_BREAKER_STATES = ("closed", "half-open", "open")
_SHUTDOWN_ENDED = frozenset({"lifespan.shutdown.complete", "lifespan.shutdown.failed"})


class TelemetryCollector(Collector):
    """Publishes a `ServerTelemetry` (and the LLM service's usage) as Prometheus metrics, read at each scrape.

    Args:
        telemetry: The server's counters.
        sessions: The open MCP sessions (the SDK's session manager's), counted at each scrape.
    """

    def __init__(self, telemetry: ServerTelemetry, sessions: Mapping[str, object]) -> None:
        self.telemetry = telemetry
        self.sessions = sessions

    def collect(self) -> Iterator[Metric]:
        telemetry = self.telemetry
        duration = HistogramMetricFamily(
            "mcp_server_operation_duration_seconds",
            "Duration of MCP requests handled by the server (OpenTelemetry mcp.server.operation.duration).",
            labels=["mcp_method_name", "gen_ai_tool_name", "error_type"],
            unit="seconds",
        )
        calls = CounterMetricFamily(
            "mcp_server_tool_calls",
            "Tool calls by tool and outcome (ok, error, refused).",
            labels=["gen_ai_tool_name", "outcome"],
        )
        refusals = CounterMetricFamily(
            "mcp_server_rate_limit_refusals",
            "Tool calls refused by a rate limit, by tool class.",
            labels=["rate_class"],
        )
        sandbox = CounterMetricFamily(
            "codegen_lab_sandbox_runs",
            "Sandboxed runs of project code, by isolation (bubblewrap, namespaces, uid, none) and outcome.",
            labels=["isolation", "outcome"],
        )
        with telemetry.lock:
            for (method, tool, error), histogram in telemetry.durations.items():
                duration.add_metric([method, tool, error], histogram.cumulative(), histogram.total)
            for (tool, outcome), count in telemetry.calls.items():
                calls.add_metric([tool, outcome], count)
            for rate_class, count in telemetry.refusals.items():
                refusals.add_metric([rate_class], count)
            for (isolation, outcome), count in telemetry.sandbox_runs.items():
                sandbox.add_metric([isolation, outcome], count)
            incidents = telemetry.incidents
        yield duration
        yield calls
        yield refusals
        yield sandbox
        yield CounterMetricFamily(
            "mcp_server_incidents", "Unexpected failures, each logged with an incident id.", value=incidents
        )
        yield GaugeMetricFamily("mcp_server_sessions_open", "Open MCP sessions.", value=len(self.sessions))
        yield from _llm_metrics(telemetry.llm_report())


def _llm_metrics(report: dict[str, Any] | None) -> Iterator[Metric]:
    """The LLM service's requests, tokens, cost, cache and breakers, by model (this replica's own counts)."""
    if report is None:
        return
    model = str(report.get("model") or "none")
    totals: dict[str, Any] = report.get("totals") or {}
    requests = CounterMetricFamily(
        "gen_ai_client_requests", "LLM requests asked by tools (cache hits included).", labels=["gen_ai_request_model"]
    )
    requests.add_metric([model], totals.get("calls", 0))
    yield requests
    tokens = CounterMetricFamily(
        "gen_ai_client_token_usage",
        "LLM tokens by type (input, output, cache_read, cache_write).",
        labels=["gen_ai_request_model", "gen_ai_token_type"],
    )
    for name, key in _TOKEN_TYPES:
        tokens.add_metric([model, name], totals.get(key, 0))
    yield tokens
    cost = CounterMetricFamily("gen_ai_client_cost_usd", "LLM cost in US dollars.", labels=["gen_ai_request_model"])
    cost.add_metric([model], float(totals.get("cost_usd", 0.0)))
    yield cost
    cache: dict[str, Any] = report.get("cache") or {}
    lookups = CounterMetricFamily("codegen_lab_llm_cache_lookups", "LLM response cache lookups.", labels=["result"])
    lookups.add_metric(["hit"], cache.get("hits", 0))
    lookups.add_metric(["miss"], cache.get("misses", 0))
    yield lookups
    breakers = GaugeMetricFamily(
        "codegen_lab_llm_breaker_state",
        "1 for the state each LLM backend's breaker is in.",
        labels=["backend", "state"],
    )
    states: dict[str, str] = report.get("breakers") or {}
    for backend, state in states.items():
        for known in _BREAKER_STATES:
            breakers.add_metric([backend, known], 1.0 if state == known else 0.0)
    yield breakers


class OperationsRoutes:
    """ASGI middleware: answers `/healthz`, `/readyz` and `/metrics`, and passes every other request on.

    Args:
        app: What serves every other path (the MCP app with its checks).
        telemetry: The server's counters and readiness checks.
        sessions: The open MCP sessions.
        allowed_hosts: The Host names (with `:*` patterns) the server answers to; others get 421.
        authorized: Whether an `Authorization` header value may read `/metrics`.
        on_shutdown: Run when the app has shut down (the ASGI lifespan), before the server is told it has.
    """

    def __init__(
        self,
        app: Any,
        telemetry: ServerTelemetry,
        sessions: Mapping[str, object],
        *,
        allowed_hosts: list[str],
        authorized: Callable[[str | None], bool],
        on_shutdown: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.app = app
        self.on_shutdown = on_shutdown
        self.telemetry = telemetry
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(TelemetryCollector(telemetry, sessions))
        ProcessCollector(registry=self.registry)  # process_resident_memory_bytes, process_cpu_seconds_total
        self.allowed_hosts = frozenset(allowed_hosts)
        self.authorized = authorized

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan" and self.on_shutdown is not None:
            await self.app(scope, receive, self._closing(send))
            return
        path = scope.get("path") if scope["type"] == "http" else None
        if path not in _PATHS:
            await self.app(scope, receive, send)
            return
        if scope["method"] not in {"GET", "HEAD"}:
            await _answer(send, 405, b'{"error": "use GET"}', b"application/json", ((b"allow", b"GET, HEAD"),))
            return
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        if not self._host_allowed(headers.get("host", "")):
            await _answer(send, 421, b'{"error": "invalid Host header"}', b"application/json")
            return
        if path == "/healthz":
            await _answer(send, 200, b'{"status": "ok"}', b"application/json")
        elif path == "/readyz":
            problems = await self.telemetry.problems()
            body = {"status": "degraded", "reasons": problems} if problems else {"status": "ready"}
            await _answer(send, 503 if problems else 200, json.dumps(body).encode(), b"application/json")
        elif not self.authorized(headers.get("authorization")):
            await _answer(
                send,
                401,
                b'{"error": "a valid bearer token is required"}',
                b"application/json",
                ((b"www-authenticate", b'Bearer realm="codegen-lab"'),),
            )
        else:
            await _answer(send, 200, generate_latest(self.registry), b"text/plain; version=0.0.4; charset=utf-8")

    def _closing(self, send: Any) -> Callable[[dict[str, Any]], Awaitable[None]]:
        """`send`, which runs `on_shutdown` first when the app says that it shut down (or failed to)."""
        on_shutdown = self.on_shutdown

        async def forward(message: dict[str, Any]) -> None:
            if on_shutdown is not None and message["type"] in _SHUTDOWN_ENDED:
                await on_shutdown()
            await send(message)

        return forward

    def _host_allowed(self, host: str) -> bool:
        if host in self.allowed_hosts:
            return True
        name, _, port = host.rpartition(":")
        return bool(name) and port.isdigit() and f"{name}:*" in self.allowed_hosts


async def _answer(
    send: Any, status: int, body: bytes, content_type: bytes, headers: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
