"""The LLM service's state shared in Redis (fakeredis here; the deploy test uses a real redis-server)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import anyio
import fakeredis
import pytest

from codegen_lab.common import LLMUnavailableError
from codegen_lab.llm import (
    AnthropicBackend,
    CompletionRequest,
    LLMService,
    Message,
    RedisDown,
    RedisLink,
    ResponseCache,
    SharedLLMState,
)
from codegen_lab.llm.testing import FakeAnthropic

pytestmark = pytest.mark.anyio
ASK = CompletionRequest(messages=(Message("user", "Say hello"),), system="Be brief.", max_tokens=64)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(reply="Hello there, friend.") as server:
        yield server


def replica(fake: FakeAnthropic, folder: Path, redis: fakeredis.FakeServer, clock: Clock | None = None) -> LLMService:
    """One replica: its own SQLite cache, the Redis every replica shares."""
    backend = AnthropicBackend(api_key="sk-ant-test-key-0000", model="claude-sonnet-5-5", base_url=fake.url, timeout=10)
    client = fakeredis.FakeAsyncRedis(server=redis)
    link = RedisLink("redis://user:hunter2@redis.example:6379/0", client=client, clock=clock or Clock())
    folder.mkdir(parents=True, exist_ok=True)
    cache = ResponseCache(folder / "cache.sqlite3", ttl=3600, max_bytes=1_000_000)
    return LLMService(anthropic=backend, cache=cache, shared=SharedLLMState(link, ttl=3600))


async def test_replicas_share_validated_answers_answers_in_flight_and_usage(
    fake: FakeAnthropic, tmp_path: Path
) -> None:
    redis = fakeredis.FakeServer()
    first, second, third = (replica(fake, tmp_path / name, redis) for name in ("a", "b", "c"))
    asked = await first.complete(ASK, tool="generate_code", store=False)  # not validated yet: only in flight
    taken = await second.complete(ASK, tool="generate_code", store=False)
    assert len(fake.requests) == 1
    assert (asked.cached, taken.cached, taken.text) == (False, True, asked.text)
    first.remember(ASK, asked)  # validated: stored for the cache's TTL
    await anyio.wait_all_tasks_blocked()
    assert await redis_keys(redis) == {
        f"codegen-lab:answer:{asked.cache_key}",
        f"codegen-lab:flight:{asked.cache_key}",
        "codegen-lab:usage-tools",
        "codegen-lab:usage:generate_code",
    }
    ttl = await fakeredis.FakeAsyncRedis(server=redis).ttl(f"codegen-lab:answer:{asked.cache_key}")
    assert 0 < ttl <= 3600  # a shared answer expires with the cache's TTL
    await third.complete(ASK, tool="review_code")
    assert len(fake.requests) == 1
    report = await third.shared_usage_report()
    assert report["tools"]["generate_code"]["calls"] == 2
    assert report["tools"]["generate_code"]["cache_hits"] == 1
    assert report["tools"]["review_code"]["cache_hits"] == 1
    assert report["totals"]["calls"] == 3
    assert report["totals"]["input_tokens"] == asked.usage.input_tokens
    assert report["shared"]["redis"] == "ok"
    assert report["shared"]["url"] == "redis://user:[redacted]@redis.example:6379/0"
    assert report["shared"]["usage"] == "every replica's"
    assert third.usage_report()["totals"]["calls"] == 1  # each replica's own figures stay its own


async def test_two_replicas_asked_the_same_prompt_at_once_make_one_request(tmp_path: Path) -> None:
    redis = fakeredis.FakeServer()
    with FakeAnthropic(reply="Once.", delay=0.5) as slow:
        replicas = [replica(slow, tmp_path / str(number), redis) for number in range(3)]
        answers: list[str] = []

        async def ask(service: LLMService) -> None:
            answers.append((await service.complete(ASK, tool="t", store=False)).text)

        async with anyio.create_task_group() as group:
            for service in replicas:
                group.start_soon(ask, service)
        assert answers == ["Once."] * 3
        assert len(slow.requests) == 1


async def test_redis_down_falls_back_logs_once_and_comes_back(
    fake: FakeAnthropic, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    redis = fakeredis.FakeServer()
    clock = Clock()
    service = replica(fake, tmp_path / "a", redis, clock)
    shared = service.shared
    assert shared is not None
    redis.connected = False
    with caplog.at_level(logging.WARNING, logger="codegen_lab.llm"):
        for _ in range(3):
            await service.complete(ASK, tool="t")
            clock.now += 5  # past retry_after: every call tries Redis again, and fails
        report = await service.shared_usage_report()
        assert await shared.link.problem() is not None
        redis.connected = True
        clock.now += 5
        assert await shared.link.problem() is None
    assert len(fake.requests) == 1  # the local cache answered the second and third calls
    assert report["shared"]["redis"] == "degraded"
    assert report["shared"]["usage"] == "this replica's"
    assert report["totals"]["calls"] == 3
    messages = [record.getMessage() for record in caplog.records]
    assert len([m for m in messages if "is not answering" in m]) == 1
    assert len([m for m in messages if "answers again" in m]) == 1
    assert shared.link.outages == 1
    assert all("hunter2" not in message for message in messages)


async def test_within_retry_after_a_failed_redis_is_not_asked_again(tmp_path: Path) -> None:
    redis = fakeredis.FakeServer()
    clock = Clock()
    link = RedisLink("redis://localhost:1/0", client=fakeredis.FakeAsyncRedis(server=redis), clock=clock)
    calls: list[int] = []

    async def operation() -> int:
        calls.append(1)
        raise ConnectionError("refused")

    for _ in range(3):
        with pytest.raises(RedisDown, match="refused"):
            await link.run("test", operation)
    assert len(calls) == 2  # the first call tried twice (a stale connection gets one more try); the next two none
    assert link.status()["redis"] == "degraded"


async def redis_keys(redis: fakeredis.FakeServer) -> set[str]:
    client = fakeredis.FakeAsyncRedis(server=redis, decode_responses=True)
    return {str(key) for key in await client.keys("*")}


async def test_a_breaker_one_replica_opens_keeps_the_others_from_calling(fake: FakeAnthropic, tmp_path: Path) -> None:
    redis = fakeredis.FakeServer()
    first, second = (replica(fake, tmp_path / name, redis) for name in ("a", "b"))
    for service in (first, second):
        service.max_retries, service.breaker_threshold = 0, 2
    fake.fail(500, times=2)
    for _ in range(2):
        with pytest.raises(LLMUnavailableError, match="HTTP 500"):
            await first.complete(ASK, use_cache=False)
    with pytest.raises(LLMUnavailableError, match="anthropic: circuit open after repeated failures"):
        await second.complete(ASK, use_cache=False)  # its own breaker is closed: the shared one is open
    assert len(fake.requests) == 2
    assert second.breaker("anthropic").state == "closed"
    shared = first.shared
    assert shared is not None
    await shared.breaker_result("anthropic", failed=False, threshold=2, reset_after=30)  # a success elsewhere
    assert (await second.complete(ASK, use_cache=False)).text == "Hello there, friend."
