"""The LLM service's state in Redis: validated answers, answers in flight, single-flight locks, usage totals.

- `answer:<key>`: a validated answer (what `ResponseCache` holds locally), for the cache's TTL.
- `flight:<key>`: the last answer the API gave for a prompt, for a short while: a replica that waited on the
  prompt's lock, or that asks it just after, takes it instead of asking the API again (it validates it itself;
  only validated answers go to `answer:`).
- `lock:<key>`: held by the replica asking the API for an uncached prompt (single-flight).
- `breaker:<backend>`: failures in a row over the replicas (`failures`) and until when the breaker is open
  (`open_until`, Unix time), so that one replica's breaker opening keeps the others from calling too.
- `usage:<tool>`: the usage counters of each tool, summed over the replicas; `usage-tools` lists the tools.

Every call goes through `RedisLink.run`: when Redis is down each raises `RedisDown` and the service uses its
local state.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from codegen_lab.llm._cache import decode_completion, encode_completion
from codegen_lab.llm._shared import RedisDown, RedisLink

if TYPE_CHECKING:
    from codegen_lab.llm._spending import ToolUsage
    from codegen_lab.llm._types import Completion

__all__ = ["FLIGHT_SECONDS", "SharedLLMState"]

FLIGHT_SECONDS = 120
"""How long an answer in flight is kept for the replicas that ask the same prompt."""

_INT_FIELDS = (
    "calls",
    "cache_hits",
    "failures",
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "unpriced",
)
_FLOAT_FIELDS = ("cost_usd", "latency_seconds")


class SharedLLMState:
    """The LLM service's shared state on one `RedisLink`.

    Args:
        link: The Redis server.
        ttl: Seconds a validated answer stays (the `llm-cache-ttl` setting).
    """

    def __init__(self, link: RedisLink, *, ttl: float) -> None:
        self.link = link
        self.ttl = ttl
        self.hits = 0
        self.misses = 0

    async def answer(self, key: str) -> Completion | None:
        """The validated answer to the prompt of `key`, else the one in flight, else None.

        Raises:
            RedisDown: When Redis does not answer.
        """
        client = self.link.client

        async def fetch() -> list[bytes | str | None]:
            return await client.mget([self.link.key("answer", key), self.link.key("flight", key)])  # pyright: ignore[reportUnknownMemberType]

        found = next((value for value in await self.link.run("cache lookup", fetch) if value is not None), None)
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        return decode_completion(_text(found), key)

    async def keep(self, key: str, completion: Completion, *, validated: bool) -> None:
        """Store an answer: validated for the cache's TTL, else in flight for `FLIGHT_SECONDS`.

        Raises:
            RedisDown: When Redis does not answer.
        """
        name = self.link.key("answer" if validated else "flight", key)
        seconds = max(1, round(self.ttl)) if validated else FLIGHT_SECONDS
        value = encode_completion(completion)
        client = self.link.client

        async def store() -> object:
            return await client.set(name, value, ex=seconds)  # pyright: ignore[reportUnknownMemberType]

        await self.link.run("cache store", store)

    @asynccontextmanager
    async def single_flight(self, key: str, *, seconds: float) -> AsyncGenerator[bool]:
        """Hold the lock of the prompt of `key` (up to `seconds`); yields whether it is held.

        Yields False, and the caller goes on alone, when Redis is down or the lock was not freed in time.
        """
        lock = self.link.client.lock(self.link.key("lock", key), timeout=seconds + 30, blocking_timeout=seconds)
        try:
            held = bool(await self.link.run("single-flight lock", lock.acquire))
        except RedisDown:
            held = False
        try:
            yield held
        finally:
            if held:
                with contextlib.suppress(RedisDown):  # else it expires by itself
                    await self.link.run("single-flight unlock", lock.release)

    async def breaker_open(self, backend: str) -> bool:
        """Whether a replica opened the breaker of `backend` and it has not reset yet.

        Raises:
            RedisDown: When Redis does not answer.
        """
        client = self.link.client

        async def read() -> object:
            return await client.hget(self.link.key("breaker", backend), "open_until")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType, reportGeneralTypeIssues]

        until = await self.link.run("breaker state", read)
        return until is not None and float(_text(until)) > time.time()  # pyright: ignore[reportArgumentType]

    async def breaker_result(self, backend: str, *, failed: bool, threshold: int, reset_after: float) -> None:
        """Count a failure of `backend` (opening the shared breaker at `threshold` in a row), or a success.

        Raises:
            RedisDown: When Redis does not answer.
        """
        name = self.link.key("breaker", backend)
        client = self.link.client

        async def record() -> object:
            if not failed:
                return await client.delete(name)
            failures = int(await client.hincrby(name, "failures", 1))  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType, reportGeneralTypeIssues]
            if failures >= threshold:
                await client.hset(name, "open_until", str(time.time() + reset_after))  # pyright: ignore[reportUnknownMemberType, reportGeneralTypeIssues]
            return await client.expire(name, max(1, round(reset_after * 4)))

        await self.link.run("breaker state", record)

    async def add_usage(self, tool: str, delta: ToolUsage) -> None:
        """Add what one call of `tool` spent to the shared totals.

        Raises:
            RedisDown: When Redis does not answer.
        """
        name = self.link.key("usage", tool)
        client = self.link.client

        async def add() -> object:
            pipe = client.pipeline(transaction=True)
            pipe.sadd(self.link.key("usage-tools"), tool)  # pyright: ignore[reportUnusedCoroutine, reportUnknownMemberType]
            for field in _INT_FIELDS:
                if value := getattr(delta, field):
                    pipe.hincrby(name, field, value)  # pyright: ignore[reportUnusedCoroutine, reportUnknownMemberType]
            for field in _FLOAT_FIELDS:
                if value := getattr(delta, field):
                    pipe.hincrbyfloat(name, field, value)  # pyright: ignore[reportUnusedCoroutine, reportUnknownMemberType]
            return await pipe.execute()

        await self.link.run("usage counters", add)

    async def usage(self) -> dict[str, dict[str, Any]]:
        """Each tool's usage summed over the replicas, as `ToolUsage` fields.

        Raises:
            RedisDown: When Redis does not answer.
        """
        client = self.link.client

        async def read() -> dict[str, dict[str, Any]]:
            tools: set[bytes | str] = await client.smembers(self.link.key("usage-tools"))  # pyright: ignore[reportUnknownMemberType, reportGeneralTypeIssues]
            names = sorted(_text(name) for name in tools)
            pipe = client.pipeline(transaction=False)
            for tool in names:
                pipe.hgetall(self.link.key("usage", tool))  # pyright: ignore[reportUnusedCoroutine, reportUnknownMemberType]
            rows: list[dict[bytes | str, bytes | str]] = await pipe.execute()  # one round trip for every tool
            found: dict[str, dict[str, Any]] = {}
            for tool, raw in zip(names, rows, strict=True):
                values = {_text(name): _text(value) for name, value in raw.items()}
                found[tool] = {field: int(values.get(field, 0)) for field in _INT_FIELDS}
                found[tool].update({field: float(values.get(field, 0.0)) for field in _FLOAT_FIELDS})
            return found

        return await self.link.run("usage report", read)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
