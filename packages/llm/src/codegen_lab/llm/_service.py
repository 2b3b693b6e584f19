"""The LLM service: one entry point for every tool, over the backends, with the cache and the safety nets."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import anyio

from codegen_lab.common.errors import LLMUnavailableError
from codegen_lab.common.tracing import annotate, span
from codegen_lab.llm._backends import AnthropicBackend, BackendError, anthropic_key
from codegen_lab.llm._cache import ResponseCache, cache_key
from codegen_lab.llm._prices import PriceTable
from codegen_lab.llm._reliability import CircuitBreaker, RateLimiter, backoff
from codegen_lab.llm._shared import RedisDown, RedisLink
from codegen_lab.llm._shared_llm import SharedLLMState
from codegen_lab.llm._spending import ToolUsage, meter
from codegen_lab.llm._types import Completion, CompletionRequest, LLMBackend, StreamCallback

if TYPE_CHECKING:
    from codegen_lab.common._settings import Settings

__all__ = ["LLMService"]

logger = logging.getLogger(__name__)


@dataclass
class LLMService:
    """Completions for every tool: the backends in order, with fallback, retries, breakers, limits and a cache.

    Use `LLMService.from_settings(settings, sampling=...)`; pass `session=ctx.session` to `complete` so that the
    client's own model (MCP sampling, `codegen_lab.mcp_core.sampling_backend`) can answer when it offers to.

    Every failure of a backend (HTTP errors, lost or cut connections, malformed answers, an answer that stopped
    before its end) is a `BackendError`: retried when transient, counted by the breaker, and in the end one
    `LLMUnavailableError` whose message says what happened for each backend. Only complete answers (stop reason
    `end_turn` or `stop_sequence`) are returned or cached.
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
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep
    """Waits between retries (a test passes one that moves its clock)."""
    prices: PriceTable = field(default_factory=PriceTable.with_overrides)
    usage: dict[str, ToolUsage] = field(default_factory=dict[str, ToolUsage])
    sampling: Callable[[Any], LLMBackend | None] | None = None
    """The client's own model for an MCP session, or None when that client lends none."""
    shared: SharedLLMState | None = None
    """The state the replicas share in Redis (setting `redis-url`), or None: all of it is this process's own."""
    _breakers: dict[str, CircuitBreaker] = field(default_factory=dict[str, CircuitBreaker])
    _pending: set[asyncio.Task[None]] = field(default_factory=set[asyncio.Task[None]])

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        environ: dict[str, str] | None = None,
        sampling: Callable[[Any], LLMBackend | None] | None = None,
        shared: RedisLink | None = None,
    ) -> LLMService:
        """The service the settings describe: Anthropic when a key is configured, the cache in the cache folder.

        `sampling` gives the client's own model for an MCP session (`codegen_lab.mcp_core.sampling_backend`);
        `shared` is the Redis the replicas share (setting `redis-url`), for the cache, single-flight and usage.

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
            prices=PriceTable.with_overrides(settings.llm_prices),
            sampling=sampling,
            shared=SharedLLMState(shared, ttl=settings.llm_cache_ttl) if shared is not None else None,
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
        store: bool = True,
        deadline: float | None = None,
    ) -> Completion:
        """Answer `request` with the first backend that can, falling back along the configured order.

        Args:
            request: What to ask.
            tool: The tool asking, for usage accounting.
            session: The MCP session of the current request, for sampling.
            on_text: Called with the text as it streams in.
            use_cache: False to ask the model even when the cache has an answer.
            store: False to keep the answer out of the cache (a caller that validates it calls `remember` after).
            deadline: Seconds this call may take, retries included (default: the service's). It starts once the
                backends are ready (the SDK imported), as the first request is about to be sent.

        Raises:
            LLMUnavailableError: When no backend is configured or none answered; the message says why for each.
        """
        mine = ToolUsage()
        try:
            return await self._complete(
                request, mine, session=session, on_text=on_text, use_cache=use_cache, store=store, deadline=deadline
            )
        finally:
            self.usage.setdefault(tool, ToolUsage()).merge(mine)
            open_meter = meter()
            if open_meter is not None:
                open_meter.merge(mine)
            if self.shared is not None:
                with contextlib.suppress(RedisDown):  # logged once by the link; this process's counters have it
                    await self.shared.add_usage(tool, mine)

    async def _complete(
        self,
        request: CompletionRequest,
        stats: ToolUsage,
        *,
        session: Any,
        on_text: StreamCallback | None,
        use_cache: bool,
        store: bool,
        deadline: float | None,
    ) -> Completion:
        stats.calls += 1
        backends = self.backends(session)
        if not backends:
            stats.failures += 1
            raise LLMUnavailableError(
                "no LLM backend: set ANTHROPIC_API_KEY (or anthropic-key-file), or use a client that offers sampling"
            )
        reasons: list[str] = []
        ready = _prepared(backends, reasons)
        budget = self.deadline if deadline is None else deadline
        ends = self.clock() + budget
        for backend in ready:
            cacheable = use_cache and bool(backend.model)
            key = cache_key(backend.name, backend.model, request) if cacheable and backend.model else None
            hit = await self._cached(key) if key is not None else None
            if hit is not None:
                stats.cache_hits += 1
                hit = replace(hit, cost_usd=0.0, notes=(*hit.notes, *(f"fell back: {reason}" for reason in reasons)))
                return hit
            breaker = self.breaker(backend.name)
            if not breaker.allows() or await self._shared_breaker_open(backend.name):
                reasons.append(f"{backend.name}: circuit open after repeated failures")
                continue
            flight: AbstractAsyncContextManager[bool] = (
                self.shared.single_flight(key, seconds=budget)
                if self.shared is not None and key is not None
                else nullcontext(False)
            )
            async with flight as held:
                # another replica may have asked while this one waited for the lock
                hit = await self._shared_answer(key) if held and key is not None else None
                if hit is not None:
                    stats.cache_hits += 1
                    hit = replace(hit, cost_usd=0.0, notes=tuple(f"fell back: {reason}" for reason in reasons))
                    return hit
                try:
                    completion = await self._call(backend, request, on_text=on_text, ends=ends, budget=budget)
                except BackendError as exc:
                    if exc.fault:
                        breaker.failed()
                        await self._shared_breaker_result(backend.name, failed=True)
                    reasons.append(f"{backend.name}: {exc}")
                    # the error (or the fallback's note) says it to the caller; a warning would say it twice
                    logger.info("LLM backend %s failed: %s", backend.name, exc)
                    continue
                await self._shared_breaker_result(backend.name, failed=False)
                breaker.succeeded()
                # the backend's model after the call: the client's own model names itself only when it answers
                key = cache_key(backend.name, backend.model or completion.model, request)
                completion = replace(
                    completion,
                    cost_usd=self.prices.cost(completion.model, completion.usage),
                    cache_key=key,
                    notes=tuple(f"fell back: {reason}" for reason in reasons),
                )
                stats.add(completion)
                if self.cache is not None and store:
                    self.cache.put(key, completion)
                await self._share(key, completion, validated=store)
                return completion
        stats.failures += 1
        raise LLMUnavailableError("; ".join(reasons))

    async def _cached(self, key: str) -> Completion | None:
        """The answer this process's cache holds for `key`, else the one the replicas share, else None."""
        with span("codegen_lab.llm.cache_lookup"):
            hit = self.cache.get(key) if self.cache is not None else None
            if hit is None:
                hit = await self._shared_answer(key)
            annotate(hit=hit is not None)
            return hit

    async def _shared_answer(self, key: str | None) -> Completion | None:
        if self.shared is None or key is None:
            return None
        try:
            return await self.shared.answer(key)
        except RedisDown:
            return None

    async def _shared_breaker_open(self, backend: str) -> bool:
        if self.shared is None:
            return False
        try:
            return await self.shared.breaker_open(backend)
        except RedisDown:
            return False

    async def _shared_breaker_result(self, backend: str, *, failed: bool) -> None:
        if self.shared is None:
            return
        with contextlib.suppress(RedisDown):
            await self.shared.breaker_result(
                backend, failed=failed, threshold=self.breaker_threshold, reset_after=self.breaker_reset
            )

    async def _share(self, key: str, completion: Completion, *, validated: bool) -> None:
        if self.shared is None:
            return
        with contextlib.suppress(RedisDown):  # logged once by the link; the answer stays in this process's cache
            await self.shared.keep(key, replace(completion, notes=()), validated=validated)

    def remember(self, request: CompletionRequest, completion: Completion) -> None:
        """Cache `completion` as the answer to `request`, once the caller checked it (`complete(store=False)`)."""
        if completion.cached or completion.cache_key is None:
            return
        if self.cache is not None:
            self.cache.put(completion.cache_key, replace(completion, notes=()))
        if self.shared is not None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return  # called outside the event loop: the shared copy stays the one in flight
            task = loop.create_task(self._share(completion.cache_key, completion, validated=True))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _call(
        self,
        backend: LLMBackend,
        request: CompletionRequest,
        *,
        on_text: StreamCallback | None,
        ends: float,
        budget: float,
    ) -> Completion:
        reserve = (
            request.max_tokens + sum(len(m.content) for m in request.messages) // 4 + len(request.system or "") // 4
        )
        attempt = 0
        tail = ""  # the last character streamed by this attempt, so that a retry's notice starts its own line

        async def watched(text: str) -> None:
            nonlocal tail
            if text:
                tail = text[-1]
            if on_text is not None:
                await on_text(text)

        while True:
            tail = ""
            remaining = ends - self.clock()
            if remaining <= 0:
                raise BackendError(f"no answer within the deadline of {budget:g} s", transient=False)
            try:
                ticket = await self.limiter.acquire(reserve, deadline=ends)
            except LLMUnavailableError as exc:
                raise BackendError(str(exc).removeprefix("LLM unavailable: "), transient=False) from None
            spent = 0
            try:
                with anyio.fail_after(remaining):
                    completion = await backend.complete(request, on_text=None if on_text is None else watched)
                spent = completion.usage.total_input_tokens + completion.usage.output_tokens
                return _complete_or_raise(completion, request)
            except TimeoutError:
                raise BackendError(f"no answer within the deadline of {budget:g} s", transient=False) from None
            except BackendError as exc:
                attempt += 1
                if not exc.transient or attempt > self.max_retries:
                    if exc.transient:
                        raise BackendError(
                            f"{exc} (after {attempt} attempts)", transient=True, retry_after=exc.retry_after
                        ) from None
                    raise
                wait = backoff(attempt, exc.retry_after)
                left = ends - self.clock()
                if wait >= left:
                    asked = f"the server asked to wait {wait:g} s" if exc.retry_after is not None else f"{wait:g} s"
                    raise BackendError(
                        f"{exc}; {asked}, more than the {max(left, 0):.1f} s left before the deadline "
                        f"(setting llm-timeout)",
                        transient=False,
                    ) from None
                if on_text is not None and tail not in ("", "\n"):
                    await on_text("\n")  # the answer broke off mid-line: what follows (a retry) starts a new one
                logger.warning("LLM backend %s: %s; retry %d in %.1f s", backend.name, exc, attempt, wait)
                await self.sleep(wait)
            except Exception as exc:  # a backend's bug must not become the caller's traceback
                logger.debug("LLM backend %s raised", backend.name, exc_info=True)
                raise BackendError(f"{type(exc).__name__}: {exc}"[:300], transient=False) from None
            finally:
                self.limiter.settle(ticket, spent)

    def usage_report(self) -> dict[str, Any]:
        """Usage per tool and in total (tokens, cached input, cost), the cache's figures and the breakers' states.

        The figures are this process's own; `shared_usage_report` sums the replicas'.
        """
        return self._report(self.usage)

    async def shared_usage_report(self) -> dict[str, Any]:
        """`usage_report` with the usage summed over every replica sharing Redis, and `shared`: Redis's state.

        Without Redis, or while it is down (`shared.redis` is `degraded`), the figures are this process's own.
        """
        if self.shared is None:
            return self.usage_report()
        try:
            summed = {tool: ToolUsage(**values) for tool, values in (await self.shared.usage()).items()}
        except RedisDown:
            summed = None
        report = self._report(self.usage if summed is None else summed)
        report["shared"] = {
            **self.shared.link.status(),
            "usage": "this replica's" if summed is None else "every replica's",
            "cache_hits": self.shared.hits,
            "cache_misses": self.shared.misses,
        }
        return report

    def _report(self, usage: dict[str, ToolUsage]) -> dict[str, Any]:
        from codegen_lab.common.results import to_json  # noqa: PLC0415 (pydantic: asked for by a report only)

        total = ToolUsage()
        for stats in usage.values():
            total.merge(stats)
        return {
            "backends": [backend.name for backend in self.backends()],
            "model": self.anthropic.model if self.anthropic is not None else None,
            "model_warning": self.anthropic.model_warning if self.anthropic is not None else None,
            "tools": {tool: to_json(stats) for tool, stats in sorted(usage.items())},
            "totals": to_json(total),
            "cache": self.cache.counters() if self.cache is not None else None,
            "breakers": {name: breaker.state for name, breaker in self._breakers.items()},
        }


def _prepared(backends: list[LLMBackend], reasons: list[str]) -> list[LLMBackend]:
    """The backends ready to be asked (the Anthropic SDK imported); why each other one is not goes to `reasons`."""
    ready: list[LLMBackend] = []
    for backend in backends:
        try:
            if isinstance(backend, AnthropicBackend):
                backend.prepare()  # the SDK's import is not the call's time
        except LLMUnavailableError as exc:
            reasons.append(f"{backend.name}: {str(exc).removeprefix('LLM unavailable: ')}")
            continue
        ready.append(backend)
    return ready


_COMPLETE = frozenset({"end_turn", "stop_sequence"})


def _complete_or_raise(completion: Completion, request: CompletionRequest) -> Completion:
    """The completion when the model finished its answer; else the `BackendError` that says how it stopped."""
    reason = completion.stop_reason
    if reason in _COMPLETE:
        return completion
    if reason == "max_tokens":
        raise BackendError(
            f"answer cut at {request.max_tokens} tokens (stop reason max_tokens); raise the llm-max-tokens setting",
            transient=False,
            fault=False,
        )
    if reason is None:
        raise BackendError("the answer ended before the model finished it (no stop reason)", transient=True)
    raise BackendError(f"the model stopped for {reason!r}, not at the end of its answer", transient=False, fault=False)
