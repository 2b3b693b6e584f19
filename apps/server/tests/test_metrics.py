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
