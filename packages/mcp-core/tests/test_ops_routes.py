"""`/healthz`, `/readyz` and `/metrics` of the HTTP app, driven in process through httpx's ASGI transport."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from mcp import Client
from prometheus_client.parser import text_string_to_metric_families

from codegen_lab.common import Settings, UsageError
from codegen_lab.mcp_core import Toolkit, build_server, http_app
from codegen_lab.mcp_core._telemetry import Histogram, telemetry_of

READ = "r" * 24


def _toolkit() -> Toolkit:
    toolkit = Toolkit("demo", description="Demo tools.", rate_class="tests")

    @toolkit.tool()
    def demo_ok() -> str:
        """Succeed."""
        return "fine"

    @toolkit.tool()
    def demo_bad(name: str) -> str:
        """Refuse the argument."""
        raise UsageError(f"argument name: {name!r} is not known")

    @toolkit.tool()
    def demo_crash() -> str:
        """Fail unexpectedly."""
        raise RuntimeError("boom")

    return toolkit


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return found


@pytest.mark.anyio
async def test_metrics_count_calls_by_tool_and_outcome_and_need_a_token(tmp_path: Path) -> None:
    settings = Settings(root=tmp_path, state_dir=tmp_path / "state", audit=False, rate_limits={"tests": "3/minute"})
    server = build_server(settings, [_toolkit()])
    async with Client(server) as client:
        assert not (await client.call_tool("demo_ok", {})).is_error
        assert (await client.call_tool("demo_bad", {"name": "x"})).is_error
        assert (await client.call_tool("demo_crash", {})).is_error
        assert (await client.call_tool("demo_ok", {})).is_error  # the fourth call of the class: refused
        assert not (await client.call_tool("server_info", {})).is_error
    app = await http_app(server, settings, stateless=True, tokens={READ: "read"})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8765") as http:
        refused = await http.get("/metrics")
        answered = await http.get("/metrics", headers={"authorization": f"Bearer {READ}"})
        health = await http.get("/healthz")
        ready = await http.get("/readyz")
        rebound = await http.get("/healthz", headers={"host": "evil.example"})
        posted = await http.post("/healthz")
    assert refused.status_code == 401
    assert answered.status_code == 200
    assert answered.headers["content-type"].startswith("text/plain")
    samples = _samples(answered.text)
    calls = {
        (dict(labels)["gen_ai_tool_name"], dict(labels)["outcome"]): value
        for (name, labels), value in samples.items()
        if name == "mcp_server_tool_calls_total"
    }
    assert calls == {
        ("demo_ok", "ok"): 1,
        ("demo_bad", "error"): 1,
        ("demo_crash", "error"): 1,
        ("demo_ok", "refused"): 1,
        ("server_info", "ok"): 1,
    }
    assert samples["mcp_server_rate_limit_refusals_total", (("rate_class", "tests"),)] == 1
    assert samples["mcp_server_incidents_total", ()] == 1
    count = (
        "mcp_server_operation_duration_seconds_count",
        (("error_type", "UsageError"), ("gen_ai_tool_name", "demo_bad"), ("mcp_method_name", "tools/call")),
    )
    assert samples[count] == 1
    crashed = {
        dict(labels)["error_type"]
        for (name, labels) in samples
        if name.startswith("mcp_server_operation_duration") and dict(labels).get("gen_ai_tool_name") == "demo_crash"
    }
    assert crashed == {"RuntimeError"}
    assert samples["mcp_server_sessions_open", ()] == 0
    assert samples["process_resident_memory_bytes", ()] > 1_000_000
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}
    assert rebound.status_code == 421
    assert posted.status_code == 405


@pytest.mark.anyio
async def test_readyz_is_503_with_the_reason_while_a_check_fails(tmp_path: Path) -> None:
    settings = Settings(root=tmp_path, state_dir=tmp_path / "state", audit=False)
    server = build_server(settings, [])
    broken = ["redis: connection refused"]

    async def check() -> str | None:
        return broken[0] if broken else None

    telemetry_of(server).readiness.append(check)
    app = await http_app(server, settings, stateless=True, tokens={})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
        down = await http.get("/readyz")
        broken.clear()
        up = await http.get("/readyz")
        metrics = await http.get("/metrics")  # no tokens: the server is loopback-only, and /metrics open
    assert down.status_code == 503
    assert down.json() == {"status": "degraded", "reasons": ["redis: connection refused"]}
    assert up.status_code == 200
    assert metrics.status_code == 200


def test_a_histogram_counts_each_value_once_in_its_bucket_and_cumulates() -> None:
    histogram = Histogram()
    for value in (0.005, 0.01, 0.3, 400.0):
        histogram.observe(value)
    cumulative = dict(histogram.cumulative())
    assert cumulative["0.01"] == 2
    assert cumulative["0.2"] == 2
    assert cumulative["0.5"] == 3
    assert cumulative["300"] == 3
    assert cumulative["+Inf"] == 4
    assert histogram.count == 4
    assert histogram.total == pytest.approx(400.315)
