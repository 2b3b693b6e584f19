"""Hostile input over stdio: over a thousand malformed messages, each followed by a ping that must be answered.

One `codegen-lab serve` process takes every message. After each, a ping goes out and must come back within 2 s;
a message whose id can be read must have been answered too. At the end the server is still running.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

METHODS = [
    "ping",
    "tools/list",
    "tools/call",
    "resources/read",
    "prompts/get",
    "initialize",
    "resources/list",
    "completion/complete",
    "logging/setLevel",
    "notifications/cancelled",
    "nope",
    "",
]


class Peer:
    """A server process spoken to line by line."""

    def __init__(self, command: list[str]) -> None:
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        self.buffer = b""
        self.pings = 0
        self.sent = 0

    def send(self, line: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.rstrip(b"\n") + b"\n")
        self.process.stdin.flush()
        self.sent += 1

    def answers_until(self, wanted: Any, seconds: float) -> list[dict[str, Any]]:
        """Every answer up to and including the one whose id is `wanted`; fails after `seconds`."""
        assert self.process.stdout is not None
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + seconds
        while True:
            while b"\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\n", 1)
                message = json.loads(line)
                found.append(message)
                if message.get("id") == wanted:
                    return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no answer with id {wanted!r} within {seconds} s; got {found!r}")
            ready, _, _ = select.select([self.process.stdout], [], [], remaining)
            if ready:
                chunk = os.read(self.process.stdout.fileno(), 1 << 20)
                if not chunk:
                    raise AssertionError(f"the server closed stdout (exit {self.process.poll()})")
                self.buffer += chunk

    def check(self, line: bytes) -> None:
        """Send `line`, then a ping; the ping (and any request in the line with a readable id) is answered."""
        expected = _readable_id(line)
        self.send(line)
        self.pings += 1
        ping_id = f"__ping_{self.pings}__"
        self.send(json.dumps({"jsonrpc": "2.0", "id": ping_id, "method": "ping"}).encode())
        answers = self.answers_until(ping_id, 30.0)
        if expected is not None and expected != ping_id:
            ids = [answer.get("id") for answer in answers]
            if expected not in ids:  # its answer may still be on the way (a slow tool): wait for it
                self.answers_until(expected, 60.0)


def _readable_id(line: bytes) -> Any:
    """The id of a request the server must answer, when the line is one."""
    try:
        message = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(message, dict) or "id" not in message:
        return None
    request_id = message["id"]
    if isinstance(request_id, bool) or not isinstance(request_id, int | str):
        return None
    if isinstance(request_id, str) and any(0xD800 <= ord(char) <= 0xDFFF for char in request_id):
        return None  # cannot travel back in UTF-8: answered with id null
    if "method" not in message and ("result" in message or "error" in message):
        return None  # a response: nothing to answer
    return request_id


@pytest.fixture(scope="module")
def peer(codegen_lab: list[str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peer]:
    root = tmp_path_factory.mktemp("fuzz-root")
    server = Peer([*codegen_lab, "serve", "--root", str(root), "--log-level", "ERROR"])
    server.send(
        json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 0,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "fuzz", "version": "0"},
                },
            }
        ).encode()
    )
    server.answers_until(0, 60.0)
    server.send(b'{"jsonrpc": "2.0", "method": "notifications/initialized"}')
    yield server
    alive = server.process.poll() is None
    server.process.terminate()
    server.process.communicate(timeout=10)
    assert alive, "the server died under fuzzing"


HAND_WRITTEN: list[bytes] = [
    b"not json",
    b"{",
    b'{"jsonrpc": "2.0", "id": 1, "method": "ping"',
    b"[]",
    b'[{"jsonrpc": "2.0", "id": 7, "method": "ping"}]',
    b"null",
    b"42",
    b'"text"',
    b'{"jsonrpc": "2.0", "id": 2}',
    b'{"jsonrpc": "1.0", "id": 3, "method": "ping"}',
    b'{"id": 4, "method": "ping"}',
    b'{"jsonrpc": "2.0", "id": 5, "method": 5}',
    b'{"jsonrpc": "2.0", "id": 6, "method": "tools/call", "params": [1, 2]}',
    b'{"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": "x"}',
    b'{"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": 1}}',
    b'{"jsonrpc": "2.0", "id": 10, "method": "tools/call", "params": {"name": "server_info", "arguments": 3}}',
    b'{"jsonrpc": "2.0", "id": 11, "method": "tools/call", "params": {"name": "nope"}}',
    b'{"jsonrpc": "2.0", "id": 12, "method": "tools/call", "params": {"name": "rules_for_path", '
    b'"arguments": {"path": "../../etc/passwd"}}}',
    b'{"jsonrpc": "2.0", "id": 13, "method": "tools/call", "params": {"name": "rules_for_path", '
    b'"arguments": {"path": "a\\u0000b"}}}',
    b'{"jsonrpc": "2.0", "id": 14, "method": "resources/read", "params": {"uri": "file:///etc/passwd"}}',
    b'{"jsonrpc": "2.0", "id": 15, "method": "resources/read", "params": {"uri": null}}',
    b'{"jsonrpc": "2.0", "id": 16, "method": "prompts/get", "params": {"name": "apply-rules"}}',
    b'{"jsonrpc": "2.0", "id": 99999999999999999999999999999, "method": "ping"}',
    b'{"jsonrpc": "2.0", "id": -1, "method": "ping"}',
    b'{"jsonrpc": "2.0", "id": 1.5, "method": "ping"}',
    b'{"jsonrpc": "2.0", "id": true, "method": "ping"}',
    b'{"jsonrpc": "2.0", "id": null, "method": "ping"}',
    b'{"jsonrpc": "2.0", "id": {"a": 1}, "method": "ping"}',
    b'{"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "nothing"}}',
    b'{"jsonrpc": "2.0", "method": "notifications/progress", "params": 7}',
    b'{"jsonrpc": "2.0", "id": 17, "result": {}}',
    b'{"jsonrpc": "2.0", "id": 18, "error": {"code": 1, "message": "x"}}',
    b'{"jsonrpc": "2.0", "id": 19, "method": "initialize", "params": {}}',
    b'{"jsonrpc": "2.0", "id": 20, "method": "logging/setLevel", "params": {"level": "nonsense"}}',
    b"[" * 100_000 + b"]" * 100_000,
    b'{"jsonrpc": "2.0", "id": 21, "method": "ping", "params": {"pad": "' + b"x" * (5 * 1024 * 1024) + b'"}}',
    b"\xff\xfe\x00garbage",
    b'{"jsonrpc": "2.0", "id": "\\ud800", "method": "ping"}',
]


@pytest.mark.parametrize("line", HAND_WRITTEN, ids=range(len(HAND_WRITTEN)))
def test_hand_written_hostile_messages(peer: Peer, line: bytes) -> None:
    peer.check(line)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8,
)
MESSAGE = st.fixed_dictionaries(
    {},
    optional={
        "jsonrpc": st.sampled_from(["2.0", "2.0", "2.0", "1.0"]) | JSON,
        "id": st.integers(min_value=-(2**70), max_value=2**70) | st.text(max_size=6) | JSON,
        "method": st.sampled_from(METHODS) | JSON,
        "params": st.fixed_dictionaries(
            {},
            optional={
                "name": st.sampled_from(["server_info", "rules_list"]) | JSON,
                "arguments": JSON,
                "uri": JSON,
                "cursor": JSON,
            },
        )
        | JSON,
        "result": JSON,
    },
)
LINE = st.one_of(
    MESSAGE.map(lambda message: json.dumps(message).encode()),
    JSON.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=120).map(lambda raw: raw.replace(b"\n", b" ").replace(b"\r", b" ")),
)


@settings(
    max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(LINE)
def test_a_thousand_generated_messages(peer: Peer, line: bytes) -> None:
    peer.check(line)


def test_the_run_was_big_enough(peer: Peer) -> None:
    assert peer.pings >= 1000 + len(HAND_WRITTEN) - 1


def test_the_server_still_serves(peer: Peer, tmp_path: Path) -> None:
    peer.send(b'{"jsonrpc": "2.0", "id": "last", "method": "tools/call", "params": {"name": "server_info"}}')
    (answer,) = [a for a in peer.answers_until("last", 60.0) if a.get("id") == "last"]
    assert answer["result"]["structuredContent"]["name"] == "codegen-lab"
