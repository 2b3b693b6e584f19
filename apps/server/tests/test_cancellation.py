"""A client's `notifications/cancelled` stops the sandboxed run of the call it names, through the real server.

The server runs as a user starts it (`codegen-lab serve` over stdio); the client is this test, writing JSON-RPC
lines. The run's processes are found by a token in their command lines; waits end when what they wait for
happens, and their bounds only keep a failing run from hanging.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from codegen_lab.common.testing import enterable_folder, processes_naming

BOUND = 120.0


@pytest.fixture
def project() -> Iterator[Path]:
    """A project every uid may enter (pytest's own folders are 0700), so that any sandbox can read it."""
    with enterable_folder("codegen-lab-cancel-") as folder:
        yield folder


def _lines(stream: IO[bytes], into: queue.Queue[dict[str, Any]]) -> None:
    for line in stream:
        into.put(json.loads(line))


def test_a_cancelled_testgen_run_kills_its_sandboxed_processes_and_the_server_goes_on(
    project: Path, tmp_path: Path
) -> None:
    token = f"cancelled_run_{uuid.uuid4().hex}"
    (project / "tests").mkdir()
    (project / "tests" / f"test_{token}.py").write_text(
        "import subprocess, sys, time\n\n\n"
        "def test_slow():\n"
        f"    subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', {token!r}], "
        "start_new_session=True)\n"
        "    time.sleep(600)\n",
        encoding="utf-8",
    )
    log = tmp_path / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "codegen_lab.server", "serve", "--root", str(project)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=sink,
        )
    assert process.stdin is not None
    assert process.stdout is not None
    answers: queue.Queue[dict[str, Any]] = queue.Queue()
    reader = threading.Thread(target=_lines, args=(process.stdout, answers), daemon=True)
    reader.start()

    def send(message: dict[str, Any]) -> None:
        assert process.stdin is not None
        process.stdin.write(json.dumps(message).encode() + b"\n")
        process.stdin.flush()

    def answer_to(request_id: int) -> dict[str, Any]:
        deadline = time.monotonic() + BOUND
        while True:
            found = answers.get(timeout=max(0.1, deadline - time.monotonic()))
            if found.get("id") == request_id:
                return found

    try:
        initialize = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}
        send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": initialize})
        assert "result" in answer_to(1)
        send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        run = {"name": "testgen_run", "arguments": {"paths": [f"tests/test_{token}.py"], "timeout": 900}}
        send({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": run})

        deadline = time.monotonic() + BOUND
        while len(processes_naming(token)) < 2:  # pytest running the file, and the sleeper it started
            assert process.poll() is None, log.read_text(encoding="utf-8", errors="replace")[-3000:]
            assert answers.empty(), answers.get()  # the call must still be running, not answered
            assert time.monotonic() < deadline, "the sandboxed run did not start"
            time.sleep(0.1)

        send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 2, "reason": "test"}})
        deadline = time.monotonic() + BOUND
        while processes_naming(token):
            assert time.monotonic() < deadline, f"still running after the cancellation: {processes_naming(token)}"
            time.sleep(0.1)

        send({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "server_info", "arguments": {}}})
        info = answer_to(3)
        assert info["result"]["structuredContent"]["name"] == "codegen-lab"
    finally:
        with process:  # closes the pipes once the process and the reader are done
            process.kill()
            process.wait(timeout=BOUND)
            reader.join(timeout=BOUND)
