"""`codegen-lab status`: the dashboard's Server view as Rich tables, or as JSON.

Of this project without a running server (toolkits, the audit log's calls, the configured rate limits, the
sandbox isolation), or of a running `serve --transport http` (`--url`), read from its `/dashboard/api/server`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from codegen_lab.common.errors import OperationError, UsageError

if TYPE_CHECKING:
    import httpx

    from codegen_lab.common import Settings

__all__ = ["local_status", "print_status", "remote_status"]

TOKEN_VARIABLE = "CODEGEN_LAB_TOKEN"  # noqa: S105 (the name of the variable, not a token)


def local_status(settings: Settings) -> dict[str, Any]:
    """The Server view of the project at `settings.root`, from the same data as the dashboard's."""
    import anyio  # noqa: PLC0415

    from codegen_lab.server._app import configure_logging, create_server  # noqa: PLC0415
    from codegen_lab.server._dashboard._data import Dashboard  # noqa: PLC0415

    configure_logging("WARNING")
    dashboard = Dashboard(settings, create_server(settings))
    report = anyio.run(dashboard.server_view)
    report["running"] = False
    return report


def remote_status(url: str, *, client: httpx.Client | None = None) -> dict[str, Any]:
    """The Server view of the server at `url`, with the bearer token in `CODEGEN_LAB_TOKEN` when set.

    `client` is the HTTP client to ask with (default: a new one).

    Raises:
        UsageError: For a URL that is not http(s) or a token the server refuses.
        OperationError: When the server cannot be reached or answers something else.
    """
    import httpx  # noqa: PLC0415

    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--url {url!r}: give the server's address, such as http://127.0.0.1:8765")
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    headers = {"authorization": f"Bearer {token}"} if token else {}
    address = f"{url.rstrip('/')}/dashboard/api/server"
    try:
        if client is None:
            with httpx.Client(timeout=30.0) as own:
                answer = own.get(address, headers=headers)
        else:
            answer = client.get(address, headers=headers)
    except httpx.HTTPError as exc:
        raise OperationError(f"--url {url}: cannot reach the server ({exc})") from None
    if answer.status_code == 401:
        raise UsageError(f"--url {url}: the server needs a token; set {TOKEN_VARIABLE}")
    if answer.status_code != 200:
        raise OperationError(f"--url {url}: {address} answered {answer.status_code} {answer.text.strip()[:200]}")
    try:
        report: dict[str, Any] = answer.json()
    except ValueError:
        raise OperationError(f"--url {url}: {address} did not answer JSON") from None
    report["running"] = True
    return report


def print_status(report: dict[str, Any]) -> None:
    """Print `report` (a Server view) as Rich tables on stdout."""
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    console = Console()
    uptime = f"up {report['uptime_seconds']:.0f} s" if report.get("running") else "not running (this project)"
    console.print(
        f"[bold]{report['name']} {report['version']}[/bold], {uptime}, root {report['workspace_root']}, "
        f"Python {report.get('python')}, sandbox isolation [bold]{report['isolation']}[/bold]"
    )
    tools = Table(title="Toolkits")
    for column in ("toolkit", "package", "tools"):
        tools.add_column(column)
    for toolkit in report["toolkits"]:
        names = ", ".join(tool["name"] for tool in toolkit["tools"])
        tools.add_row(toolkit["name"], f"{toolkit.get('package') or ''} {toolkit.get('version') or ''}", names)
    console.print(tools)
    calls = Table(title="Calls per tool (audit log)")
    for column in ("tool", "calls", "errors", "p50 ms", "p99 ms"):
        calls.add_column(column, justify="left" if column == "tool" else "right")
    for item in report["calls"]:
        calls.add_row(item["tool"], str(item["calls"]), str(item["errors"]), str(item["p50_ms"]), str(item["p99_ms"]))
    console.print(calls if report["calls"] else "no calls recorded yet")
    limits = Table(title="Rate limits")
    for column in ("class", "limit", "tokens left", "per client", "clients"):
        limits.add_column(column)
    for name, state in report["rate_limits"].items():
        left = "" if state["available"] is None else f"{state['available']:g}"
        limits.add_row(name, state["limit"] or "off", left, state["per_client"] or "", str(state["clients"]))
    console.print(limits)
    llm = report.get("llm")
    if llm:
        totals = llm["totals"]
        breakers = ", ".join(f"{name} {state}" for name, state in llm["breakers"].items()) or "none used"
        console.print(
            f"LLM: backends {', '.join(llm['backends']) or 'none'}, {totals['calls']} calls, "
            f"{totals['cache_hits']} cache hits, ${totals['cost_usd']:.4f}; breakers: {breakers}"
        )
