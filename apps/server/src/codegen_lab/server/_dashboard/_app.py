"""The dashboard's Starlette app: one page per view, a live fragment of the Server view, the undo action.

Routes, under `/dashboard` (`/` redirects there): `server` (and `server/live`, the part refreshed every 2 s;
`api/server`, the same as JSON), `rules` (and `rules/paths`, the path picker's completions), `workspace`,
`tests`, `changes` (and `changes/undo`, POST), `login`, `logout`, `static/`. Library work runs in a worker thread.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from codegen_lab.common.errors import CodegenLabError
from codegen_lab.server._dashboard._access import COOKIE, PREFIX, DashboardAccess, caller_of_scope
from codegen_lab.server._dashboard._data import ViewError

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from codegen_lab.common import Settings
    from codegen_lab.mcp_core._http import Role
    from codegen_lab.mcp_core._ratelimit import RateLimits
    from codegen_lab.server._dashboard._data import Dashboard

__all__ = ["dashboard_app", "serve_dashboard", "serve_with_dashboard", "with_dashboard"]

logger = logging.getLogger(__name__)

_HERE = Path(__file__).parent
_VIEWS = ("server", "rules", "workspace", "tests", "changes")
_MAX_FORM = 64 * 1024

Handler = Callable[[Request], Awaitable[Response]]


def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(_HERE / "templates"), autoescape=select_autoescape(default=True), auto_reload=False
    )
    environment.filters["tojson_pretty"] = lambda value: json.dumps(value, indent=2, sort_keys=True)  # pyright: ignore[reportUnknownLambdaType]
    return environment


def dashboard_app(dashboard: Dashboard, settings: Settings, tokens: dict[str, Role]) -> DashboardAccess:  # noqa: PLR0915 (a handler per route)
    """The dashboard as an ASGI app behind its access rules (`DashboardAccess`)."""
    templates = _environment()

    def page(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        caller = caller_of_scope(request.scope)
        html = templates.get_template(template).render(
            prefix=PREFIX, views=_VIEWS, caller=caller, root=str(dashboard.root), **values
        )
        return HTMLResponse(html, status_code=status)

    async def view(request: Request, name: str, work: Callable[[], Any]) -> HTMLResponse:
        try:
            data = await run_in_threadpool(work)
        except (ViewError, CodegenLabError) as exc:
            return page(request, "error.html", 400, view=name, message=str(exc).splitlines()[0])
        return page(request, f"{name}.html", view=name, data=data)

    async def home(request: Request) -> Response:
        return RedirectResponse(f"{PREFIX}/server", status_code=307)

    async def server(request: Request) -> Response:
        return page(request, "server.html", view="server", data=await dashboard.server_view())

    async def server_live(request: Request) -> Response:
        return page(request, "server_live.html", view="server", data=await dashboard.server_view())

    async def server_json(request: Request) -> Response:
        return JSONResponse(await dashboard.server_view())

    async def rules(request: Request) -> Response:
        query = request.query_params
        path = query.get("path", "").strip()
        assistant = query.get("assistant", "")
        budget = _number(query.get("budget"), 8_000)
        return await view(request, "rules", lambda: dashboard.rules_view(path, assistant, budget))

    async def rule_paths(request: Request) -> Response:
        query = request.query_params.get("q", "")
        return JSONResponse(await run_in_threadpool(dashboard.paths, query))

    async def workspace(request: Request) -> Response:
        query = request.query_params
        since, before, after = (query.get(name, "").strip() for name in ("since", "before", "after"))
        return await view(request, "workspace", lambda: dashboard.workspace_view(since, before, after))

    async def tests(request: Request) -> Response:
        module = request.query_params.get("module", "").strip()
        return await view(request, "tests", lambda: dashboard.tests_view(module))

    async def changes(request: Request) -> Response:
        return await view(request, "changes", dashboard.changes_view)

    async def undo(request: Request) -> Response:
        caller = caller_of_scope(request.scope)
        form = await _form(request)
        if form is None:
            return page(request, "error.html", 413, view="changes", message="the form is too large")
        if caller["role"] != "write":
            message = "undo needs a token with the write role; this one is read-only"
            return page(request, "error.html", 403, view="changes", message=message)
        if not hmac.compare_digest(form.get("csrf", ""), caller["csrf"]):
            message = "the form's CSRF token is missing or stale: reload the Changes page and try again"
            return page(request, "error.html", 403, view="changes", message=message)
        force = form.get("force") == "on"
        try:
            report = await run_in_threadpool(lambda: dashboard.undo(force=force))
        except CodegenLabError as exc:
            return page(request, "error.html", 409, view="changes", message=str(exc).splitlines()[0])
        logger.info("dashboard: undid %s", report["change"]["id"])
        return page(request, "undone.html", view="changes", report=report)

    async def login(request: Request) -> Response:
        if request.method == "GET":
            return page(request, "login.html", view="login", failed=False)
        form = await _form(request) or {}
        token = form.get("token", "").strip()
        access: DashboardAccess = app
        if not token or access.role_of(token) is None:
            return page(request, "login.html", 401, view="login", failed=True)
        response = RedirectResponse(f"{PREFIX}/server", status_code=303)
        secure = request.url.scheme == "https"
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path=PREFIX, secure=secure)
        return response

    async def logout(request: Request) -> Response:
        response = RedirectResponse(f"{PREFIX}/login", status_code=303)
        response.delete_cookie(COOKIE, path=PREFIX)
        return response

    routes = [
        Route("/", home),
        Route(PREFIX, home),
        Route(f"{PREFIX}/", home),
        Route(f"{PREFIX}/server", server),
        Route(f"{PREFIX}/server/live", server_live),
        Route(f"{PREFIX}/api/server", server_json),
        Route(f"{PREFIX}/rules", rules),
        Route(f"{PREFIX}/rules/paths", rule_paths),
        Route(f"{PREFIX}/workspace", workspace),
        Route(f"{PREFIX}/tests", tests),
        Route(f"{PREFIX}/changes", changes),
        Route(f"{PREFIX}/changes/undo", undo, methods=["POST"]),
        Route(f"{PREFIX}/login", login, methods=["GET", "POST"]),
        Route(f"{PREFIX}/logout", logout, methods=["POST"]),
        Mount(f"{PREFIX}/static", StaticFiles(directory=_HERE / "static"), name="static"),
    ]
    app = DashboardAccess(Starlette(routes=routes), settings, tokens)
    return app


def _number(text: str | None, default: int) -> int:
    try:
        return max(100, min(200_000, int(text))) if text else default
    except ValueError:
        return default


async def _form(request: Request) -> dict[str, str] | None:
    """The URL-encoded form of a POST (its first value per field), or None when it is too large."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_FORM:
            return None
    fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


