"""State that replicas share in Redis (setting `redis-url`), with local fallbacks while Redis is down.

`RedisLink` is the one connection of a process: every shared operation goes through `RedisLink.run`, which turns
any Redis failure into `RedisDown` so that the caller falls back to its local state. The first failure of an
outage is logged once (a warning), and for `retry_after` seconds after a failure no call waits on Redis again;
then the next call tries, and the first one that succeeds logs that Redis is back. redis-py reconnects by itself;
a failed operation is tried once more at once, since the first one after Redis restarted meets a stale connection.

The `redis` package (extra `codegen-lab-llm[redis]`) is imported when a link first talks to Redis.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from codegen_lab.common.errors import UsageError
from codegen_lab.common.tracing import span

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisDown", "RedisLink"]

logger = logging.getLogger(__name__)

Clock = Callable[[], float]


class RedisDown(Exception):
    """Redis did not answer (now, or recently enough that it is not asked again yet); use the local state."""


class RedisLink:
    """The Redis server the replicas share, and whether it answers.

    Args:
        url: `redis://HOST:PORT/DB` (`rediss://` with TLS, `unix://` for a socket).
        prefix: Put before every key, so that one Redis can hold several deployments.
        retry_after: Seconds after a failure during which no call waits on Redis.
        timeout: Seconds to connect, and to wait for one answer.
        clock: Seconds from a monotonic clock.
        client: A redis-py asyncio client to use (a test passes fakeredis's), else one is made from `url`.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "codegen-lab:",
        retry_after: float = 1.0,
        timeout: float = 0.5,
        clock: Clock = time.monotonic,
        client: Redis | None = None,
    ) -> None:
        self.url = url
        self.prefix = prefix
        self.retry_after = retry_after
        self.timeout = timeout
        self._clock = clock
        self._client: Redis | None = client
        self._failure: str | None = None
        self._next_try = 0.0
        self.outages = 0
        """How many times Redis stopped answering since the link was made."""

    @property
    def shown_url(self) -> str:
        """The URL without its password, for logs and reports."""
        return re.sub(r"(://[^/:@]*:)[^/@]*@", r"\1[redacted]@", self.url)

    @property
    def client(self) -> Redis:
        """The redis-py asyncio client, made on first use.

        Raises:
            UsageError: When the `redis` package is not installed.
        """
        if self._client is None:
            try:
                from redis.asyncio import Redis  # noqa: PLC0415
            except ImportError:
                raise UsageError(
                    "redis-url is set but the redis package is not installed",
                    hint="install codegen-lab-llm[redis] (codegen-lab-server installs it)",
                ) from None
            self._client = Redis.from_url(  # pyright: ignore[reportUnknownMemberType]
                self.url, socket_connect_timeout=self.timeout, socket_timeout=self.timeout, decode_responses=True
            )
        return self._client

    def key(self, *parts: str) -> str:
        """A key under the prefix: `key("usage", "generate_code")` is `codegen-lab:usage:generate_code`."""
        return self.prefix + ":".join(parts)

    @property
    def degraded(self) -> str | None:
        """Why Redis is not used now (its last failure), or None when it answers."""
        return self._failure

    async def run[T](self, what: str, operation: Callable[[], Awaitable[T]]) -> T:
        """The result of `operation`, which talks to Redis (`what` names it in the log).

        Raises:
            RedisDown: When Redis failed now, or failed less than `retry_after` seconds ago.
        """
        if self._failure is not None and self._clock() < self._next_try:
            raise RedisDown(self._failure)
        outage, refused = _redis_errors()
        try:
            with span(f"redis {what}", db_system_name="redis"):
                try:
                    result = await operation()
                except outage:
                    # once more at once: after Redis restarted, the pool's first connection is a stale one
                    result = await operation()
        except outage as exc:
            self._failed(what, exc)
            raise RedisDown(self._failure) from None
        except refused as exc:  # Redis answered, with an error: no outage, this operation falls back
            logger.warning("Redis at %s refused %s: %s", self.shown_url, what, exc)
            raise RedisDown(f"{type(exc).__name__}: {exc}"[:200]) from None
        if self._failure is not None:
            logger.warning("Redis at %s answers again: state is shared again", self.shown_url)
            self._failure = None
        return result

    def _failed(self, what: str, exc: BaseException) -> None:
        reason = f"{type(exc).__name__}: {exc}"[:200] or type(exc).__name__
        if self._failure is None:
            self.outages += 1
            logger.warning(
                "Redis at %s is not answering (%s, during %s): rate limits, the LLM cache and usage are local "
                "until it is back",
                self.shown_url,
                reason,
                what,
            )
        self._failure = reason
        self._next_try = self._clock() + self.retry_after

    async def problem(self) -> str | None:
        """What is wrong with Redis now (`redis: ...`), or None when it answers a PING; for `/readyz`."""
        if self._failure is not None and self._clock() < self._next_try:
            return f"redis at {self.shown_url}: {self._failure}"
        try:
            await self.run("ping", self._ping)
        except RedisDown as exc:
            return f"redis at {self.shown_url}: {exc}"
        return None

    async def _ping(self) -> Any:
        return await self.client.ping()  # pyright: ignore[reportUnknownMemberType]

    def status(self) -> dict[str, Any]:
        """`ok` or `degraded` (with why), the URL without its password and the outages so far; for reports."""
        return {
            "redis": "degraded" if self._failure is not None else "ok",
            "url": self.shown_url,
            "reason": self._failure,
            "outages": self.outages,
        }

    async def close(self) -> None:
        """Close the connections, if any were opened."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _redis_errors() -> tuple[tuple[type[BaseException], ...], type[BaseException]]:
    """What a Redis call raises when the server is down or slow, and when it answers with an error."""
    from redis import exceptions  # noqa: PLC0415

    return (exceptions.ConnectionError, exceptions.TimeoutError, OSError, TimeoutError), exceptions.RedisError
