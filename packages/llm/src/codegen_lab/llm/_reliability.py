"""Staying up when the LLM does not: capped backoff, a circuit breaker, shared rate limits."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import anyio

from codegen_lab.common.errors import LLMUnavailableError

__all__ = ["CircuitBreaker", "RateLimiter", "backoff"]

Clock = Callable[[], float]


def backoff(attempt: int, retry_after: float | None, *, base: float = 0.5, cap: float = 8.0) -> float:
    """Seconds to wait before retry number `attempt` (1, 2, ...).

    The server's `retry-after` when it gave one, however long (the caller's deadline bounds it), else exponential
    from `base`, never more than `cap`.
    """
    if retry_after is not None and retry_after >= 0:
        return retry_after
    return min(base * 2 ** (attempt - 1), cap)


@dataclass
class CircuitBreaker:
    """Stops calling a backend after `threshold` failures in a row, and tries again after `reset_after` seconds.

    Closed: calls go through. Open: calls are refused at once. Half-open (after `reset_after`): one call goes
    through; its success closes the breaker, its failure opens it again.
    """

    threshold: int = 5
    reset_after: float = 30.0
    clock: Clock = time.monotonic
    failures: int = 0
    opened_at: float | None = None

    @property
    def state(self) -> str:
        """`closed`, `open` or `half-open`."""
        if self.opened_at is None:
            return "closed"
        return "half-open" if self.clock() - self.opened_at >= self.reset_after else "open"

    def allows(self) -> bool:
        """Whether a call may go through now."""
        return self.state != "open"

    def succeeded(self) -> None:
        """Record a success: the breaker closes."""
        self.failures = 0
        self.opened_at = None

    def failed(self) -> None:
        """Record a failure: the breaker opens at the threshold, or again after a failed trial call."""
        self.failures += 1
        if self.failures >= self.threshold or self.opened_at is not None:
            self.opened_at = self.clock()


@dataclass
class Ticket:
    """A slot in the rate limiter's window: when, and how many tokens it counts (settled from the answer)."""

    at: float
    tokens: int


@dataclass
class RateLimiter:
    """Requests and tokens per minute, shared by every caller (a sliding window of the last 60 seconds)."""

    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    clock: Clock = time.monotonic
    _events: list[Ticket] = field(default_factory=list[Ticket])
    _lock: anyio.Lock = field(default_factory=anyio.Lock)

    def _wait_needed(self, tokens: int, now: float) -> float:
        self._events = [event for event in self._events if now - event.at < 60.0]
        waits = [0.0]
        if self.requests_per_minute is not None and len(self._events) >= self.requests_per_minute:
            waits.append(60.0 - (now - self._events[len(self._events) - self.requests_per_minute].at))
        if self.tokens_per_minute is not None:
            spent = sum(event.tokens for event in self._events)
            if spent + tokens > self.tokens_per_minute:
                if tokens > self.tokens_per_minute:
                    raise LLMUnavailableError(
                        f"a call of about {tokens:,} tokens exceeds the limit of {self.tokens_per_minute:,} tokens a "
                        "minute (setting llm-tokens-per-minute)"
                    )
                freed, release = 0, 60.0
                for event in self._events:
                    freed += event.tokens
                    if spent - freed + tokens <= self.tokens_per_minute:
                        release = 60.0 - (now - event.at)
                        break
                waits.append(release)
        return max(waits)

    async def acquire(self, tokens: int, *, deadline: float) -> Ticket:
        """Wait until a call of about `tokens` fits in both limits; the ticket reserves them until `settle`.

        Raises:
            LLMUnavailableError: When it would not fit before `deadline` (a `clock()` time).
        """
        async with self._lock:
            while True:
                now = self.clock()
                wait = self._wait_needed(tokens, now)
                if wait <= 0:
                    ticket = Ticket(now, tokens)
                    self._events.append(ticket)
                    return ticket
                if now + wait > deadline:
                    raise LLMUnavailableError(
                        f"rate limit reached (requests {self.requests_per_minute or '-'}/min, tokens "
                        f"{self.tokens_per_minute or '-'}/min); the next slot is {wait:.1f} s away, after the deadline"
                    )
                await anyio.sleep(wait)

    def settle(self, ticket: Ticket, tokens: int) -> None:
        """Count what the call really used (the answer's usage), in place of what `acquire` reserved."""
        ticket.tokens = tokens
