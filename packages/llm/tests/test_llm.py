from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from codegen_lab.common import LLMUnavailableError, Settings, UsageError
from codegen_lab.llm import (
    CompletionRequest,
    LLMService,
    Message,
    RateLimiter,
    ResponseCache,
    backoff,
    cache_key,
)
from codegen_lab.llm.testing import FakeAnthropic, FakeClock, fake_service

pytestmark = pytest.mark.anyio
CANARY = "sk-ant-canary-7f3c9b1e-do-not-leak"
ASK = CompletionRequest(messages=(Message("user", "Say hello"),), system="Be brief.", max_tokens=64)


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(reply="Hello there, friend.") as server:
        yield server


service = functools.partial(fake_service, api_key=CANARY)


@pytest.mark.slow
def test_the_default_model_is_current_in_the_installed_sdk() -> None:
    import typing

    from anthropic._data import DEPRECATED_MODELS
    from anthropic.types.model_param import ModelParam

    listed = {arg for member in typing.get_args(ModelParam) for arg in typing.get_args(member)}
    assert Settings().anthropic_model in listed
    assert Settings().anthropic_model not in DEPRECATED_MODELS


async def test_a_json_completion_through_the_real_sdk(fake: FakeAnthropic, tmp_path: Path) -> None:
    llm = service(fake, tmp_path)
    completion = await llm.complete(ASK, tool="demo_tool")
    assert completion.text == "Hello there, friend."
    assert (completion.backend, completion.model) == ("anthropic", "claude-sonnet-5-5")
    assert completion.usage.output_tokens > 0
    (request,) = fake.requests
    assert CANARY in (
        request.headers.get("x-api-key"),
        request.headers.get("authorization", "").removeprefix("Bearer "),
    )
    assert request.body["system"] == [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}]
    assert request.body["messages"] == [{"role": "user", "content": "Say hello"}]
    assert llm.usage_report()["tools"]["demo_tool"]["calls"] == 1


async def test_streaming_feeds_the_callback(fake: FakeAnthropic, tmp_path: Path) -> None:
    pieces: list[str] = []

    async def on_text(text: str) -> None:
        pieces.append(text)

    completion = await service(fake, tmp_path).complete(ASK, on_text=on_text)
    assert len(pieces) > 1
    assert "".join(pieces) == completion.text == "Hello there, friend."
    assert fake.requests[0].body["stream"] is True


@pytest.mark.parametrize("status", [429, 500, 529])
async def test_passing_failures_are_retried_honouring_retry_after(
    fake: FakeAnthropic, tmp_path: Path, status: int
) -> None:
    fake.fail(status, retry_after=0.05, times=2)
    completion = await service(fake, tmp_path).complete(ASK)
    assert completion.text == "Hello there, friend."
    assert len(fake.requests) == 3


def test_backoff_is_capped_and_follows_retry_after() -> None:
    assert backoff(1, 0.2) == 0.2
    assert backoff(1, 120) == 120  # the server's word; the call's deadline bounds it
    assert [backoff(attempt, None) for attempt in (1, 2, 3, 6)] == [0.5, 1.0, 2.0, 8.0]


async def test_a_permanent_failure_is_not_retried_and_the_error_is_clear(fake: FakeAnthropic, tmp_path: Path) -> None:
    fake.fail(400)
    with pytest.raises(LLMUnavailableError, match=r"^LLM unavailable: anthropic: HTTP 400 invalid_request_error$"):
        await service(fake, tmp_path).complete(ASK)
    assert len(fake.requests) == 1


async def test_a_repeated_call_is_served_by_the_cache(fake: FakeAnthropic, tmp_path: Path) -> None:
    llm = service(fake, tmp_path)
    first = await llm.complete(ASK, tool="t")
    second = await llm.complete(ASK, tool="t")
    assert (first.cached, second.cached) == (False, True)
    assert second.text == first.text
    assert len(fake.requests) == 1
    await llm.complete(ASK, use_cache=False)
    assert len(fake.requests) == 2
    other = CompletionRequest(messages=ASK.messages, system=ASK.system, max_tokens=65)
    assert cache_key("anthropic", "m", other) != cache_key("anthropic", "m", ASK)
    report = llm.usage_report()
    assert report["tools"]["t"]["cache_hits"] == 1
    assert report["cache"]["hits"] == 1


