"""The failure matrix: every way the Messages API can misbehave, against the loopback fake.

Each failure is one line (`LLM unavailable: ...`), retried when a retry may help, counted by the breaker, and
never cached.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from codegen_lab.common import LLMUnavailableError
from codegen_lab.llm import AnthropicBackend, CompletionRequest, LLMService, Message, ResponseCache
from codegen_lab.llm.testing import FakeAnthropic, FakeClock, Misbehaviour, fake_service

pytestmark = pytest.mark.anyio
ASK = CompletionRequest(messages=(Message("user", "Say hello"),), system="Be brief.", max_tokens=64)
REPLY = "Hello there, my good friend, how are you today?"


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(reply=REPLY) as server:
        yield server


def service(fake: FakeAnthropic, tmp_path: Path, clock: FakeClock | None = None, **options: Any) -> LLMService:
    clock = clock or FakeClock()
    return fake_service(fake, tmp_path, clock=clock, sleep=clock.sleep, **options)


async def on_text(text: str) -> None:
    pass


CASES: list[tuple[Misbehaviour, bool, str]] = [
    ("cut", False, r"connection failed \(RemoteProtocolError\)"),
    ("cut", True, r"connection lost mid-answer \(RemoteProtocolError"),
    ("clean-cut", True, r"the answer ended before the model finished it \(no stop reason\)"),
    ("malformed-json", False, r"malformed JSON in the answer"),
    ("malformed-json", True, r"malformed JSON in the answer"),
    ("bad-sse", True, r"invalid answer \(IndexError"),
]


@pytest.mark.parametrize(("how", "stream"), [(how, stream) for how, stream, _ in CASES])
async def test_a_misbehaving_answer_is_retried_and_then_served(
    fake: FakeAnthropic, tmp_path: Path, how: Misbehaviour, stream: bool
) -> None:
    fake.misbehave(how)
    llm = service(fake, tmp_path)
    completion = await llm.complete(ASK, on_text=on_text if stream else None)
    assert completion.text == REPLY
    assert len(fake.requests) == 2
    assert llm.breaker("anthropic").state == "closed"


@pytest.mark.parametrize(("how", "stream", "message"), CASES)
async def test_a_misbehaving_answer_is_one_line_counted_and_not_cached(
    fake: FakeAnthropic, tmp_path: Path, how: Misbehaviour, stream: bool, message: str
) -> None:
    fake.misbehave(how, times=3)
    llm = service(fake, tmp_path, max_retries=2, breaker_threshold=1)
    with pytest.raises(
        LLMUnavailableError, match=rf"^LLM unavailable: anthropic: {message}.*\(after 3 attempts\)$"
    ) as caught:
        await llm.complete(ASK, on_text=on_text if stream else None)
    assert "\n" not in str(caught.value)
    assert len(fake.requests) == 3
    assert llm.breaker("anthropic").state == "open"
    assert llm.cache is not None
    assert llm.cache.stats()["entries"] == 0
    assert llm.usage_report()["tools"]["(direct)"]["failures"] == 1


async def test_a_retried_stream_starts_on_a_new_line_and_the_retry_is_a_warning(
    fake: FakeAnthropic, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake.misbehave("clean-cut")
    streamed: list[str] = []

    async def collect(text: str) -> None:
        streamed.append(text)

    completion = await service(fake, tmp_path).complete(ASK, on_text=collect)
    assert completion.text == REPLY
    shown = "".join(streamed)
    cut, retried = shown.split("\n", 1)  # what a terminal shows: the broken answer, then the retry on its own line
    assert REPLY.startswith(cut)
    assert cut != REPLY
    assert retried == REPLY
    retries = [r for r in caplog.records if "retry 1" in r.getMessage()]
    assert [r.levelname for r in retries] == ["WARNING"]


async def test_an_answer_cut_at_max_tokens_is_an_error_naming_the_setting(fake: FakeAnthropic, tmp_path: Path) -> None:
    for stream in (False, True):
        fake.misbehave("max_tokens")
        llm = service(fake, tmp_path)
        with pytest.raises(
            LLMUnavailableError,
            match=r"^LLM unavailable: anthropic: answer cut at 64 tokens \(stop reason max_tokens\); raise the "
            r"llm-max-tokens setting$",
        ):
            await llm.complete(ASK, on_text=on_text if stream else None)
        assert llm.breaker("anthropic").failures == 0  # the backend is healthy
        assert llm.cache is not None
        assert llm.cache.stats()["entries"] == 0
    assert len(fake.requests) == 2  # not retried


async def test_a_long_retry_after_is_honoured_within_the_deadline(fake: FakeAnthropic, tmp_path: Path) -> None:
    clock = FakeClock()
    fake.fail(429, retry_after=30)
    completion = await service(fake, tmp_path, clock, deadline=60).complete(ASK)
    assert completion.text == REPLY
    assert clock.slept == [30]


async def test_a_retry_after_past_the_deadline_fails_at_once(fake: FakeAnthropic, tmp_path: Path) -> None:
    clock = FakeClock()
    fake.fail(429, retry_after=30)
    with pytest.raises(
        LLMUnavailableError,
        match=r"^LLM unavailable: anthropic: HTTP 429 rate_limit_error; the server asked to wait 30 s, more than the "
        r"10\.0 s left before the deadline \(setting llm-timeout\)$",
    ):
        await service(fake, tmp_path, clock, deadline=10).complete(ASK)
    assert clock.slept == []
    assert len(fake.requests) == 1


async def test_a_burst_of_overloaded_answers_is_retried_with_backoff(fake: FakeAnthropic, tmp_path: Path) -> None:
    clock = FakeClock()
    fake.fail(529, times=3)
    llm = service(fake, tmp_path, clock)
    assert (await llm.complete(ASK)).text == REPLY
    assert clock.slept == [0.5, 1.0, 2.0]
    assert len(fake.requests) == 4
    fake.fail(529, times=4)
    with pytest.raises(LLMUnavailableError, match=r"^LLM unavailable: anthropic: HTTP 529 overloaded_error \(after 4"):
        await llm.complete(ASK, use_cache=False)
    assert llm.breaker("anthropic").failures == 1


async def test_a_hanging_server_meets_the_deadline(fake: FakeAnthropic, tmp_path: Path) -> None:
    fake.misbehave("hang")
    llm = LLMService(
        anthropic=AnthropicBackend(api_key="sk-test", model="claude-sonnet-5-5", base_url=fake.url),
        cache=ResponseCache(tmp_path / "c.sqlite3", ttl=60, max_bytes=100_000),
        deadline=0.5,
        breaker_threshold=1,
    )
    with (
        anyio.fail_after(20),
        pytest.raises(
            LLMUnavailableError, match=r"^LLM unavailable: anthropic: no answer within the deadline of 0\.5 s$"
        ),
    ):
        await llm.complete(ASK, on_text=on_text)
    assert len(fake.requests) == 1
    assert llm.breaker("anthropic").state == "open"
    assert llm.cache is not None
    assert llm.cache.stats()["entries"] == 0


async def test_the_deadline_starts_after_the_sdk_is_imported(fake: FakeAnthropic, tmp_path: Path) -> None:
    clock = FakeClock()
    llm = service(fake, tmp_path, clock, deadline=10)
    assert llm.anthropic is not None
    prepare = llm.anthropic.prepare

    def slow_import() -> None:
        clock.now += 30  # an import slower than the whole deadline
        prepare()

    llm.anthropic.prepare = slow_import  # pyright: ignore[reportAttributeAccessIssue]
    assert (await llm.complete(ASK)).text == REPLY
    assert len(fake.requests) == 1


async def test_the_system_prompt_is_cached_and_cache_reads_are_counted(fake: FakeAnthropic, tmp_path: Path) -> None:
    llm = service(fake, tmp_path)
    first = await llm.complete(ASK)
    second = await llm.complete(CompletionRequest(messages=(Message("user", "Again"),), system=ASK.system))
    assert first.usage.cache_creation_input_tokens > 0
    assert first.usage.cache_read_input_tokens == 0
    assert second.usage.cache_read_input_tokens > 0
    assert fake.requests[1].body["system"][0]["cache_control"] == {"type": "ephemeral"}
    totals = llm.usage_report()["totals"]
    assert totals["cache_read_input_tokens"] == second.usage.cache_read_input_tokens


async def test_costs_follow_the_price_table(fake: FakeAnthropic, tmp_path: Path) -> None:
    from codegen_lab.llm import PriceTable

    llm = service(fake, tmp_path, prices=PriceTable.with_overrides({"claude-sonnet-5": (1_000_000.0, 0.0)}))
    completion = await llm.complete(ASK, tool="t")
    usage = completion.usage
    expected = usage.input_tokens + usage.cache_creation_input_tokens * 1.25 + usage.cache_read_input_tokens * 0.1
    assert completion.cost_usd == pytest.approx(expected)
    assert llm.usage_report()["tools"]["t"]["cost_usd"] == pytest.approx(expected)
    assert llm.usage_report()["totals"]["cost_usd"] == pytest.approx(expected)
    hit = await llm.complete(ASK)
    assert (hit.cached, hit.cost_usd) == (True, 0.0)
    assert PriceTable.with_overrides().cost("gpt-unknown", usage) is None


async def test_an_answer_asked_not_to_be_stored_is_cached_only_when_remembered(
    fake: FakeAnthropic, tmp_path: Path
) -> None:
    llm = service(fake, tmp_path)
    first = await llm.complete(ASK, store=False)
    assert not (await llm.complete(ASK, store=False)).cached
    llm.remember(ASK, first)
    assert (await llm.complete(ASK)).cached
    assert len(fake.requests) == 2


async def test_rate_limits_count_the_tokens_the_answer_reports(fake: FakeAnthropic, tmp_path: Path) -> None:
    from codegen_lab.llm import RateLimiter

    clock = FakeClock()
    limiter = RateLimiter(tokens_per_minute=100_000, clock=clock)
    llm = service(fake, tmp_path, clock, limiter=limiter)
    completion = await llm.complete(ASK)
    spent = sum(event.tokens for event in limiter._events)  # pyright: ignore[reportPrivateUsage]
    assert spent == completion.usage.total_input_tokens + completion.usage.output_tokens


def test_an_unknown_model_is_warned_about_as_the_service_starts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import typing

    from anthropic.types.model_param import ModelParam

    from codegen_lab.common import Settings

    listed = {arg for member in typing.get_args(ModelParam) for arg in typing.get_args(member)}
    from codegen_lab.llm._backends import known_models

    assert known_models() == listed  # read from the SDK's source, without importing it
    settings = Settings(root=tmp_path, anthropic_model="claude-sonnet-9-typo", cache_dir=tmp_path)
    llm = LLMService.from_settings(settings, environ={"ANTHROPIC_API_KEY": "sk-test"})
    assert "'claude-sonnet-9-typo' is not one the installed anthropic SDK knows" in caplog.text
    assert llm.usage_report()["model_warning"] is not None
    known = AnthropicBackend(api_key="sk-test", model="claude-sonnet-5-5", base_url="http://127.0.0.1:9")
    assert known.model_warning is None