def with_dashboard(mcp_app: Any, dashboard: Any) -> Callable[..., Awaitable[None]]:
    """One ASGI app: `/` and `/dashboard...` to `dashboard`, everything else (`/mcp`, the lifespan) to `mcp_app`."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and (path in ("/", PREFIX) or path.startswith(f"{PREFIX}/")):
            await dashboard(scope, receive, send)
            return
        await mcp_app(scope, receive, send)

    return app


async def serve_with_dashboard(
    server: MCPServer, settings: Settings, *, stateless: bool, tokens: dict[str, Role], rate_limits: RateLimits
) -> None:
    """`serve --transport http`: the MCP app at `/mcp` and the dashboard at `/dashboard`, under one uvicorn."""
    from codegen_lab.mcp_core import http_app  # noqa: PLC0415
    from codegen_lab.server._dashboard._data import Dashboard  # noqa: PLC0415

    mcp = await http_app(server, settings, stateless=stateless, tokens=tokens)
    dashboard = dashboard_app(Dashboard(settings, server, rate_limits), settings, tokens)
    await serve_dashboard(with_dashboard(mcp, dashboard), settings)


async def serve_dashboard(app: Any, settings: Settings) -> None:
    """Serve `app` with uvicorn on `settings.host` and `settings.port`, with the server's HTTP limits."""
    import uvicorn  # noqa: PLC0415

    from codegen_lab.mcp_core._http_server import uvicorn_config  # noqa: PLC0415

    await uvicorn.Server(uvicorn_config(app, settings)).serve()
