"""Streamable HTTP with access control: bearer tokens with roles, Host and Origin checks, a body size limit.

A token is `read` or `write`. A `read` token may call only the tools annotated read-only; the tools that change
files or environments need `write`. Tokens are compared in constant time. Host and Origin are checked by the
SDK's transport security (421 and 403), the body size too (413). What one client can hold is bounded: sessions
per client (`SessionQuota`, 429) and in all (the SDK, 503), idle sessions expire, a stateless server answers GET
with 405; deadlines for headers and bodies and the connection cap are `_http_server`'s, under uvicorn.

A request refused as part of a flood (a body too large or too deep to parse, a session over the client's quota)
is answered after `REFUSAL_DELAY` seconds: each costs the server about 0.4 ms of CPU, so a client that sends them
in a loop would otherwise take as much of the server's CPU as it likes; waiting costs none.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal, cast

import anyio
from mcp_types import INVALID_REQUEST, PARSE_ERROR
from pydantic_core import from_json

from codegen_lab.common.errors import UsageError
from codegen_lab.common.secrets import register_secret
from codegen_lab.mcp_core._ratelimit import CLIENT_SCOPE_KEY, client_of_scope

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from codegen_lab.common._settings import Settings

__all__ = [
    "REFUSAL_DELAY",
    "BearerAuth",
    "OpenSessions",
    "Role",
    "SessionQuota",
    "http_app",
    "load_tokens",
    "serve_http",
    "with_operations_routes",
]

logger = logging.getLogger(__name__)

Role = Literal["read", "write"]
_ROLES: dict[str, Role] = {"read": "read", "write": "write"}
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
_SERVER_BUSY = -32000

REFUSAL_DELAY = 0.5
"""Seconds before the answer to a request refused as part of a flood: 413, a 400 parse error, a 429 for sessions."""


def load_tokens(settings: Settings, environ: Mapping[str, str]) -> dict[str, Role]:
    """Tokens and their roles, from the environment and the tokens file.

    `CODEGEN_LAB_HTTP_TOKENS` holds `read:TOKEN,write:TOKEN`; the file named by the `http-tokens-file` setting
    holds lines `ROLE TOKEN`.

    Raises:
        UsageError: For an unknown role, an empty or short token, or an unreadable file (never printing a token).
    """
    entries: list[tuple[str, str, str]] = []
    for number, item in enumerate(environ.get("CODEGEN_LAB_HTTP_TOKENS", "").split(","), start=1):
        if item.strip():
            role, _, token = item.strip().partition(":")
            entries.append((role.strip(), token.strip(), f"CODEGEN_LAB_HTTP_TOKENS entry {number}"))
    if settings.http_tokens_file is not None:
        path = settings.http_tokens_file.expanduser()
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise UsageError(f"http-tokens-file {path}: cannot be read ({exc.strerror})") from None
        for number, line in enumerate(lines, start=1):
            if line.strip() and not line.lstrip().startswith("#"):
                role, _, token = line.strip().partition(" ")
                entries.append((role, token.strip(), f"{path} line {number}"))
    tokens: dict[str, Role] = {}
    for role, token, where in entries:
        checked = _ROLES.get(role)
        if checked is None:
            raise UsageError(f"{where}: role {role!r} is not read or write")
        if len(token) < 16:
            raise UsageError(f"{where}: the token is missing or shorter than 16 characters")
        tokens[token] = checked
        register_secret(token)
    return tokens


class BearerAuth:
    """ASGI middleware: a bearer token is required, and a `read` token may call only read-only tools.

    Args:
        app: The MCP app.
        tokens: Token to role.
        read_only_tools: The tools a `read` token may call.
        max_body: The largest request body read to check a tool call (the SDK applies the same limit).
        refusal_delay: Seconds before answering a body too large or that cannot be parsed.
    """

    def __init__(
        self,
        app: Any,
        tokens: Mapping[str, Role],
        read_only_tools: set[str],
        max_body: int,
        *,
        refusal_delay: float = REFUSAL_DELAY,
    ) -> None:
        self.app = app
        self.refusal_delay = refusal_delay
        self._tokens: list[tuple[bytes, Role, str]] = [
            (token.encode(), role, _fingerprint(token)) for token, role in tokens.items()
        ]
        self.read_only_tools = read_only_tools
        self.max_body = max_body

    def role_of(self, header: str | None) -> Role | None:
        """The role of the token in an `Authorization: Bearer` header, compared in constant time."""
        found = self._match(header)
        return found[0] if found is not None else None

    def _match(self, header: str | None) -> tuple[Role, str] | None:
        """The role and the fingerprint of the token in an `Authorization: Bearer` header."""
        if not header or not header.lower().startswith("bearer "):
            return None
        given = header[7:].strip().encode()
        found: tuple[Role, str] | None = None
        for token, role, fingerprint in self._tokens:  # every token is compared, whichever matches
            if hmac.compare_digest(given, token):
                found = (role, fingerprint)
        return found

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        found = self._match(headers.get("authorization"))
        role = found[0] if found is not None else None
        if found is not None:
            scope[CLIENT_SCOPE_KEY] = f"token {found[1]}"  # whose sessions and calls these are, for the limits
        if role is None:
            await _respond(
                send,
                401,
                {"error": "a valid bearer token is required"},
                ((b"www-authenticate", b'Bearer realm="codegen-lab"'),),
            )
            return
        if role == "write" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        received = bytearray()
        more = True
        while more:
            message = await receive()
            received += message.get("body", b"")
            more = message.get("more_body", False)
            if len(received) > self.max_body:
                await anyio.sleep(self.refusal_delay)
                await _respond(send, 413, {"error": "request body too large"})
                return
        body = bytes(received)
        refusal = self._refusal(body)
        if refusal is not None:
            if refusal[0] == 400:  # what no client sends by mistake in a loop
                await anyio.sleep(self.refusal_delay)
            await _respond(send, *refusal)
            return
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _refusal(self, body: bytes) -> tuple[int, dict[str, Any]] | None:
        """The status and answer refusing `body`, or None when it may go on."""
        try:
            # The SDK's own parser, with its limits: what it cannot read is refused here the same way.
            loaded: object = from_json(body)
        except (ValueError, RecursionError) as exc:
            return 400, _rpc_error(PARSE_ERROR, f"Parse error: {str(exc)[:200]}")
        message: dict[str, Any] = cast("dict[str, Any]", loaded) if isinstance(loaded, dict) else {}
        if message.get("method") != "tools/call":
            return None
        params: object = message.get("params")
        name: object = cast("dict[str, Any]", params).get("name") if isinstance(params, dict) else None
        if isinstance(name, str) and name in self.read_only_tools:
            return None
        reason = f"forbidden: tool {name!r} changes things and needs a token with the write role"
        return 403, _rpc_error(-32001, reason, message.get("id"))


def _fingerprint(token: str) -> str:
    """A short name for a token that does not reveal it: the start of its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


