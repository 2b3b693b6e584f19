"""Rate limits per tool class: a token bucket for each class (`llm`, `tests`, `subprocess`) shared by its tools.

A tool declares its class (`Toolkit(..., rate_class=...)` or `@toolkit.tool(rate_class=...)`); the composed
server checks the class's bucket before every call of the tool, and a call over the limit is answered with a tool
error that names the class, the limit and when to retry. Each client also has a bucket per class of its own
(`client-rate-limits`), so that one client cannot spend what the server allows every client: a client is its
bearer token, else its MCP session, else its address; stdio serves one client. The rates themselves are parsed
by `codegen_lab.common` (`Rate`), so that settings validate them without this module.

With a `RedisLink` (setting `redis-url`), the limits are counted in Redis by the `limits` library (a moving
window per class and per client, its async Redis storage), so that N/minute allows N calls over every replica;
while Redis is down each process falls back to its own buckets.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from codegen_lab.common._rates import DEFAULT_CLIENT_RATE_LIMITS, DEFAULT_RATE_LIMITS, Rate
from codegen_lab.common.errors import RateLimitError

if TYPE_CHECKING:
    from limits import RateLimitItem
    from limits.aio.strategies import MovingWindowRateLimiter
    from redis.asyncio import ConnectionPool

    from codegen_lab.llm import RedisLink

__all__ = [
    "CLIENT_SCOPE_KEY",
    "DEFAULT_CLIENT_RATE_LIMITS",
    "DEFAULT_RATE_LIMITS",
    "LOCAL_CLIENT",
    "Rate",
    "RateLimits",
    "SharedRates",
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
        shared: The Redis the replicas share: the limits count there while it answers.

    Raises:
        ValueError: When a rate cannot be read.
    """

    def __init__(
        self,
        limits: Mapping[str, str],
        *,
        per_client: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        shared: RedisLink | None = None,
    ) -> None:
        self._clock = clock
        self.shared = SharedRates(shared) if shared is not None else None
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

    async def close(self) -> None:
        """Close the connections the shared limits opened to Redis, if any (the server does as it shuts down)."""
        if self.shared is not None:
            await self.shared.close()

    async def acheck(self, rate_class: str | None, tool: str, client: str = LOCAL_CLIENT) -> None:
        """`check`, counted in Redis when the limits are shared, else (or while Redis is down) in this process.

        Raises:
            RateLimitError: When the client's or the class's limit is reached.
        """
        if rate_class is None:
            return
        if self.shared is not None:
            from codegen_lab.llm import RedisDown  # noqa: PLC0415

            try:
                await self.shared.check(self, rate_class, tool, client)
            except RedisDown:
                pass  # logged once by the link: this process's buckets count meanwhile
            else:
                return
        self.check(rate_class, tool, client)

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


class SharedRates:
    """The limits of a `RateLimits`, counted in Redis: a moving window per class, and per class and client.

    The `limits` storage talks to Redis through a connection pool of its own, opened on first use and closed by
    `close()`.

    Args:
        link: The Redis the replicas share.
    """

    def __init__(self, link: RedisLink) -> None:
        self.link = link
        self._limiter: MovingWindowRateLimiter | None = None
        self._pool: ConnectionPool | None = None
        self._items: dict[str, RateLimitItem] = {}

    @property
    def limiter(self) -> MovingWindowRateLimiter:
        """The `limits` moving-window limiter on its async Redis storage (redis-py), made on first use."""
        if self._limiter is None:
            from limits.aio.storage import RedisStorage  # noqa: PLC0415
            from limits.aio.strategies import MovingWindowRateLimiter  # noqa: PLC0415
            from redis.asyncio import ConnectionPool  # noqa: PLC0415

            # a pool of ours, which the storage uses and `close` closes (the storage itself has no way to)
            self._pool = ConnectionPool.from_url(  # pyright: ignore[reportUnknownMemberType]
                self.link.url, socket_connect_timeout=self.link.timeout, socket_timeout=self.link.timeout
            )
            storage = RedisStorage(
                f"async+{self.link.url}",
                implementation="redispy",
                key_prefix=self.link.key("rate"),
                connection_pool=self._pool,  # pyright: ignore[reportArgumentType] - passed on to redis-py's client
            )
            self._limiter = MovingWindowRateLimiter(storage)
        return self._limiter

    async def close(self) -> None:
        """Close the connections to Redis; the next check opens new ones."""
        pool, self._pool, self._limiter = self._pool, None, None
        if pool is not None:
            await pool.aclose()

    def item(self, rate: Rate) -> RateLimitItem:
        """The `limits` item of `rate`."""
        found = self._items.get(rate.text)
        if found is None:
            from limits import parse  # noqa: PLC0415

            found = self._items[rate.text] = parse(rate.text)
        return found

    async def check(self, limits: RateLimits, rate_class: str, tool: str, client: str) -> None:
        """Count one call of `tool` by `client` against the shared windows of `rate_class`.

        A refused call takes nothing from either window: the client's window is tested first (a client over its
        own limit takes nothing from the class's), then the class's window is hit (a call it refuses takes
        nothing from the client's), then the client's. Only when two calls of the same client race for the last
        place in its window, on two replicas at once, can the loser have taken a place in the class's window.

        Raises:
            RateLimitError: When a window is full.
            RedisDown: When Redis does not answer.
        """
        limiter = self.limiter
        own, shared = limits.client_rate(rate_class), limits.rate(rate_class)
        if own is not None and not await self.link.run(
            "rate limit", lambda: limiter.test(self.item(own), rate_class, client)
        ):
            raise await self._refusal(tool, rate_class, own, client)
        if shared is not None and not await self.link.run(
            "rate limit", lambda: limiter.hit(self.item(shared), rate_class)
        ):
            raise await self._refusal(tool, rate_class, shared)
        if own is not None and not await self.link.run(
            "rate limit", lambda: limiter.hit(self.item(own), rate_class, client)
        ):
            raise await self._refusal(tool, rate_class, own, client)

    async def _refusal(self, tool: str, rate_class: str, rate: Rate, client: str | None = None) -> RateLimitError:
        """The error of a call refused by the window of `rate` (the client's when `client` is given)."""
        identifiers = (rate_class,) if client is None else (rate_class, client)
        limiter = self.limiter
        stats = await self.link.run("rate limit", lambda: limiter.get_window_stats(self.item(rate), *identifiers))
        wait = max(round(stats.reset_time - time.time(), 1), 0.1)
        if client is None:
            return RateLimitError(tool=tool, rate_class=rate_class, limit=rate.text, retry_after=wait)
        return RateLimitError(
            tool=tool,
            rate_class=rate_class,
            limit=f"{rate.text} per client",
            retry_after=wait,
            setting="client-rate-limits",
        )
