"""The client's own model as a backend (MCP sampling), and the LLM usage that `server_info` reports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp_types import CreateMessageRequestParams, CreateMessageResult, TextContent

from codegen_lab.common import Settings
from codegen_lab.llm import CompletionRequest, LLMService, Message, ResponseCache
from codegen_lab.llm.testing import FakeAnthropic, fake_service
from codegen_lab.mcp_core import Context, ServerInfo, Toolkit, build_server, sampling_backend

pytestmark = pytest.mark.anyio
ASK = CompletionRequest(messages=(Message("user", "Say hello"),), system="Be brief.", max_tokens=64)


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(reply="Hello there, friend.") as server:
        yield server


def sampling_server(llm: LLMService, tmp_path: Path) -> Any:
    kit = Toolkit("demo")

    @kit.tool()
    async def ask(ctx: Context) -> dict[str, Any]:
        completion = await llm.complete(ASK, tool="demo_ask", session=ctx.session)
        return {"text": completion.text, "backend": completion.backend, "notes": list(completion.notes)}

    return build_server(Settings(root=tmp_path), [kit])


async def answer(context: Any, params: CreateMessageRequestParams) -> CreateMessageResult:
    assert params.system_prompt == "Be brief."
    return CreateMessageResult(
        role="assistant",
        content=TextContent(type="text", text="Hi from the client."),
        model="client-model",
        stop_reason="endTurn",
    )


async def test_sampling_asks_the_clients_own_model(tmp_path: Path) -> None:
    async with Client(
        sampling_server(LLMService(sampling=sampling_backend), tmp_path), mode="legacy", sampling_callback=answer
    ) as client:
        result = await client.call_tool("demo_ask", {})
    assert result.structured_content == {"text": "Hi from the client.", "backend": "sampling", "notes": []}


@pytest.mark.slow
async def test_an_outage_falls_back_to_sampling_and_says_so(fake: FakeAnthropic, tmp_path: Path) -> None:
    fake.fail(401)
    llm = fake_service(fake, tmp_path, sampling=sampling_backend)
    async with Client(sampling_server(llm, tmp_path), mode="legacy", sampling_callback=answer) as client:
        result = await client.call_tool("demo_ask", {})
    content = result.structured_content or {}
    assert content["backend"] == "sampling"
    assert content["notes"] == ["fell back: anthropic: HTTP 401 authentication_error"]


async def test_without_a_sampling_backend_the_clients_model_is_not_asked(tmp_path: Path) -> None:
    async with Client(sampling_server(LLMService(), tmp_path), mode="legacy", sampling_callback=answer) as client:
        result = await client.call_tool("demo_ask", {})
    assert result.is_error


async def test_server_info_reports_llm_usage(fake: FakeAnthropic, tmp_path: Path) -> None:
    llm = fake_service(fake, tmp_path)
    await llm.complete(ASK, tool="rules_review")
    async with Client(build_server(Settings(root=tmp_path), [], llm=llm)) as client:
        info = (await client.call_tool("server_info", {})).structured_content or {}
    assert info["llm"]["backends"] == ["anthropic"]
    assert info["llm"]["tools"]["rules_review"]["calls"] == 1
    assert info["llm"]["cache"]["misses"] == 1
    assert info["llm"]["tools"]["rules_review"]["cost_usd"] > 0
    assert info["llm"]["totals"]["cost_usd"] == info["llm"]["tools"]["rules_review"]["cost_usd"]
    assert info["llm"]["totals"]["cache_creation_input_tokens"] > 0  # the system prompt went to the prompt cache
    typed = ServerInfo.model_validate(info)  # what the tool's output schema says is what it sends
    assert typed.llm is not None
    assert (typed.llm.tools["rules_review"].calls, typed.llm.shared) == (1, None)


async def test_sampling_sends_model_preferences_and_caches_by_the_clients_model(tmp_path: Path) -> None:
    seen: list[CreateMessageRequestParams] = []
    models = iter(["client-model-a", "client-model-a", "client-model-b"])

    async def record(context: Any, params: CreateMessageRequestParams) -> CreateMessageResult:
        seen.append(params)
        return CreateMessageResult(
            role="assistant",
            content=TextContent(type="text", text="Hi from the client."),
            model=next(models),
            stop_reason="endTurn",
        )

    cache = ResponseCache(tmp_path / "cache.sqlite3", ttl=3600, max_bytes=1_000_000)
    llm = LLMService(sampling=sampling_backend, cache=cache)
    async with Client(sampling_server(llm, tmp_path), mode="legacy", sampling_callback=record) as client:
        await client.call_tool("demo_ask", {})
        await client.call_tool("demo_ask", {})  # the client said model a: its answer comes from the cache
    assert len(seen) == 1
    preferences = seen[0].model_preferences
    assert preferences is not None
    assert [hint.name for hint in preferences.hints or []] == ["claude-sonnet", "claude"]
    assert preferences.intelligence_priority == 0.8
    assert llm.usage_report()["tools"]["demo_ask"]["cache_hits"] == 1
    from codegen_lab.llm import cache_key

    assert cache.get(cache_key("sampling", "client-model-a", ASK)) is not None


async def test_a_sampled_answer_cut_at_max_tokens_is_a_tool_error(tmp_path: Path) -> None:
    async def cut(context: Any, params: CreateMessageRequestParams) -> CreateMessageResult:
        return CreateMessageResult(
            role="assistant", content=TextContent(type="text", text="Hi fr"), model="m", stop_reason="maxTokens"
        )

    async with Client(
        sampling_server(LLMService(sampling=sampling_backend), tmp_path), mode="legacy", sampling_callback=cut
    ) as client:
        result = await client.call_tool("demo_ask", {})
    assert result.is_error
    text = " ".join(getattr(item, "text", "") for item in result.content)
    assert "answer cut at 64 tokens" in text
