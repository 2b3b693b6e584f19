"""Streamable HTTP under hostile clients: slow headers, GET streams, session floods, deep JSON.

Each test serves the composed server with uvicorn on a free loopback port, in a thread of its own, and stops it
after. Waits are bounded only to keep a failing test from hanging; nothing here measures time.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from codegen_lab.common import Settings
from codegen_lab.mcp_core import ToolAnnotations, Toolkit, build_server, http_app
from codegen_lab.mcp_core._http import REFUSAL_DELAY
from codegen_lab.mcp_core._http_server import uvicorn_config

READ = "r" * 24
WRITE = "w" * 24
BOUND = 30.0
"""The longest any wait here lasts before the test fails: a guard against hanging, never a measurement."""

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "0"}},
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(
    tmp_path: Path,
    *,
    tokens: dict[str, Any] | None = None,
    stateless: bool = False,
    toolkits: tuple[Toolkit, ...] = (),
    **fields: Any,
) -> Iterator[tuple[str, int]]:
    """Serve the composed server over HTTP in a thread until the block ends; gives (host, port)."""
    port = _free_port()
    settings = Settings(root=tmp_path, state_dir=tmp_path / "state", port=port, audit=False, **fields)
    server = build_server(settings, list(toolkits))
    holder: dict[str, uvicorn.Server] = {}
    failed: list[BaseException] = []

    def run() -> None:
        async def main() -> None:
            app = await http_app(server, settings, stateless=stateless, tokens=tokens or {})
            holder["server"] = uvicorn.Server(uvicorn_config(app, settings))
            await holder["server"].serve()

        try:
            asyncio.run(main())
        except BaseException as exc:  # reported by the test, not lost in the thread
            failed.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + BOUND
    while not (holder.get("server") and holder["server"].started):
        assert not failed, failed
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield "127.0.0.1", port
    finally:
        holder["server"].should_exit = True
        thread.join(BOUND)
        assert not thread.is_alive(), "the server did not stop"


def post(
    address: tuple[str, int], body: bytes | dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One POST to /mcp on a new connection: status, headers (lower-case names), body."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    connection = http.client.HTTPConnection(*address, timeout=BOUND)
    try:
        connection.request(
            "POST",
            "/mcp",
            body=data,
            headers={
                "content-type": "application/json",
                "accept": "application/json, text/event-stream",
                **(headers or {}),
            },
        )
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server closed `sock` (waits up to BOUND seconds for it)."""
    sock.settimeout(BOUND)
    try:
        while sock.recv(4096):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


def trickled_until_closed(sock: socket.socket) -> bool:
    """Send `sock` one more header line every 0.1 s until the server closes it (False: not within BOUND)."""
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        try:
            sock.sendall(b"X-Slow: 1\r\n")
        except OSError:
            return True
        time.sleep(0.1)
    return False


def test_slow_headers_are_cut_off_and_a_normal_client_is_still_answered(tmp_path: Path) -> None:
    with serving(tmp_path, http_header_timeout=0.5, http_max_connections=8) as address:
        slow = [socket.create_connection(address, timeout=BOUND) for _ in range(12)]
        try:
            for sock in slow:
                sock.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            status, _, body = post(address, INITIALIZE)  # while the slow ones hold every place
            assert status == 200, body
            assert trickled_until_closed(slow[-1])  # trickling more headers does not put the deadline off
            assert all(closed_by_server(sock) for sock in slow)
        finally:
            for sock in slow:
                sock.close()
        status, _, _ = post(address, INITIALIZE)
        assert status == 200


def test_slow_bodies_past_the_cap_make_room_for_a_normal_client(tmp_path: Path) -> None:
    with serving(tmp_path, http_max_connections=4) as address:
        slow = [socket.create_connection(address, timeout=BOUND) for _ in range(6)]
        try:
            for sock in slow:
                sock.sendall(
                    b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    b"Accept: application/json, text/event-stream\r\nContent-Length: 1000\r\n\r\n{"
                )
            status, _, body = post(address, INITIALIZE)
            assert status == 200, body
            assert closed_by_server(slow[0])  # the oldest went first
        finally:
            for sock in slow:
                sock.close()


