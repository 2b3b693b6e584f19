"""Rate limits per tool class: a token bucket for each class (`llm`, `tests`, `subprocess`) shared by its tools.

A tool declares its class (`Toolkit(..., rate_class=...)` or `@toolkit.tool(rate_class=...)`); the composed
server checks the class's bucket before every call of the tool, and a call over the limit is answered with a tool
error that names the class, the limit and when to retry. This module imports nothing of MCP, so that `Settings`
can validate the limits without it.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from codegen_lab.mcp_core.errors import RateLimitError

__all__ = ["DEFAULT_RATE_LIMITS", "Rate", "RateLimits", "TokenBucket"]

DEFAULT_RATE_LIMITS: Mapping[str, str] = {"llm": "30/minute", "tests": "10/minute", "subprocess": "60/minute"}
"""The limit of each tool class when the settings do not say otherwise."""

_UNITS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour|day)s?\s*$", re.IGNORECASE)
_OFF = "off"


@dataclass(frozen=True, slots=True)
class Rate:
    """At most `calls` calls in `seconds`, with bursts of up to `calls`.

    Attributes:
        calls: Calls allowed per period, also the largest burst.
        seconds: The period.
        text: The rate as written, such as `10/minute`.
    """

    calls: int
    seconds: float
    text: str

    @classmethod
    def parse(cls, text: str) -> Rate | None:
        """The rate `text` says (`N/second`, `N/minute`, `N/hour`, `N/day`), or None for `off` (no limit).

        Raises:
            ValueError: When `text` is neither a rate nor `off`, or allows no call at all.
        """
        if text.strip().lower() == _OFF:
            return None
        match = _RATE.match(text)
        if match is None:
            raise ValueError(f"{text!r} is not a rate: write N/second, N/minute, N/hour or N/day, or {_OFF}")
        calls = int(match.group(1))
        if calls < 1:
            raise ValueError(f"{text!r} allows no call at all: write at least 1 per period, or {_OFF}")
        return cls(calls=calls, seconds=_UNITS[match.group(2).lower()], text=f"{calls}/{match.group(2).lower()}")

    def __str__(self) -> str:
        return self.text


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
