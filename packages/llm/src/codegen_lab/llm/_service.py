"""The LLM service: one entry point for every tool, over the backends, with the cache and the safety nets."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import anyio

from codegen_lab.common.errors import LLMUnavailableError
from codegen_lab.llm._backends import AnthropicBackend, BackendError, anthropic_key
from codegen_lab.llm._cache import ResponseCache, cache_key
from codegen_lab.llm._reliability import CircuitBreaker, RateLimiter, backoff
from codegen_lab.llm._types import Completion, CompletionRequest, LLMBackend, StreamCallback

if TYPE_CHECKING:
    from codegen_lab.common._settings import Settings

__all__ = ["LLMService", "ToolUsage"]

logger = logging.getLogger(__name__)


@dataclass
class ToolUsage:
    """What one tool spent on LLM calls."""

    calls: int = 0
    cache_hits: int = 0
    failures: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    latency_seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        """The usage as JSON, with the mean latency of the calls that went out."""
        went_out = self.calls - self.cache_hits
        return {
            "calls": self.calls,
            "cache_hits": self.cache_hits,
            "failures": self.failures,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "mean_latency_seconds": round(self.latency_seconds / went_out, 4) if went_out else 0.0,
        }


@dataclass
class LLMService:
    """Completions for every tool: the backends in order, with fallback, retries, breakers, limits and a cache.

    Use `LLMService.from_settings(settings, sampling=...)`; pass `session=ctx.session` to `complete` so that the
    client's own model (MCP sampling, `codegen_lab.mcp_core.sampling_backend`) can answer when it offers to.
    """

    anthropic: AnthropicBackend | None = None
    order: Sequence[str] = ("anthropic", "sampling")
    cache: ResponseCache | None = None
    deadline: float = 60.0
    max_retries: int = 3
    limiter: RateLimiter = field(default_factory=RateLimiter)
    breaker_threshold: int = 5
    breaker_reset: float = 30.0
    clock: Callable[[], float] = time.monotonic
    usage: dict[str, ToolUsage] = field(default_factory=dict[str, ToolUsage])
    sampling: Callable[[Any], LLMBackend | None] | None = None
    """The client's own model for an MCP session, or None when that client lends none."""
    _breakers: dict[str, CircuitBreaker] = field(default_factory=dict[str, CircuitBreaker])

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        environ: dict[str, str] | None = None,
        sampling: Callable[[Any], LLMBackend | None] | None = None,
    ) -> LLMService:
        """The service the settings describe: Anthropic when a key is configured, the cache in the cache folder.

        `sampling` gives the client's own model for an MCP session (`codegen_lab.mcp_core.sampling_backend`).

        Raises:
            UsageError: When `anthropic-key-file` is set but unreadable.
        """
        key = anthropic_key(settings.anthropic_key_file, environ)
        backend = (
            AnthropicBackend(
                api_key=key,
                model=settings.anthropic_model,
                base_url=settings.anthropic_base_url,
                timeout=settings.llm_timeout,
            )
            if key
            else None
        )
        cache = ResponseCache.from_settings(settings)
        return cls(
            anthropic=backend,
            order=settings.llm_order,
            cache=cache,
            deadline=settings.llm_timeout,
            max_retries=settings.llm_max_retries,
            limiter=RateLimiter(settings.llm_requests_per_minute, settings.llm_tokens_per_minute),
            sampling=sampling,
        )

    def backends(self, session: Any = None) -> list[LLMBackend]:
        """The backends that can answer now, in the configured order."""
        found: list[LLMBackend] = []
        for name in self.order:
            if name == "anthropic" and self.anthropic is not None:
                found.append(self.anthropic)
            elif name == "sampling" and session is not None and self.sampling is not None:
                client = self.sampling(session)
                if client is not None:
                    found.append(client)
        return found

    def available(self, session: Any = None) -> bool:
        """Whether any backend could answer (tools without one use their static path and say so)."""
        return bool(self.backends(session))

    def breaker(self, backend: str) -> CircuitBreaker:
        """The circuit breaker of one backend."""
        if backend not in self._breakers:
            self._breakers[backend] = CircuitBreaker(self.breaker_threshold, self.breaker_reset, self.clock)
        return self._breakers[backend]

    async def complete(
        self,
        request: CompletionRequest,
        *,
        tool: str = "(direct)",
        session: Any = None,
        on_text: StreamCallback | None = None,
        use_cache: bool = True,
        deadline: float | None = None,
    ) -> Completion:
        """Answer `request` with the first backend that can, falling back along the configured order.

        Args:
            request: What to ask.
            tool: The tool asking, for usage accounting.
            session: The MCP session of the current request, for sampling.
            on_text: Called with the text as it streams in.
            use_cache: False to bypass the cache (the answer is still stored).
            deadline: Seconds this call may take, retries included (default: the service's).

        Raises:
            LLMUnavailableError: When no backend is configured or none answered; the message says why for each.
        """
        stats = self.usage.setdefault(tool, ToolUsage())
        stats.calls += 1
        backends = self.backends(session)
        if not backends:
            stats.failures += 1
            raise LLMUnavailableError(
                "no LLM backend: set ANTHROPIC_API_KEY (or anthropic-key-file), or use a client that offers sampling"
            )
        budget = self.deadline if deadline is None else deadline
        ends = self.clock() + budget
        reasons: list[str] = []
        for backend in backends:
            key = cache_key(backend.name, backend.model, request)
            if self.cache is not None and use_cache:
                hit = self.cache.get(key)
                if hit is not None:
                    stats.cache_hits += 1
                    return replace(hit, notes=(*hit.notes, *(f"fell back: {reason}" for reason in reasons)))
            breaker = self.breaker(backend.name)
            if not breaker.allows():
                reasons.append(f"{backend.name}: circuit open after repeated failures")
                continue
            try:
                completion = await self._call(backend, request, on_text=on_text, ends=ends)
            except BackendError as exc:
                breaker.failed()
                reasons.append(f"{backend.name}: {exc}")
                logger.warning("LLM backend %s failed: %s", backend.name, exc)
                continue
            breaker.succeeded()
            stats.input_tokens += completion.usage.input_tokens
            stats.output_tokens += completion.usage.output_tokens
            stats.latency_seconds += completion.latency_seconds
            if self.cache is not None:
                self.cache.put(key, completion)
            return replace(completion, notes=tuple(f"fell back: {reason}" for reason in reasons))
        stats.failures += 1
        raise LLMUnavailableError("; ".join(reasons))

    async def _call(
        self, backend: LLMBackend, request: CompletionRequest, *, on_text: StreamCallback | None, ends: float
    ) -> Completion:
        estimate = (
            request.max_tokens + sum(len(m.content) for m in request.messages) // 4 + len(request.system or "") // 4
        )
        attempt = 0
        while True:
            remaining = ends - self.clock()
            if remaining <= 0:
                raise BackendError(f"no answer within the deadline of {self.deadline:g} s", transient=False)
            try:
                await self.limiter.acquire(estimate, deadline=ends)
            except LLMUnavailableError as exc:
                raise BackendError(str(exc).removeprefix("LLM unavailable: "), transient=False) from None
            try:
                with anyio.fail_after(remaining):
                    return await backend.complete(request, on_text=on_text)
            except TimeoutError:
                raise BackendError(f"no answer within the deadline of {self.deadline:g} s", transient=False) from None
            except BackendError as exc:
                attempt += 1
                if not exc.transient or attempt > self.max_retries:
                    raise
                wait = backoff(attempt, exc.retry_after)
                if self.clock() + wait >= ends:
                    raise BackendError(f"{exc}; no time left to retry before the deadline", transient=False) from None
                logger.info("LLM backend %s: %s; retry %d in %.1f s", backend.name, exc, attempt, wait)
                await anyio.sleep(wait)

    def usage_report(self) -> dict[str, Any]:
        """Usage per tool, the cache's figures and the breakers' states, for `server_info` and the CLI."""
        return {
            "backends": [backend.name for backend in self.backends()],
            "model": self.anthropic.model if self.anthropic is not None else None,
            "tools": {tool: stats.as_json() for tool, stats in sorted(self.usage.items())},
            "cache": self.cache.counters() if self.cache is not None else None,
            "breakers": {name: breaker.state for name, breaker in self._breakers.items()},
        }
