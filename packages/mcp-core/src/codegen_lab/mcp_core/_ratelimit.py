"""Rate limits per tool class: a token bucket for each class (`llm`, `tests`, `subprocess`) shared by its tools.

A tool declares its class (`Toolkit(..., rate_class=...)` or `@toolkit.tool(rate_class=...)`); the composed
server checks the class's bucket before every call of the tool, and a call over the limit is answered with a tool
error that names the class, the limit and when to retry. The rates themselves are parsed by `codegen_lab.common`
(`Rate`), so that settings validate them without this module.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from codegen_lab.common._rates import DEFAULT_RATE_LIMITS, Rate
from codegen_lab.common.errors import RateLimitError

__all__ = ["DEFAULT_RATE_LIMITS", "Rate", "RateLimits", "TokenBucket"]


class TokenBucket:
    """Holds up to `rate.calls` tokens, refilled evenly over `rate.seconds`; each call takes one.

    Args:
        rate: The rate the bucket allows.
        clock: Seconds from a monotonic clock (a test passes its own).
    """

    def __init__(self, rate: Rate, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._tokens = float(rate.calls)
        self._updated = clock()
        self._lock = threading.Lock()

    def take(self) -> float:
        """Take a token for one call: 0.0 when there was one, else the seconds until there will be (none taken)."""
        with self._lock:
            now = self._clock()
            refill = (now - self._updated) * self.rate.calls / self.rate.seconds
            self._tokens = min(float(self.rate.calls), self._tokens + max(refill, 0.0))
            self._updated = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return 0.0
            return (1.0 - self._tokens) * self.rate.seconds / self.rate.calls


class RateLimits:
    """One token bucket per tool class, shared by every tool of that class in a server.

    Args:
        limits: Each class's rate as text (`10/minute`, or `off`); classes not named are not limited.
        clock: Seconds from a monotonic clock (a test passes its own).

    Raises:
        ValueError: When a rate cannot be read.
    """

    def __init__(self, limits: Mapping[str, str], *, clock: Callable[[], float] = time.monotonic) -> None:
        self._buckets: dict[str, TokenBucket] = {}
        for name, text in limits.items():
            rate = Rate.parse(text)
            if rate is not None:
                self._buckets[name] = TokenBucket(rate, clock=clock)

    def rate(self, rate_class: str) -> Rate | None:
        """The limit of `rate_class`, or None when it has none."""
        bucket = self._buckets.get(rate_class)
        return bucket.rate if bucket is not None else None

    def check(self, rate_class: str | None, tool: str) -> None:
        """Count one call of `tool`, of class `rate_class` (None: not limited).

        Raises:
            RateLimitError: When the class's limit is reached; nothing is counted then.
        """
        bucket = self._buckets.get(rate_class) if rate_class is not None else None
        if bucket is None:
            return
        wait = bucket.take()
        if wait > 0:
            raise RateLimitError(tool=tool, rate_class=rate_class or "", limit=bucket.rate.text, retry_after=wait)