async def test_the_cache_expires_and_evicts_the_least_recently_used(tmp_path: Path) -> None:
    clock = FakeClock()
    from codegen_lab.llm import Completion

    answer = Completion(text="x" * 100, backend="anthropic", model="m")
    probe = ResponseCache(tmp_path / "probe.sqlite3", ttl=60, max_bytes=1_000_000, clock=clock)
    probe.put("k", answer)
    size = int(probe.stats()["bytes"])  # what one stored answer takes
    cache = ResponseCache(tmp_path / "c.sqlite3", ttl=60, max_bytes=size * 5 // 2, clock=clock)
    for index in range(3):
        cache.put(f"k{index}", answer)
        clock.now += 1
    assert cache.get("k0") is None  # evicted: three answers do not fit in the room of two and a half
    assert cache.get("k2") is not None
    clock.now += 61
    assert cache.get("k2") is None  # expired
    entries = cache.stats()["entries"]
    assert entries == 1  # k1: k0 was evicted, and k2 was removed when it was read after it expired
    assert cache.clear() == entries
    assert cache.stats()["entries"] == 0


async def test_the_breaker_opens_after_repeated_failures_and_closes_after_a_success(
    fake: FakeAnthropic, tmp_path: Path
) -> None:
    clock = FakeClock()
    llm = service(fake, tmp_path, max_retries=0, breaker_threshold=2, breaker_reset=30, clock=clock)
    fake.fail(500, times=2)
    for _ in range(2):
        with pytest.raises(LLMUnavailableError, match="HTTP 500"):
            await llm.complete(ASK, use_cache=False)
    with pytest.raises(LLMUnavailableError, match="anthropic: circuit open after repeated failures"):
        await llm.complete(ASK, use_cache=False)
    assert len(fake.requests) == 2
    assert llm.breaker("anthropic").state == "open"
    clock.now += 31
    assert llm.breaker("anthropic").state == "half-open"
    assert (await llm.complete(ASK, use_cache=False)).text == "Hello there, friend."
    assert llm.breaker("anthropic").state == "closed"


async def test_the_deadline_holds(tmp_path: Path) -> None:
    with FakeAnthropic(delay=30.0) as slow:  # far longer than the deadline, on a loaded machine too
        llm = service(slow, tmp_path, deadline=0.3)
        with anyio.fail_after(20), pytest.raises(LLMUnavailableError, match=r"within the deadline of 0\.3 s"):
            await llm.complete(ASK)


async def test_rate_limits_refuse_what_cannot_fit_before_the_deadline() -> None:
    clock = FakeClock()
    limiter = RateLimiter(requests_per_minute=1, clock=clock)
    await limiter.acquire(10, deadline=clock.now + 1)
    with pytest.raises(LLMUnavailableError, match="rate limit reached"):
        await limiter.acquire(10, deadline=clock.now + 1)
    clock.now += 60
    await limiter.acquire(10, deadline=clock.now + 1)
    tokens = RateLimiter(tokens_per_minute=100, clock=clock)
    with pytest.raises(LLMUnavailableError, match="exceeds the limit of 100 tokens a minute"):
        await tokens.acquire(500, deadline=clock.now + 1)


async def test_without_any_backend_the_error_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(LLMUnavailableError, match=r"set ANTHROPIC_API_KEY .* sampling"):
        await LLMService().complete(ASK)
    assert not LLMService().available()


async def test_the_key_appears_nowhere(fake: FakeAnthropic, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    llm = service(fake, tmp_path, max_retries=1)
    fake.fail(429, retry_after=0.01)
    completion = await llm.complete(ASK)
    fake.fail(401)
    with pytest.raises(LLMUnavailableError) as caught:
        await llm.complete(ASK, use_cache=False)
    seen = [record.getMessage() for record in caplog.records]
    seen += [str(caught.value), repr(llm.anthropic), str(llm.usage_report()), repr(completion)]
    assert all(CANARY not in text for text in seen)


def test_settings_build_the_service(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(f"{CANARY}\n", encoding="utf-8")
    settings = Settings(root=tmp_path, anthropic_key_file=key_file, cache_dir=tmp_path / "cache")
    llm = LLMService.from_settings(settings, environ={})
    assert llm.anthropic is not None
    assert llm.cache is not None
    assert llm.cache.path == tmp_path / "cache" / "llm-responses.sqlite3"
    assert LLMService.from_settings(Settings(root=tmp_path, cache_dir=tmp_path), environ={}).anthropic is None
    missing = Settings(root=tmp_path, anthropic_key_file=tmp_path / "nope", cache_dir=tmp_path)
    with pytest.raises(UsageError, match=r"anthropic-key-file .*nope: cannot be read"):
        LLMService.from_settings(missing, environ={})
