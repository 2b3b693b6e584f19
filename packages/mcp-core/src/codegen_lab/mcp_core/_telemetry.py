"""What a server counts while it serves.

Tool calls by outcome and duration, rate-limit refusals, incidents, and sandboxed runs by isolation and outcome
(the events a tool's work reports with `codegen_lab.common.tracing.event`).

Plain counters in the process, updated on every tool call at the cost of a dictionary update: no metrics library
is imported here, so the stdio transport's start pays for none. The HTTP transport publishes them at `/metrics`
(`_ops`, which imports `prometheus-client`) with the OpenTelemetry MCP semantic-convention names.
"""

from __future__ import annotations

import bisect
import threading
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from codegen_lab.common.tracing import SANDBOX_RUN

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from codegen_lab.llm import LLMService

__all__ = ["DURATION_BUCKETS", "Histogram", "ServerTelemetry", "attach_telemetry", "telemetry_of"]

DURATION_BUCKETS: tuple[float, ...] = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
"""The upper bounds, in seconds, of `mcp.server.operation.duration` (the semantic convention's advice)."""

ReadinessCheck = Callable[[], Awaitable[str | None]]
"""Says what keeps the server from being ready (`redis: connection refused`), or None when nothing does."""


@dataclass(slots=True)
class Histogram:
    """Counts per bucket (not cumulative), the sum and the count of observed values."""

    buckets: list[int] = field(default_factory=lambda: [0] * (len(DURATION_BUCKETS) + 1))
    total: float = 0.0
    count: int = 0

    def observe(self, value: float) -> None:
        """Count one value in the first bucket whose bound holds it (the last one is `+Inf`)."""
        self.buckets[bisect.bisect_left(DURATION_BUCKETS, value)] += 1
        self.total += value
        self.count += 1

    def cumulative(self) -> list[tuple[str, int]]:
        """The buckets as Prometheus writes them: each bound with the count of values at or under it."""
        bounds = [*(f"{bound:g}" for bound in DURATION_BUCKETS), "+Inf"]
        running, result = 0, list[tuple[str, int]]()
        for bound, count in zip(bounds, self.buckets, strict=True):
            running += count
            result.append((bound, running))
        return result


@dataclass
class ServerTelemetry:
    """The counters of one composed server, and what its readiness and LLM figures come from.

    Labels stay bounded: tool names (never arguments), outcomes, rate classes and exception class names.
    """

    llm: LLMService | Callable[[], LLMService] | None = None
    durations: dict[tuple[str, str, str], Histogram] = field(default_factory=dict[tuple[str, str, str], Histogram])
    """By method name, tool name and error type (empty when the call succeeded)."""
    calls: dict[tuple[str, str], int] = field(default_factory=dict[tuple[str, str], int])
    """Tool calls by tool name and outcome (`ok`, `error`, `refused`)."""
    refusals: dict[str, int] = field(default_factory=dict[str, int])
    """Calls refused by a rate limit, by class."""
    incidents: int = 0
    """Unexpected failures (each logged with an incident id)."""
    sandbox_runs: dict[tuple[str, str], int] = field(default_factory=dict[tuple[str, str], int])
    """Sandboxed runs by isolation and outcome."""
    readiness: list[ReadinessCheck] = field(default_factory=list[ReadinessCheck])
    lock: threading.Lock = field(default_factory=threading.Lock)
    """Held while the counters change: hold it to read them together."""

    def record_call(self, tool: str, seconds: float, *, outcome: str, error_type: str = "") -> None:
        """Count one `tools/call` of `tool` that took `seconds` and ended with `outcome`."""
        key = ("tools/call", tool, error_type)
        with self.lock:
            histogram = self.durations.get(key)
            if histogram is None:
                histogram = self.durations[key] = Histogram()
            histogram.observe(seconds)
            self.calls[tool, outcome] = self.calls.get((tool, outcome), 0) + 1

    def record_refusal(self, rate_class: str) -> None:
        """Count one call refused by the rate limit of `rate_class`."""
        with self.lock:
            self.refusals[rate_class] = self.refusals.get(rate_class, 0) + 1

    def record_incident(self) -> None:
        """Count one unexpected failure."""
        with self.lock:
            self.incidents += 1

    def observe(self, name: str, attributes: Mapping[str, object]) -> None:
        """Count an event a tool's work reported (`codegen_lab.common.tracing.observed`): the sandboxed runs."""
        if name != SANDBOX_RUN:
            return
        key = (str(attributes.get("isolation", "unknown"))[:32], str(attributes.get("outcome", "unknown"))[:32])
        with self.lock:
            self.sandbox_runs[key] = self.sandbox_runs.get(key, 0) + 1

    def llm_report(self) -> dict[str, Any] | None:
        """The LLM service's usage report (per tool, cache, breakers), or None when the server has no service."""
        if self.llm is None:
            return None
        return (self.llm() if callable(self.llm) else self.llm).usage_report()

    async def problems(self) -> list[str]:
        """What keeps the server from being ready now; empty when it is ready."""
        found: list[str] = []
        for check in self.readiness:
            problem = await check()
            if problem is not None:
                found.append(problem)
        return found


_TELEMETRY: weakref.WeakKeyDictionary[MCPServer, ServerTelemetry] = weakref.WeakKeyDictionary()


def attach_telemetry(server: MCPServer, telemetry: ServerTelemetry) -> None:
    """Make `telemetry` the counters `telemetry_of(server)` gives."""
    _TELEMETRY[server] = telemetry


def telemetry_of(server: MCPServer) -> ServerTelemetry:
    """The counters of a server made by `build_server` (a fresh, empty set for any other server)."""
    found = _TELEMETRY.get(server)
    if found is None:
        found = _TELEMETRY[server] = ServerTelemetry()
    return found
