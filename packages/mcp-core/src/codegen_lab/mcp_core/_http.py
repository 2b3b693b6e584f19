"""Streamable HTTP with access control: bearer tokens with roles, Host and Origin checks, a body size limit.

A token is `read` or `write`. A `read` token may call only the tools annotated read-only; the tools that change
files or environments need `write`. Tokens are compared in constant time. Host and Origin are checked by the
SDK's transport security (421 and 403), the body size too (413).
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, cast

from mcp_types import PARSE_ERROR
from pydantic_core import from_json

from codegen_lab.common.errors import UsageError
from codegen_lab.common.secrets import register_secret

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from codegen_lab.common._settings import Settings

__all__ = ["BearerAuth", "Role", "http_app", "load_tokens", "serve_http"]

logger = logging.getLogger(__name__)

Role = Literal["read", "write"]
_ROLES: dict[str, Role] = {"read": "read", "write": "write"}
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


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
    """

    def __init__(self, app: Any, tokens: Mapping[str, Role], read_only_tools: set[str], max_body: int) -> None:
        self.app = app
        self._tokens: list[tuple[bytes, Role]] = [(token.encode(), role) for token, role in tokens.items()]
        self.read_only_tools = read_only_tools
        self.max_body = max_body

    def role_of(self, header: str | None) -> Role | None:
        """The role of the token in an `Authorization: Bearer` header, compared in constant time."""
        if not header or not header.lower().startswith("bearer "):
            return None
        given = header[7:].strip().encode()
        found: Role | None = None
        for token, role in self._tokens:  # every token is compared, whichever matches
            if hmac.compare_digest(given, token):
                found = role
        return found

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        role = self.role_of(headers.get("authorization"))
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
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_body:
                await _respond(send, 413, {"error": "request body too large"})
                return
        refusal = self._refusal(body)
        if refusal is not None:
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
            reason = f"Parse error: {str(exc)[:200]}"
            return 400, {"jsonrpc": "2.0", "id": None, "error": {"code": PARSE_ERROR, "message": reason}}
        message: dict[str, Any] = cast("dict[str, Any]", loaded) if isinstance(loaded, dict) else {}
        if message.get("method") != "tools/call":
            return None
        params: object = message.get("params")
        name: object = cast("dict[str, Any]", params).get("name") if isinstance(params, dict) else None
        if isinstance(name, str) and name in self.read_only_tools:
            return None
        reason = f"forbidden: tool {name!r} changes things and needs a token with the write role"
        return 403, {"jsonrpc": "2.0", "id": message.get("id"), "error": {"code": -32001, "message": reason}}


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
    """The ASGI app: the SDK's Streamable HTTP app with Host/Origin checks and, with tokens, `BearerAuth`."""
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
    if not tokens:
        return app
    read_only = {
        tool.name for tool in await server.list_tools() if tool.annotations and tool.annotations.read_only_hint
    }
    return BearerAuth(app, tokens, read_only, settings.max_message_bytes)


def _allowed_hosts(settings: Settings) -> list[str]:
    hosts = [*_LOOPBACK_HOSTS, settings.host, *settings.allowed_hosts]
    return list(dict.fromkeys(f"[{host}]" if ":" in host else host for host in hosts))


async def serve_http(server: MCPServer, settings: Settings, *, stateless: bool, tokens: Mapping[str, Role]) -> None:
    """Serve Streamable HTTP on `settings.host` and `settings.port` until cancelled."""
    import uvicorn  # noqa: PLC0415

    from codegen_lab.mcp_core._http_server import uvicorn_config  # noqa: PLC0415

    app = await http_app(server, settings, stateless=stateless, tokens=tokens)
    await uvicorn.Server(uvicorn_config(app, settings)).serve()
