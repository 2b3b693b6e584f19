"""`/metrics` of the composed server counts what the tools' work did: testgen's sandboxed runs, by isolation and
outcome, learnt from the events the sandbox reports (testgen knows nothing of the server)."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest
from mcp import Client
from mcp_types import CallToolResult
from prometheus_client.parser import text_string_to_metric_families

from codegen_lab.common import load_settings
from codegen_lab.mcp_core import http_app
from codegen_lab.server import create_server

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def _sandbox_runs(text: str) -> dict[tuple[str, str], float]:
    return {
        (sample.labels["isolation"], sample.labels["outcome"]): sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "codegen_lab_sandbox_runs"
        for sample in family.samples
        if sample.name == "codegen_lab_sandbox_runs_total"
    }


async def test_sandboxed_runs_of_tool_calls_are_counted_by_isolation_and_outcome(tmp_path: Path) -> None:
    root = tmp_path / "project"
    (root / "tests").mkdir(parents=True)
    for folder in (root, root / "tests"):
        folder.chmod(0o755)  # readable by the sandbox's uid when the tests run as root
    (root / ".venv").symlink_to(sys.prefix, target_is_directory=True)
    (root / "tests" / "test_good.py").write_text("def test_good():\n    assert 1 + 1 == 2\n", encoding="utf-8")
    (root / "tests" / "test_slow.py").write_text(
        "import time\n\ndef test_slow():\n    time.sleep(120)\n", encoding="utf-8"
    )
    settings = load_settings(root)
    server = create_server(settings)
    app = await http_app(server, settings, stateless=True, tokens={})
    counts: list[dict[tuple[str, str], float]] = []
    results: list[CallToolResult] = []
    async with (
        Client(server) as client,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as http,
    ):
        for name, timeout in (("test_good.py", 120), ("test_good.py", 120), ("test_slow.py", 3)):
            arguments = {"paths": [f"tests/{name}"], "python": ".venv/bin/python", "timeout": timeout}
            results.append(await client.call_tool("testgen_run", arguments))
            metrics = await http.get("/metrics")
            assert metrics.status_code == 200
            counts.append(_sandbox_runs(metrics.text))
    isolation = (results[0].structured_content or {})["isolation"]
    assert not results[1].is_error
    assert f"did not finish within 3 s and were stopped (isolation {isolation})" in str(results[2].content[0])
    # after the first call (which may probe the interpreter too): one run per call, by how it ended
    assert _delta(counts[0], counts[1]) == {(isolation, "ok"): 1.0}
    assert _delta(counts[1], counts[2]) == {(isolation, "timeout"): 1.0}


def _delta(before: dict[tuple[str, str], float], after: dict[tuple[str, str], float]) -> dict[tuple[str, str], float]:
    return {key: value - before.get(key, 0.0) for key, value in after.items() if value != before.get(key, 0.0)}


def _llm_samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        if family.name.startswith(("gen_ai_client", "codegen_lab_llm"))
        for sample in family.samples
    }


async def test_llm_requests_tokens_cost_cache_and_breaker_are_counted_by_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codegen_lab.llm.testing import FakeAnthropic

    root = tmp_path / "project"
    (root / "src").mkdir(parents=True)
    (root / "src" / "calc.py").write_text("def add(a, b):\n    return a+b\n", encoding="utf-8")
    reply = "```python\ndef add(a: int, b: int) -> int:\n    return a + b\n```"
    with FakeAnthropic(reply=reply) as fake:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-metrics-test-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
        settings = load_settings(root)
        server = create_server(settings)
        app = await http_app(server, settings, stateless=True, tokens={})
        async with (
            Client(server) as client,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as http,
        ):
            for _ in range(2):  # the same task twice: asked once, then answered from the cache
                result = await client.call_tool("generate_code", {"task": "Annotate add", "target_path": "src/calc.py"})
                assert not result.is_error, result.content
            samples = _llm_samples((await http.get("/metrics")).text)
    assert len(fake.requests) == 1
    models = {dict(labels)["gen_ai_request_model"] for (name, labels) in samples if name.startswith("gen_ai_client")}
    assert len(models) == 1
    model = (("gen_ai_request_model", models.pop()),)
    assert samples["gen_ai_client_requests_total", model] == 2
    assert samples["gen_ai_client_token_usage_total", (*model, ("gen_ai_token_type", "input"))] > 0
    assert samples["gen_ai_client_token_usage_total", (*model, ("gen_ai_token_type", "output"))] > 0
    assert samples["gen_ai_client_cost_usd_total", model] > 0
    assert samples["codegen_lab_llm_cache_lookups_total", (("result", "hit"),)] == 1
    assert samples["codegen_lab_llm_cache_lookups_total", (("result", "miss"),)] == 1
    breakers = {labels: value for (name, labels), value in samples.items() if name == "codegen_lab_llm_breaker_state"}
    assert breakers
    assert {dict(labels)["state"] for labels, value in breakers.items() if value == 1} == {"closed"}
