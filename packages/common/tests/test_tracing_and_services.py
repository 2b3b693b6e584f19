"""Spans are no-ops until an application turns tracing on; the test services start, answer and stop."""

from __future__ import annotations

import asyncio
import inspect
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from codegen_lab.common import tracing
from codegen_lab.common.testing import NginxBalancer, RedisServer, processes_naming


def test_spans_events_and_traced_functions_are_no_ops_while_tracing_is_off() -> None:
    assert not tracing.enabled()
    with tracing.span("codegen_lab.test", files=3, skipped=None) as current:
        tracing.event("incident", id="abc")
        tracing.annotate(hit=True)
    assert current is None

    @tracing.traced("codegen_lab.test.sync")
    def double(value: int) -> int:
        return 2 * value

    assert double(21) == 42
    assert double.__name__ == "double"


def test_a_traced_coroutine_function_stays_one() -> None:
    @tracing.traced("codegen_lab.test.async")
    async def triple(value: int) -> int:
        return 3 * value

    assert inspect.iscoroutinefunction(triple)
    assert asyncio.run(triple(5)) == 15


def test_observers_see_the_events_of_their_context_and_its_worker_threads_only() -> None:
    seen: list[tuple[str, dict[str, object]]] = []
    outer: list[str] = []
    tracing.event("before", n=0)
    with tracing.observed(lambda name, _: outer.append(name)):
        with tracing.observed(lambda name, attributes: seen.append((name, dict(attributes)))):
            tracing.event(tracing.SANDBOX_RUN, isolation="uid", outcome="ok")
            asyncio.run(asyncio.to_thread(tracing.event, "in a thread", n=1))
        tracing.event("outer only", n=2)
    tracing.event("after", n=3)
    assert seen == [(tracing.SANDBOX_RUN, {"isolation": "uid", "outcome": "ok"}), ("in a thread", {"n": 1})]
    assert outer == [tracing.SANDBOX_RUN, "in a thread", "outer only"]


@pytest.mark.slow
def test_redis_server_starts_answers_ping_stops_and_starts_again(tmp_path: Path) -> None:
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    try:
        assert redis.answers()
        assert redis.url == f"redis://127.0.0.1:{redis.port}/0"
        redis.stop()
        assert not redis.answers()
        redis.start()
        assert redis.answers()
    finally:
        redis.stop()


@pytest.mark.slow
def test_nginx_balances_over_the_given_ports_with_a_deployments_configuration(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "nginx.conf").write_text(
        "pid nginx.pid;\nerror_log stderr warn;\nevents {}\nhttp {\n  access_log off;\n"
        "  client_body_temp_path temp-body;\n  proxy_temp_path temp-proxy;\n  fastcgi_temp_path temp-fastcgi;\n"
        "  uwsgi_temp_path temp-uwsgi;\n  scgi_temp_path temp-scgi;\n"
        "  upstream replicas {\n    include upstream.conf;\n  }\n"
        "  server {\n    include listen.conf;\n    include replicas.conf;\n"
        "    location /mcp { proxy_pass http://replicas; }\n    location = /ping { return 200 pong; }\n  }\n}\n",
        encoding="utf-8",
    )
    balancer = NginxBalancer(tmp_path / "nginx", config, [1, 2])
    balancer.start()
    try:
        with socket.create_connection(("127.0.0.1", balancer.port), timeout=10) as connection:
            connection.sendall(b"GET /ping HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            assert connection.recv(64).startswith(b"HTTP/1.1 200")
        assert "server 127.0.0.1:2 " in (tmp_path / "nginx" / "upstream.conf").read_text(encoding="utf-8")
        assert "/replicas/2/metrics" in (tmp_path / "nginx" / "replicas.conf").read_text(encoding="utf-8")
    finally:
        balancer.stop()
    assert balancer.process is None


def test_processes_naming_finds_the_process_holding_the_token_until_it_ends() -> None:
    token = f"processes-naming-{uuid.uuid4().hex}"
    assert processes_naming(token) == []
    sleeper = subprocess.Popen(
        [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(600)", token],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        # Until the child has exec'd, /proc shows the parent's command line: its first line says it has.
        assert sleeper.stdout is not None
        assert sleeper.stdout.readline() == "up\n"
        assert processes_naming(token) == [str(sleeper.pid)]
    finally:
        sleeper.kill()
        sleeper.communicate(timeout=60)
    assert processes_naming(token) == []
