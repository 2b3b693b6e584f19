"""The dashboard's access rules, the same as `/mcp`'s: loopback by default, bearer tokens with roles, Host and Origin.

- Host must name this server (loopback, the `host` setting, `allowed-hosts`): else 421. An `Origin`, when sent,
  must be one of those hosts or `allowed-origins`: else 403; a POST must carry an allowed `Origin` or `Referer`.
- Without tokens, only loopback clients are served (the server binds loopback then), with the write role.
- With tokens, a request needs one: `Authorization: Bearer TOKEN`, or the cookie the login form sets (HttpOnly,
  SameSite=Strict). A browser without one is sent to the login form. The role is the token's (`read`, `write`).
- Every page gets a CSRF token bound to the caller (the token's fingerprint, or `local`) and this process; the
  undo action checks it and the write role.
- Answers carry a strict Content-Security-Policy (no inline script, nothing from elsewhere) and `no-store`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Mapping, MutableMapping
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.responses import PlainTextResponse

from codegen_lab.mcp_core._http import BearerAuth

if TYPE_CHECKING:
    from codegen_lab.common import Settings
    from codegen_lab.mcp_core._http import Role

__all__ = ["COOKIE", "PREFIX", "DashboardAccess", "caller_of_scope"]

PREFIX = "/dashboard"
COOKIE = "codegen_lab_token"
_SCOPE_KEY = "codegen_lab.dashboard"
_OPEN_PATHS = (f"{PREFIX}/login", f"{PREFIX}/static/")
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]


def caller_of_scope(scope: Mapping[str, Any]) -> dict[str, Any]:
    """What `DashboardAccess` found of the request: `{"role", "identity", "csrf", "tokens"}`."""
    found: dict[str, Any] = scope.get(_SCOPE_KEY) or {"role": None, "identity": "", "csrf": "", "tokens": False}
    return found


class DashboardAccess:
    """ASGI middleware in front of the dashboard app: Host, Origin, the caller's role and CSRF token.

    Args:
        app: The dashboard's Starlette app.
        settings: The server's settings (`host`, `allowed-hosts`, `allowed-origins`).
        tokens: Token to role, as `load_tokens` reads them; empty: loopback clients only, with the write role.
    """

    def __init__(self, app: Any, settings: Settings, tokens: Mapping[str, Role]) -> None:
        self.app = app
        names = [*_LOOPBACK_HOSTS, settings.host, *settings.allowed_hosts]
        self._hosts = {name.strip("[]").lower() for name in names}
        self._origins = set(settings.allowed_origins)
        self._tokens = bool(tokens)
        self._auth = BearerAuth(None, tokens, set(), 0)  # the same constant-time comparison as /mcp
        self._secret = secrets.token_bytes(32)

    def role_of(self, token: str) -> Role | None:
        """The role of `token`, compared in constant time with every token."""
        return self._auth.role_of(f"Bearer {token}")

    def csrf(self, identity: str) -> str:
        """The CSRF token of a caller: bound to this process and to who the caller is."""
        return hmac.new(self._secret, identity.encode(), hashlib.sha256).hexdigest()

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await _plain(scope, send, *refusal)
            return
        token = _bearer(headers.get("authorization")) or _cookie(headers.get("cookie"))
        if not self._tokens:
            role: Role | None = "write"
            identity = "local"
        else:
            role = self.role_of(token) if token else None
            identity = hashlib.sha256(token.encode()).hexdigest()[:12] if role is not None else ""
        scope[_SCOPE_KEY] = {
            "role": role,
            "identity": identity,
            "csrf": self.csrf(identity) if role is not None else "",
            "tokens": self._tokens,
        }
        path: str = scope["path"]
        if role is None and path != "/" and not path.startswith(_OPEN_PATHS):  # `/` only redirects
            if scope["method"] == "GET" and "text/html" in headers.get("accept", ""):
                await _plain(scope, send, 303, "a token is needed: log in", {"location": f"{PREFIX}/login"})
            else:
                await _plain(scope, send, 401, "a valid bearer token is required", {"www-authenticate": "Bearer"})
            return

        async def secured(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *_HEADERS]}
            await send(message)

        await self.app(scope, receive, secured)

    def _refusal(self, scope: Mapping[str, Any], headers: Mapping[str, str]) -> tuple[int, str] | None:
        host = _host_name(headers.get("host", ""))
        if host not in self._hosts:
            return 421, f"Misdirected Request: host {headers.get('host', '')!r} is not this server's"
        origin = headers.get("origin")
        if origin is not None and not self._allowed_origin(origin):
            return 403, f"Forbidden: origin {origin!r} is not allowed"
        if scope["method"] not in {"GET", "HEAD"}:
            sent = origin or headers.get("referer")
            if sent is None or not self._allowed_origin(sent):
                return 403, "Forbidden: a change needs an Origin or Referer of this server"
        if not self._tokens:
            client = scope.get("client")
            if client and not _is_loopback(str(client[0])):
                return 403, "Forbidden: without tokens only this machine may use the dashboard"
        return None

    def _allowed_origin(self, value: str) -> bool:
        parts = urlsplit(value)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin in self._origins:
            return True
        return parts.scheme in {"http", "https"} and (parts.hostname or "").lower() in self._hosts


def _host_name(value: str) -> str:
    """The host of a Host header, without its port and IPv6 brackets, lowercased."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].partition("]")[0]
    name, _, port = value.rpartition(":")
    return name if name and port.isdigit() else value


def _bearer(header: str | None) -> str:
    if header and header.lower().startswith("bearer "):
        return header[7:].strip()
    return ""


def _cookie(header: str | None) -> str:
    if not header:
        return ""
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return ""
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None else ""


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address == "localhost"


async def _plain(
    scope: MutableMapping[str, Any], send: Any, status: int, text: str, headers: Mapping[str, str] | None = None
) -> None:
    """Answer `status` with `text`, the security headers and `headers`, before the dashboard app is reached."""
    answer = PlainTextResponse(f"{status} {text}\n", status_code=status, headers=headers)
    answer.raw_headers += _HEADERS

    async def nothing() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    await answer(scope, nothing, send)
