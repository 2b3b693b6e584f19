"""The web dashboard: the server, the rules, the workspace, the tests and the changes, in a browser.

Server-rendered HTML (Jinja2) on Starlette, with a little plain JavaScript; the templates and static files ship in
the wheel (nothing from a CDN). `dashboard_app` is the ASGI app (under `/dashboard`, `/` redirecting there), with
the same access rules as `/mcp` (`_access`); `with_dashboard` puts it beside the MCP app of `serve --transport
http`. Every view reads the same library functions as the CLI and the MCP tools (`_data`).
"""

from codegen_lab.server._dashboard._access import DashboardAccess
from codegen_lab.server._dashboard._app import dashboard_app, serve_dashboard, serve_with_dashboard, with_dashboard
from codegen_lab.server._dashboard._data import Dashboard

__all__ = [
    "Dashboard",
    "DashboardAccess",
    "dashboard_app",
    "serve_dashboard",
    "serve_with_dashboard",
    "with_dashboard",
]
