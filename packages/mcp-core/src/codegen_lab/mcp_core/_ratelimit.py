"""Rate limits per tool class: a token bucket for each class (`llm`, `tests`, `subprocess`) shared by its tools.

A tool declares its class (`Toolkit(..., rate_class=...)` or `@toolkit.tool(rate_class=...)`); the composed
server checks the class's bucket before every call of the tool, and a call over the limit is answered with a tool
error that names the class, the limit and when to retry. Each client also has a bucket per class of its own
(`client-rate-limits`), so that one client cannot spend what the server allows every client: a client is its
bearer token, else its MCP session, else its address; stdio serves one client. The rates themselves are parsed
by `codegen_lab.common` (`Rate`), so that settings validate them without this module.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from codegen_lab.common._rates import DEFAULT_CLIENT_RATE_LIMITS, DEFAULT_RATE_LIMITS, Rate
from codegen_lab.common.errors import RateLimitError

__all__ = [
    "CLIENT_SCOPE_KEY",
    "DEFAULT_CLIENT_RATE_LIMITS",
    "DEFAULT_RATE_LIMITS",
    "LOCAL_CLIENT",
    "Rate",
    "RateLimits",
    "TokenBucket",
    "caller_of",
    "client_of_scope",
]

CLIENT_SCOPE_KEY = "codegen_lab.client"
"""The ASGI scope key where `BearerAuth` puts the fingerprint of the request's token."""

LOCAL_CLIENT = "local"
"""The one client of a transport without requests of its own, such as stdio."""

_MAX_CLIENT_BUCKETS = 10_000


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

    def available(self) -> float:
        """The tokens in the bucket now (refilled to this moment), without taking one."""
        with self._lock:
            refill = (self._clock() - self._updated) * self.rate.calls / self.rate.seconds
            return min(float(self.rate.calls), self._tokens + max(refill, 0.0))

    def give_back(self) -> None:
        """Return the token of a call that did not happen after all."""
        with self._lock:
            self._tokens = min(float(self.rate.calls), self._tokens + 1.0)


class RateLimits:
    """One token bucket per tool class, shared by every tool of that class in a server, and one per client too.

    A call takes a token from its client's bucket of its class, then from the class's bucket; refused by either,
    it takes none.

    Args:
        limits: Each class's rate as text (`10/minute`, or `off`); classes not named are not limited.
        per_client: Each class's rate for one client, as text; classes not named have no limit per client.
        clock: Seconds from a monotonic clock (a test passes its own).

    Raises:
        ValueError: When a rate cannot be read.
    """

    def __init__(
        self,
        limits: Mapping[str, str],
        *,
        per_client: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        for name, text in limits.items():
            rate = Rate.parse(text)
            if rate is not None:
                self._buckets[name] = TokenBucket(rate, clock=clock)
        self._client_rates: dict[str, Rate] = {}
        for name, text in (per_client or {}).items():
            rate = Rate.parse(text)
            if rate is not None:
                self._client_rates[name] = rate
        self._clients: OrderedDict[tuple[str, str], TokenBucket] = OrderedDict()
        self._clients_lock = threading.Lock()

    def rate(self, rate_class: str) -> Rate | None:
        """The limit of `rate_class`, or None when it has none."""
        bucket = self._buckets.get(rate_class)
        return bucket.rate if bucket is not None else None

    def client_rate(self, rate_class: str) -> Rate | None:
        """The limit of `rate_class` for one client, or None when it has none."""
        return self._client_rates.get(rate_class)

    def state(self) -> dict[str, dict[str, Any]]:
        """Each limited class now: `{"limit", "available", "per_client", "clients"}`.

        `available` is the tokens left in the shared bucket, `per_client` the limit per client (or None), `clients`
        how many clients hold a bucket of that class.
        """
        with self._clients_lock:
            clients = [rate_class for rate_class, _ in self._clients]
        names = sorted(self._buckets.keys() | self._client_rates.keys())
        return {
            name: {
                "limit": bucket.rate.text if (bucket := self._buckets.get(name)) is not None else None,
                "available": round(bucket.available(), 3) if bucket is not None else None,
                "per_client": rate.text if (rate := self._client_rates.get(name)) is not None else None,
                "clients": clients.count(name),
            }
            for name in names
        }

    def check(self, rate_class: str | None, tool: str, client: str = LOCAL_CLIENT) -> None:
        """Count one call of `tool`, of class `rate_class` (None: not limited), by `client`.

        Raises:
            RateLimitError: When the client's or the class's limit is reached; nothing is counted then.
        """
        if rate_class is None:
            return
        own = self._client_bucket(rate_class, client)
        if own is not None:
            wait = own.take()
            if wait > 0:
                limit = f"{own.rate.text} per client"
                raise RateLimitError(
                    tool=tool, rate_class=rate_class, limit=limit, retry_after=wait, setting="client-rate-limits"
                )
        shared = self._buckets.get(rate_class)
        if shared is None:
            return
        wait = shared.take()
        if wait > 0:
            if own is not None:
                own.give_back()
            raise RateLimitError(tool=tool, rate_class=rate_class, limit=shared.rate.text, retry_after=wait)

    def _client_bucket(self, rate_class: str, client: str) -> TokenBucket | None:
        rate = self._client_rates.get(rate_class)
        if rate is None:
            return None
        key = (rate_class, client)
        with self._clients_lock:
            bucket = self._clients.get(key)
            if bucket is None:
                bucket = self._clients[key] = TokenBucket(rate, clock=self._clock)
                if len(self._clients) > _MAX_CLIENT_BUCKETS:
                    self._clients.popitem(last=False)  # the client that called least recently
            else:
                self._clients.move_to_end(key)
            return bucket


def client_of_scope(scope: Mapping[str, Any]) -> str:
    """Who sends an HTTP request, for the limits: its bearer token (set by `BearerAuth`), else its address."""
    identity = scope.get(CLIENT_SCOPE_KEY)
    if isinstance(identity, str):
        return identity
    client = scope.get("client")
    return f"address {client[0]}" if client else "address unknown"


def caller_of(context: Any) -> str:
    """Who makes a tool call, for the limits: its bearer token, else its MCP session, else its address.

    A call without an HTTP request (stdio, the in-memory client) is from `LOCAL_CLIENT`.
    """
    request: object = getattr(context, "request", None)
    scope: object = getattr(request, "scope", None)
    if not isinstance(scope, Mapping):
        return LOCAL_CLIENT
    http_scope: Mapping[str, Any] = scope  # pyright: ignore[reportUnknownVariableType]
    if isinstance(http_scope.get(CLIENT_SCOPE_KEY), str):
        return client_of_scope(http_scope)
    for key, value in http_scope.get("headers", ()):
        if key == b"mcp-session-id":
            return f"session {value.decode('latin-1')}"
    return client_of_scope(http_scope)
