"""Traces leave the process over OTLP/HTTP only when the environment asks; nothing is imported otherwise.

Each check runs in a fresh interpreter: a tracer provider, once set, stays for the whole process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from codegen_lab.common import UsageError
from codegen_lab.server._tracing import configure_tracing

pytestmark = pytest.mark.slow

PROBE = """
import sys, anyio
from mcp import Client
from codegen_lab.common import load_settings
from codegen_lab.server import create_server
from codegen_lab.server._tracing import configure_tracing
import os

configured = configure_tracing(os.environ)

async def main():
    async with Client(create_server(load_settings(sys.argv[1]))) as client:
        await client.call_tool("rules_for_path", {"path": "app.py"})
        await client.call_tool("server_info", {})
        if os.environ.get("PROBE_GENERATE"):
            result = await client.call_tool("generate_code", {"task": "Annotate add", "target_path": "src/calc.py"})
            assert not result.is_error, result.content

anyio.run(main)
loaded = sorted(name for name in sys.modules if name.startswith(("opentelemetry.sdk", "opentelemetry.exporter")))
print(configured, bool(loaded))
"""


class Collector(BaseHTTPRequestHandler):
    received: list[bytes]

    def do_POST(self) -> None:
        self.received.append(self.rfile.read(int(self.headers["content-length"])))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def collector() -> Iterator[tuple[str, list[bytes]]]:
    received: list[bytes] = []
    handler = type("Handler", (Collector,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


def _probe(tmp_path: Path, root: Path | None = None, **variables: str) -> str:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    env.update(variables, CODEGEN_LAB_STATE_DIR=str(tmp_path / "state"), CODEGEN_LAB_CACHE_DIR=str(tmp_path / "cache"))
    command = [sys.executable, "-c", PROBE, str(root or tmp_path)]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip()


def _span_names(received: list[bytes]) -> set[str]:
    return {
        span.name
        for body in received
        for resource_spans in ExportTraceServiceRequest.FromString(body).resource_spans
        for scope in resource_spans.scope_spans
        for span in scope.spans
    }


def test_without_an_exporter_nothing_of_the_sdk_is_imported(tmp_path: Path) -> None:
    assert _probe(tmp_path) == "False False"


def test_spans_of_tools_and_rule_matching_are_exported_over_otlp_http(
    tmp_path: Path, collector: tuple[str, list[bytes]]
) -> None:
    url, received = collector
    assert _probe(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=url, OTEL_SERVICE_NAME="codegen-lab-test") == "True True"
    names: set[str] = set()
    services: set[str] = set()
    for body in received:
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            services.update(
                attribute.value.string_value
                for attribute in resource_spans.resource.attributes
                if attribute.key == "service.name"
            )
            names.update(span.name for scope in resource_spans.scope_spans for span in scope.spans)
    assert services == {"codegen-lab-test"}
    assert "codegen_lab.rules.match" in names
    assert any(name.startswith("tools/call") for name in names), names


def test_validation_cache_lookups_sandboxed_runs_and_redis_calls_have_spans_of_their_own(
    tmp_path: Path, collector: tuple[str, list[bytes]]
) -> None:
    from codegen_lab.common.testing import RedisServer
    from codegen_lab.llm.testing import FakeAnthropic

    url, received = collector
    root = tmp_path / "project"
    (root / "src").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "src" / "calc.py").write_text("def add(a, b):\n    return a+b\n", encoding="utf-8")
    (root / "tests" / "test_calc.py").write_text(
        "import sys\nsys.path.insert(0, 'src')\nfrom calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
        encoding="utf-8",
    )
    for folder in (root, tmp_path, tmp_path.parent):
        folder.chmod(0o755)  # readable by the sandbox's unprivileged uid
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    try:
        with FakeAnthropic(reply="```python\ndef add(a: int, b: int) -> int:\n    return a + b\n```") as fake:
            variables = {
                "OTEL_EXPORTER_OTLP_ENDPOINT": url,
                "ANTHROPIC_API_KEY": "sk-ant-tracing-test-key",
                "ANTHROPIC_BASE_URL": fake.url,
                "CODEGEN_LAB_REDIS_URL": redis.url,
                "PROBE_GENERATE": "1",
            }
            assert _probe(tmp_path, root, **variables) == "True True"
    finally:
        redis.stop()
    names = _span_names(received)
    assert {"codegen_lab.codegen.validate", "codegen_lab.llm.cache_lookup", "codegen_lab.testgen.sandbox_run"} <= names
    assert any(name.startswith("redis ") for name in names), names
    assert any(name.startswith("tools/call generate_code") for name in names), names


def test_an_unknown_exporter_is_a_clear_error_and_none_turns_tracing_off() -> None:
    with pytest.raises(UsageError, match="OTEL_TRACES_EXPORTER='zipkin' is not supported"):
        configure_tracing({"OTEL_TRACES_EXPORTER": "zipkin"})
    assert configure_tracing({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x"}) is False
    assert configure_tracing({}) is False
