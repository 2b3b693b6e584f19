from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client
from mcp_types import TextContent

from codegen_lab.common import RateLimitError, Settings, SettingsError, ToolkitError, load_settings
from codegen_lab.mcp_core import RateLimits, Toolkit, build_server
from codegen_lab.mcp_core._ratelimit import CLIENT_SCOPE_KEY, LOCAL_CLIENT, Rate, TokenBucket, caller_of


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("text", "calls", "seconds"),
    [("10/minute", 10, 60.0), ("1/second", 1, 1.0), (" 5 / Hours ", 5, 3600.0), ("100/day", 100, 86400.0)],
)
def test_rates_are_read_from_text(text: str, calls: int, seconds: float) -> None:
    rate = Rate.parse(text)
    assert rate is not None
    assert (rate.calls, rate.seconds) == (calls, seconds)


def test_off_means_no_limit_and_nonsense_is_refused() -> None:
    assert Rate.parse("off") is None
    with pytest.raises(ValueError, match=r"'ten a minute' is not a rate: write N/second, N/minute"):
        Rate.parse("ten a minute")
    with pytest.raises(ValueError, match="allows no call at all"):
        Rate.parse("0/minute")


def test_a_bucket_allows_a_burst_then_refills_evenly() -> None:
    clock = FakeClock()
    bucket = TokenBucket(Rate(calls=3, seconds=60.0, text="3/minute"), clock=clock)
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take() == pytest.approx(20.0)
    clock.now += 15
    assert bucket.take() == pytest.approx(5.0)  # a refused call takes nothing
    clock.now += 5
    assert bucket.take() == 0.0
    assert bucket.take() == pytest.approx(20.0)
    clock.now += 3600
    assert [bucket.take() for _ in range(4)][-1] == pytest.approx(20.0)  # never more than the burst


def test_each_class_has_its_own_bucket_and_the_error_says_when_to_retry() -> None:
    clock = FakeClock()
    limits = RateLimits({"tests": "1/minute", "llm": "2/minute", "subprocess": "off"}, clock=clock)
    limits.check("tests", "testgen_run")
    with pytest.raises(RateLimitError) as caught:
        limits.check("tests", "testgen_coverage")
    assert (caught.value.rate_class, caught.value.limit) == ("tests", "1/minute")
    assert caught.value.retry_after == pytest.approx(60.0)
    assert str(caught.value) == (
        "rate limit reached: 'testgen_coverage' is in the tool class 'tests', limited to 1/minute "
        "(setting rate-limits); retry in 60.0 s"
    )
    limits.check("llm", "generate_code")
    for _ in range(100):
        limits.check("subprocess", "ws_run")
        limits.check(None, "server_info")
        limits.check("unknown", "other")
    assert limits.rate("subprocess") is None


def test_each_client_has_its_own_bucket_besides_the_shared_one() -> None:
    clock = FakeClock()
    limits = RateLimits({"tests": "3/minute"}, per_client={"tests": "2/minute"}, clock=clock)
    limits.check("tests", "testgen_run", "token a")
    limits.check("tests", "testgen_run", "token a")
    with pytest.raises(RateLimitError) as caught:
        limits.check("tests", "testgen_run", "token a")
    assert (caught.value.limit, caught.value.setting) == ("2/minute per client", "client-rate-limits")
    assert "limited to 2/minute per client (setting client-rate-limits); retry in 30.0 s" in str(caught.value)
    limits.check("tests", "testgen_run", "token b")  # a's bucket is empty, b's is not
    with pytest.raises(RateLimitError) as shared:  # the server's bucket is empty now: 3 calls in all
        limits.check("tests", "testgen_run", "token c")
    assert shared.value.setting == "rate-limits"
    clock.now += 20  # one call back in the shared bucket: c's refused call took none of c's own
    limits.check("tests", "testgen_run", "token c")
    assert limits.client_rate("tests") is not None
    assert limits.client_rate("llm") is None


def test_limits_come_from_the_user_config_and_the_environment_over_the_defaults(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"  # a user-only setting: a repository's pyproject.toml cannot set it
    config.write_text('rate-limits = { tests = "2/minute", lint = "5/second" }\n', encoding="utf-8")
    assert Settings().rate_limits == {"llm": "30/minute", "tests": "10/minute", "subprocess": "60/minute"}
    from_file = load_settings(tmp_path, environ={"CODEGEN_LAB_CONFIG": str(config)})
    assert from_file.rate_limits == {
        "llm": "30/minute",
        "tests": "2/minute",
        "subprocess": "60/minute",
        "lint": "5/second",
    }
    from_env = load_settings(
        tmp_path, environ={"CODEGEN_LAB_CONFIG": str(config), "CODEGEN_LAB_RATE_LIMITS": '{"llm": "off"}'}
    )
    assert from_env.rate_limits["llm"] == "off"
    assert from_env.rate_limits["tests"] == "10/minute"  # the variable replaces the file's table


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('{"tests": "lots"}', "class 'tests': 'lots' is not a rate"),
        ("tests=3", "Input should be a valid dictionary"),
    ],
)
def test_a_bad_limit_names_the_variable(tmp_path: Path, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match="environment variable CODEGEN_LAB_RATE_LIMITS") as caught:
        load_settings(tmp_path, environ={"CODEGEN_LAB_RATE_LIMITS": value})
    assert message in str(caught.value)