def test_a_slow_body_is_cut_off(tmp_path: Path) -> None:
    with serving(tmp_path, http_body_timeout=0.5) as address, socket.create_connection(address) as sock:
        sock.sendall(
            b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Accept: application/json, text/event-stream\r\nContent-Length: 1000\r\n\r\n{"
        )
        assert closed_by_server(sock)


def test_a_request_in_flight_keeps_its_place_when_new_connections_flood_in(tmp_path: Path) -> None:
    body = json.dumps(INITIALIZE).encode()
    with serving(tmp_path, http_max_connections=4) as address, socket.create_connection(address) as sending:
        sending.sendall(
            b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Accept: application/json, text/event-stream\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        sending.sendall(body[:10])  # its headers and the start of its body: a request in flight
        time.sleep(0.2)
        silent = [socket.create_connection(address, timeout=BOUND) for _ in range(8)]  # past the cap, all at once
        try:
            assert closed_by_server(silent[0])  # the first silent ones made room for the later ones
            sending.sendall(body[10:])
            sending.settimeout(BOUND)
            assert sending.recv(4096).startswith(b"HTTP/1.1 200")
        finally:
            for sock in silent:
                sock.close()


def test_oversized_headers_are_refused(tmp_path: Path) -> None:
    with serving(tmp_path, http_max_header_bytes=2048) as address, socket.create_connection(address) as sock:
        sock.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 4096 + b"\r\n\r\n")
        sock.settimeout(BOUND)
        assert sock.recv(4096).startswith(b"HTTP/1.1 400")


@pytest.mark.parametrize("token", [None, READ, WRITE])
def test_deep_json_is_a_parse_error_not_a_crash(tmp_path: Path, token: str | None) -> None:
    tokens = {READ: "read", WRITE: "write"} if token else None
    headers = {"authorization": f"Bearer {token}"} if token else {}
    deep = b'{"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with serving(tmp_path, tokens=tokens, stateless=True) as address:
        status, _, body = post(address, deep, headers)
        assert status == 400, body
        assert json.loads(body)["error"]["code"] == -32700
        status, _, _ = post(address, INITIALIZE, headers)
        assert status == 200


def get(address: tuple[str, int], headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One GET of /mcp, as a client opens the stream of server messages; reads the body only when it ends."""
    connection = http.client.HTTPConnection(*address, timeout=BOUND)
    try:
        connection.request("GET", "/mcp", headers={"accept": "text/event-stream", **(headers or {})})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("tokens", [None, {READ: "read"}])
def test_a_stateless_server_answers_get_with_405_instead_of_an_endless_stream(
    tmp_path: Path, tokens: dict[str, Any] | None
) -> None:
    headers = {"authorization": f"Bearer {READ}"} if tokens else {}
    with serving(tmp_path, tokens=tokens, stateless=True) as address:
        status, answer_headers, body = get(address, headers)
        assert status == 405
        assert answer_headers["allow"] == "POST, DELETE"
        assert "stateless" in json.loads(body)["error"]["message"]
        assert post(address, INITIALIZE, headers)[0] == 200


def open_session(address: tuple[str, int], token: str | None = None) -> tuple[int, str | None, bytes]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    status, answer_headers, body = post(address, INITIALIZE, headers)
    return status, answer_headers.get("mcp-session-id"), body


def test_one_client_cannot_take_every_session(tmp_path: Path) -> None:
    tokens = {READ: "read", WRITE: "write"}
    with serving(tmp_path, tokens=tokens, http_max_sessions_per_client=3, http_max_sessions=5) as address:
        opened = [open_session(address, READ) for _ in range(3)]
        assert [status for status, _, _ in opened] == [200, 200, 200]
        status, session, body = open_session(address, READ)
        assert (status, session) == (429, None)
        error = json.loads(body)["error"]
        assert error["message"].startswith("Too many open sessions for this client: 3 (setting http-max-sessions")
        assert [open_session(address, WRITE)[0] for _ in range(3)] == [200, 200, 503]  # 5 over every client
        connection = http.client.HTTPConnection(*address, timeout=BOUND)
        try:
            connection.request(
                "DELETE", "/mcp", headers={"authorization": f"Bearer {READ}", "mcp-session-id": str(opened[0][1])}
            )
            assert connection.getresponse().status == 200
        finally:
            connection.close()
        assert open_session(address, READ)[0] == 200  # an ended session frees its place


def test_without_tokens_a_client_is_its_address(tmp_path: Path) -> None:
    with serving(tmp_path, http_max_sessions_per_client=2) as address:
        assert [open_session(address)[0] for _ in range(3)] == [200, 200, 429]


def test_idle_sessions_expire_and_free_their_place(tmp_path: Path) -> None:
    with serving(tmp_path, http_max_sessions_per_client=1, http_session_idle_timeout=0.3) as address:
        assert open_session(address)[0] == 200
        deadline = time.monotonic() + BOUND
        while open_session(address)[0] != 200:
            assert time.monotonic() < deadline, "the idle session did not expire"
            time.sleep(0.1)


def test_one_client_over_its_limit_does_not_hold_up_another(tmp_path: Path) -> None:
    kit = Toolkit("demo", rate_class="tests")

    @kit.tool(annotations=ToolAnnotations(read_only_hint=True))
    def check() -> str:
        return "checked"

    other = "o" * 24
    limits = {"rate_limits": {"tests": "100/minute"}, "client_rate_limits": {"tests": "2/minute"}}
    call = {"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": "demo_check", "arguments": {}}}

    def results(token: str, times: int) -> list[str]:
        answers = [post(address, call, {"authorization": f"Bearer {token}"}) for _ in range(times)]
        assert all(status == 200 for status, _, _ in answers)
        return [json.loads(body)["result"]["content"][0]["text"] for _, _, body in answers]

    with serving(tmp_path, tokens={READ: "read", other: "read"}, stateless=True, toolkits=(kit,), **limits) as address:
        first = results(READ, 3)
        assert first[:2] == ["checked", "checked"]
        assert first[2].startswith(
            "rate limit reached: 'demo_check' is in the tool class 'tests', limited to 2/minute per client "
            "(setting client-rate-limits)"
        )
        assert results(other, 2) == ["checked", "checked"]


@pytest.mark.anyio
async def test_a_request_refused_as_part_of_a_flood_is_answered_only_after_the_refusal_delay(tmp_path: Path) -> None:
    settings = Settings(root=tmp_path, state_dir=tmp_path / "state", audit=False, max_message_bytes=100_000)
    app = await http_app(build_server(settings, []), settings, stateless=True, tokens={READ: "read"})
    deep = b'{"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    headers = {"authorization": f"Bearer {READ}", "content-type": "application/json"}
    waits: list[float] = []
    statuses: list[int] = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
        for body in (deep, b" " * 200_000):
            started = time.monotonic()
            statuses.append((await client.post("/mcp", content=body, headers=headers)).status_code)
            waits.append(time.monotonic() - started)
    assert statuses == [400, 413]
    assert min(waits) >= REFUSAL_DELAY  # a client refusing in a loop gets two answers a second, not thousands