class OpenSessions(Mapping[str, int]):
    """The open sessions by id, with the requests each has in flight: our own map, kept from the HTTP traffic.

    The SDK's session manager publishes no list of its sessions, so `SessionQuota` keeps this one as the requests
    pass: a session is open from the response that gives its id (status below 400) until a DELETE of it succeeds,
    a request for it is answered 404 (the SDK ended it: idle, crashed, or shut down), or it has had no request in
    flight for `idle_timeout` seconds, the SDK's own rule for closing it. Read it as a mapping of the sessions
    open now (the per-client quota and the `mcp_server_sessions_open` gauge do).

    Args:
        idle_timeout: Seconds a session with no request in flight lives (setting `http-session-idle-timeout`).
        clock: Seconds, monotonic.
    """

    def __init__(self, idle_timeout: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.idle_timeout = idle_timeout
        self._clock = clock
        self._in_flight: dict[str, int] = {}
        self._idle_since: dict[str, float] = {}

    def opened(self, session_id: str) -> None:
        """The response to the opening request gave `session_id`: the session is open, that request in flight."""
        self._in_flight[session_id] = self._in_flight.get(session_id, 0) + 1
        self._idle_since.pop(session_id, None)

    def begin(self, session_id: str) -> bool:
        """A request for `session_id` starts; whether the session is known (else the SDK answers it 404)."""
        if session_id not in self:
            return False
        self._in_flight[session_id] += 1
        self._idle_since.pop(session_id, None)
        return True

    def end(self, session_id: str, *, ended: bool) -> None:
        """A request for `session_id` is over; `ended`: its answer says the session is gone (404, a DELETE)."""
        if session_id not in self._in_flight:
            return
        if ended:
            del self._in_flight[session_id]
            self._idle_since.pop(session_id, None)
            return
        self._in_flight[session_id] -= 1
        if not self._in_flight[session_id]:
            self._idle_since[session_id] = self._clock()

    def _expire(self) -> None:
        deadline = self._clock() - self.idle_timeout
        for session_id in [key for key, since in self._idle_since.items() if since <= deadline]:
            del self._idle_since[session_id]
            del self._in_flight[session_id]

    def __getitem__(self, session_id: str) -> int:
        self._expire()
        return self._in_flight[session_id]

    def __iter__(self) -> Iterator[str]:
        self._expire()
        return iter(list(self._in_flight))

    def __len__(self) -> int:
        self._expire()
        return len(self._in_flight)


class SessionQuota:
    """ASGI middleware in front of the SDK's app: each client may hold only so many sessions at once.

    A client is its bearer token, else its remote address. In stateless mode there are no sessions; a GET (the
    stream for messages the server starts, which a stateless server never sends) is answered 405 there.

    Args:
        app: The SDK's Streamable HTTP app.
        sessions: The open sessions, which this middleware keeps up to date from the requests it passes.
        per_client: The most sessions one client may hold.
        stateless: Whether the server keeps no sessions.
        refusal_delay: Seconds before answering a client over its quota.
    """

    def __init__(
        self,
        app: Any,
        sessions: OpenSessions,
        *,
        per_client: int,
        stateless: bool,
        refusal_delay: float = REFUSAL_DELAY,
    ) -> None:
        self.app = app
        self.refusal_delay = refusal_delay
        self.per_client = per_client
        self.stateless = stateless
        self._open = sessions
        self._held: dict[str, set[str]] = {}
        self._opening: dict[str, int] = {}
        self._warned: dict[str, float] = {}

    def held_by(self, client: str) -> int:
        """How many sessions `client` holds or is opening now."""
        held = self._held.get(client)
        if held is not None:
            held.intersection_update(self._open)  # the sessions that ended (DELETE, idle, a crash) are let go
            if not held:
                del self._held[client]
        return len(self._held.get(client, ())) + self._opening.get(client, 0)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.stateless:
            if scope["method"] == "GET":
                reason = "Method Not Allowed: this server is stateless and opens no stream for GET; POST messages"
                await _respond(send, 405, _rpc_error(INVALID_REQUEST, reason), ((b"allow", b"POST, DELETE"),))
                return
            await self.app(scope, receive, send)
            return
        headers = scope["headers"]
        session_id = next((value.decode("latin-1") for key, value in headers if key == b"mcp-session-id"), None)
        if session_id is not None:
            await self._serve_in_session(session_id, scope, receive, send)
            return
        if scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        client = client_of_scope(scope)
        if len(self._held) > len(self._open) + 1000:  # clients gone for good are forgotten now and then
            for other in list(self._held):
                self.held_by(other)
            self._warned.clear()
        if self.held_by(client) >= self.per_client:
            now = time.monotonic()
            if now - self._warned.get(client, -math.inf) > 60:  # once a minute per client: a flood floods no log
                self._warned[client] = now
                logger.warning("refusing new sessions: %s holds %d sessions", client, self.per_client)
            reason = (
                f"Too many open sessions for this client: {self.per_client} (setting http-max-sessions-per-client); "
                f"end one with DELETE, or wait until one has been idle for {self._open.idle_timeout:g} s"
            )
            retry = str(max(1, round(self._open.idle_timeout))).encode()
            await anyio.sleep(self.refusal_delay)
            await _respond(send, 429, _rpc_error(_SERVER_BUSY, reason), ((b"retry-after", retry),))
            return
        self._opening[client] = self._opening.get(client, 0) + 1

        opened: list[str] = []

        async def watch(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                for key, value in message.get("headers", ()):
                    if key.lower() == b"mcp-session-id":
                        opened.append(value.decode("latin-1"))
                        self._open.opened(opened[0])
                        self._held.setdefault(client, set()).add(opened[0])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            self._opening[client] -= 1
            if not self._opening[client]:
                del self._opening[client]
            if opened:
                self._open.end(opened[0], ended=False)

    async def _serve_in_session(self, session_id: str, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """A request of an open session, counted in flight while it lasts; a 404 or a DELETE's success ends it."""
        known = self._open.begin(session_id)
        status: list[int] = []

        async def watch(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch if known else send)
        finally:
            if known:
                gone = bool(status) and (status[0] == 404 or (scope["method"] == "DELETE" and status[0] < 400))
                self._open.end(session_id, ended=gone)


def _rpc_error(code: int, message: str, request_id: Any = None) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


async def _respond(send: Any, status: int, data: dict[str, Any], headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    payload = json.dumps(data).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


async def http_app(server: MCPServer, settings: Settings, *, stateless: bool, tokens: Mapping[str, Role]) -> Any:
    """The ASGI app: the SDK's Streamable HTTP app, Host/Origin checks, `SessionQuota`, with tokens `BearerAuth`."""
    from mcp.server.transport_security import TransportSecuritySettings  # noqa: PLC0415

    names = _allowed_hosts(settings)
    hosts = [pattern for host in names for pattern in (host, f"{host}:*")]
    origins = [f"{scheme}://{pattern}" for pattern in hosts for scheme in ("http", "https")]
    origins += list(settings.allowed_origins)
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )
    app = server.streamable_http_app(
        stateless_http=stateless,
        json_response=stateless,
        transport_security=security,
        max_request_body_size=settings.max_message_bytes,
        session_idle_timeout=settings.http_session_idle_timeout,
        max_sessions=settings.http_max_sessions,
        host=settings.host,
    )
    sessions = OpenSessions(settings.http_session_idle_timeout)
    app = SessionQuota(
        app,
        sessions,
        per_client=settings.http_max_sessions_per_client,
        stateless=stateless,
    )
    if tokens:
        read_only = {
            tool.name for tool in await server.list_tools() if tool.annotations and tool.annotations.read_only_hint
        }
        app = BearerAuth(app, tokens, read_only, settings.max_message_bytes)
    return with_operations_routes(app, server, hosts, tokens, sessions)


def with_operations_routes(
    app: Any, server: MCPServer, hosts: list[str], tokens: Mapping[str, Role], sessions: Mapping[str, object]
) -> Any:
    """`app` behind `/healthz`, `/readyz` and `/metrics` (`_ops`); `/metrics` needs a token when there are any.

    `sessions` are the open sessions (`OpenSessions`), which `/metrics` counts. When the app shuts down (the ASGI
    lifespan), the server's connections to Redis are closed (`close_server`).
    """
    from codegen_lab.mcp_core._compose import close_server  # noqa: PLC0415
    from codegen_lab.mcp_core._ops import OperationsRoutes  # noqa: PLC0415
    from codegen_lab.mcp_core._telemetry import telemetry_of  # noqa: PLC0415

    checker = BearerAuth(app, tokens, set(), 0)
    return OperationsRoutes(
        app,
        telemetry_of(server),
        sessions,
        allowed_hosts=hosts,
        authorized=lambda header: not tokens or checker.role_of(header) is not None,
        on_shutdown=lambda: close_server(server),
    )


def _allowed_hosts(settings: Settings) -> list[str]:
    hosts = [*_LOOPBACK_HOSTS, settings.host, *settings.allowed_hosts]
    return list(dict.fromkeys(f"[{host}]" if ":" in host else host for host in hosts))


async def serve_http(server: MCPServer, settings: Settings, *, stateless: bool, tokens: Mapping[str, Role]) -> None:
    """Serve Streamable HTTP on `settings.host` and `settings.port` until cancelled, with the `http-*` limits."""
    import uvicorn  # noqa: PLC0415

    from codegen_lab.mcp_core._http_server import uvicorn_config  # noqa: PLC0415

    app = await http_app(server, settings, stateless=stateless, tokens=tokens)
    await uvicorn.Server(uvicorn_config(app, settings)).serve()