def test_a_rate_class_must_be_a_plain_name() -> None:
    with pytest.raises(ToolkitError, match="rate class 'Tests!' must start with a lowercase letter"):
        Toolkit("demo", rate_class="Tests!")


def classed_toolkit() -> Toolkit:
    kit = Toolkit("demo", rate_class="tests")

    @kit.tool()
    def run() -> str:
        return "ran"

    @kit.tool(rate_class="llm")
    def ask() -> str:
        return "answered"

    return kit


def test_a_tool_takes_its_toolkits_class_unless_it_names_its_own() -> None:
    assert {spec.name: spec.rate_class for spec in classed_toolkit().tools} == {"demo_run": "tests", "demo_ask": "llm"}


@pytest.mark.anyio
async def test_a_call_over_the_limit_is_a_tool_error_and_calls_fit_again_later(tmp_path: Path) -> None:
    settings = Settings(root=tmp_path, state_dir=tmp_path / "state", rate_limits={"tests": "2/minute"})
    clock = FakeClock()
    server = build_server(settings, [classed_toolkit()], rate_limits=RateLimits(settings.rate_limits, clock=clock))
    async with Client(server) as client:
        first = [await client.call_tool("demo_run", {}) for _ in range(2)]
        refused = await client.call_tool("demo_run", {})
        other_class = await client.call_tool("demo_ask", {})
        unclassed = await client.call_tool("server_info", {})
        clock.now += 30
        again = await client.call_tool("demo_run", {})
        info = (await client.call_tool("server_info", {})).structured_content or {}
    assert [result.is_error for result in first] == [False, False]
    assert refused.is_error
    block = refused.content[0]
    assert isinstance(block, TextContent)
    assert block.text == (
        "rate limit reached: 'demo_run' is in the tool class 'tests', limited to 2/minute (setting rate-limits); "
        "retry in 30.0 s"
    )
    assert not other_class.is_error
    assert not unclassed.is_error
    assert not again.is_error
    assert again.structured_content == {"result": "ran"}
    assert info["rate_limits"] == {"llm": "30/minute", "tests": "2/minute", "subprocess": "60/minute"}
    assert info["toolkits"][1]["rate_class"] == "tests"
    assert info["toolkits"][1]["rate_classes"] == {"demo_ask": "llm"}  # only the tools not in the toolkit's class
    assert info["toolkits"][0]["rate_class"] is None  # server_info is not limited


class _Request:
    def __init__(self, scope: dict[str, object]) -> None:
        self.scope = scope


class _Context:
    """What `caller_of` reads of the SDK's `ServerRequestContext`: the HTTP request, None without one."""

    def __init__(self, request: object) -> None:
        self.request = request


def test_the_caller_is_the_token_else_the_session_else_the_address_and_stdio_is_one_client() -> None:
    session = [(b"mcp-session-id", b"abc")]
    assert caller_of(_Context(None)) == LOCAL_CLIENT  # stdio, the in-memory client
    assert caller_of(object()) == LOCAL_CLIENT
    assert caller_of(_Context(_Request({CLIENT_SCOPE_KEY: "token 1f2e", "headers": session}))) == "token 1f2e"
    assert caller_of(_Context(_Request({"headers": session, "client": ("10.0.0.9", 5)}))) == "session abc"
    assert caller_of(_Context(_Request({"headers": [], "client": ("10.0.0.9", 5)}))) == "address 10.0.0.9"


def test_the_state_shows_each_class_with_the_tokens_left_and_the_clients_holding_buckets() -> None:
    clock = FakeClock()
    limits = RateLimits(
        {"tests": "3/minute", "llm": "off"}, per_client={"tests": "2/minute", "ws": "5/hour"}, clock=clock
    )
    limits.check("tests", "testgen_run", "token a")
    limits.check("tests", "testgen_run", "token b")
    assert limits.state() == {
        "tests": {"limit": "3/minute", "available": 1.0, "per_client": "2/minute", "clients": 2},
        "ws": {"limit": None, "available": None, "per_client": "5/hour", "clients": 0},
    }
    clock.now += 30  # half a minute: 1.5 tokens back
    assert limits.state()["tests"]["available"] == 2.5
