"""The `codegen-lab` command.

Built-in commands: `serve`, `toolkits`, `config` (client configuration; `config show`: the effective
settings and their sources). Each installed library adds its own click group as a
subcommand through the entry-point group `codegen_lab.cli`; a group is imported only when it is run (or when
`--help` lists it), so `codegen-lab serve` pays nothing for the others.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Generator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click

from codegen_lab.common.cli import HostContext, format_option, reported_errors, result_json, root_option
from codegen_lab.server._plugins import Plugin, plugins, versions

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from codegen_lab.common import ResolvedSettings, Settings
    from codegen_lab.common.files import Change
    from codegen_lab.mcp_core import RateLimits

__all__ = ["CLI_ENTRY_POINT_GROUP", "cli", "main"]

CLI_ENTRY_POINT_GROUP = "codegen_lab.cli"
"""A library mounts its click group as `codegen-lab NAME` by declaring, in its pyproject.toml:

```toml
[project.entry-points."codegen_lab.cli"]
rules = "codegen_lab.rule_engine.cli:cli"
```
"""

_BUILTIN_COMMANDS = (
    "serve",
    "dashboard",
    "status",
    "toolkits",
    "config",
    "cache",
    "generate",
    "review",
    "audit",
    "undo",
)
_LOG_LEVELS = click.Choice(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], case_sensitive=False)


class _Cli(click.Group):
    """The root group: built-in commands plus the installed libraries' groups, each imported on first use."""

    def _plugins(self) -> dict[str, Plugin]:
        found = plugins(CLI_ENTRY_POINT_GROUP)
        return {name: found[name] for name in sorted(found) if name not in _BUILTIN_COMMANDS}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *self._plugins()]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        entry_point = self._plugins().get(cmd_name)
        if entry_point is None:
            return None
        try:
            loaded: object = entry_point.load()
        except Exception as exc:
            raise click.ClickException(
                f"the command {cmd_name!r} from {entry_point.package} failed to load ({entry_point.value}): "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if not isinstance(loaded, click.Command):
            raise click.ClickException(
                f"the command {cmd_name!r} from {entry_point.package} is {type(loaded).__name__}, not a click command"
            )
        return loaded

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands; one whose package fails to load is listed as such, and the rest still show."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows: list[tuple[str, str]] = []
        for name in names:
            try:
                command = self.get_command(ctx, name)
            except click.ClickException as exc:
                rows.append((name, f"(unavailable: {exc.message})"))
                continue
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _version_message() -> str:
    from platform import python_version  # noqa: PLC0415

    version = versions("codegen-lab-server", "codegen-lab-mcp-core", "mcp")
    return (
        f"codegen-lab {version['codegen-lab-server']} "
        f"(mcp-core {version['codegen-lab-mcp-core']}, mcp {version['mcp']}, Python {python_version()})"
    )


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(_version_message())
        ctx.exit()


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the versions of codegen-lab, mcp-core, the MCP SDK and Python, and exit.",
)
def cli() -> None:
    """Codegen Lab: tools for AI-assisted Python development, served over the Model Context Protocol."""
    if click.get_current_context().invoked_subcommand != "serve" and not gc.isenabled():
        # `main` turned it off for the start (`serve` turns it on once the server is built). What the start made
        # (modules, classes, functions) lives until exit: frozen, later collections and the one at exit skip it.
        gc.freeze()
        gc.enable()
    # the mounted command groups find the host's model here (`codegen-lab testgen generate --llm`)
    click.get_current_context().obj = HostContext(model=_testgen_model)


@contextmanager
def _testgen_model(root: Path | None) -> Generator[Any]:
    """The LLM of the settings of `root`, as testgen's completer (None when no backend is configured)."""
    from codegen_lab.llm import LLMService  # noqa: PLC0415
    from codegen_lab.server._testgen import cli_completer  # noqa: PLC0415

    with cli_completer(LLMService.from_settings(_settings(root=root))) as completer:
        yield completer


_root_option = root_option("Workspace root the tools work in (default: CODEGEN_LAB_ROOT, else the current directory).")
_format_option = format_option()
_reported_errors = reported_errors


def _settings(**overrides: object) -> Settings:
    return _resolved(**overrides).settings


def _resolved(**overrides: object) -> ResolvedSettings:
    """The settings from the user's sources (and the repository's project preferences), with their sources."""
    from codegen_lab.common import resolve_settings  # noqa: PLC0415 (pydantic, only for commands that need settings)

    return resolve_settings(overrides=overrides, overrides_source="command line")


@cli.command()
@click.option(
    "--transport",
    type=click.Choice(["stdio", "http"]),
    default="stdio",
    show_default=True,
    help="stdio for a client that starts the server; http for Streamable HTTP.",
)
@click.option("--host", default=None, help="Address to bind with --transport http (default: 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to bind with --transport http (default: 8765).")
@click.option(
    "--stateless",
    is_flag=True,
    help="With --transport http: no sessions, plain JSON answers, for running several replicas behind a load balancer.",
)
@click.option(
    "--allow-remote", is_flag=True, help="Allow --host to be an address other than loopback (needs a token too)."
)
@click.option("--log-level", type=_LOG_LEVELS, default=None, help="Log level on stderr (default: INFO).")
@_root_option
def serve(
    transport: Literal["stdio", "http"],
    host: str | None,
    port: int | None,
    stateless: bool,
    allow_remote: bool,
    log_level: str | None,
    root: Path | None,
) -> None:
    """Run the MCP server (stdio by default). Logs go to stderr."""
    from codegen_lab.server._app import configure_logging, create_server  # noqa: PLC0415

    with _reported_errors():
        import os  # noqa: PLC0415

        from codegen_lab.mcp_core import load_tokens  # noqa: PLC0415

        resolved = _resolved(root=root, host=host, port=port, log_level=log_level)
        settings = resolved.settings
        configure_logging(settings.log_level)
        from codegen_lab.server._tracing import configure_tracing  # noqa: PLC0415

        configure_tracing(os.environ)
        tokens = load_tokens(settings, os.environ) if transport == "http" else {}
        token_sources = _token_sources(resolved, os.environ)
        if transport == "http" and not _is_loopback(settings.host) and not (allow_remote and tokens):
            from codegen_lab.common import SettingsError  # noqa: PLC0415

            raise SettingsError(
                [
                    f"host = {settings.host!r}: not a loopback address; binding it needs --allow-remote and at least "
                    "one token (CODEGEN_LAB_HTTP_TOKENS=write:TOKEN or the http-tokens-file setting)"
                ]
            )
        limits = None
        if transport == "http":
            from codegen_lab.mcp_core import RateLimits  # noqa: PLC0415

            limits = RateLimits(settings.rate_limits, per_client=settings.client_rate_limits)
        server = create_server(settings, rate_limits=limits)
        # What the start made lives as long as the server: later collections need not look at it again.
        gc.freeze()
        gc.enable()
        _run(
            server,
            settings,
            transport=transport,
            stateless=stateless,
            tokens=tokens,
            token_sources=token_sources,
            rate_limits=limits,
        )


def _token_sources(resolved: ResolvedSettings, environ: Mapping[str, str]) -> str:
    """Where the bearer tokens come from, for the start's log line: the variable, the file and who named it."""
    found: list[str] = []
    if environ.get("CODEGEN_LAB_HTTP_TOKENS", "").strip():
        found.append("environment variable CODEGEN_LAB_HTTP_TOKENS")
    if resolved.settings.http_tokens_file is not None:
        found.append(f"file {resolved.settings.http_tokens_file} (set by {resolved.sources['http_tokens_file']})")
    return ", ".join(found)


def _is_loopback(host: str) -> bool:
    import ipaddress  # noqa: PLC0415

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _run(
    server: MCPServer,
    settings: Settings,
    *,
    transport: Literal["stdio", "http"],
    stateless: bool,
    tokens: dict[str, Literal["read", "write"]],
    token_sources: str = "",
    rate_limits: RateLimits | None = None,
) -> None:
    import logging  # noqa: PLC0415

    import anyio  # noqa: PLC0415

    logger = logging.getLogger("codegen_lab.server")
    if transport == "stdio":
        from codegen_lab.mcp_core import close_server, serve_stdio  # noqa: PLC0415

        async def serve() -> None:
            try:
                await serve_stdio(server, max_message_bytes=settings.max_message_bytes)
            finally:
                with anyio.CancelScope(shield=True):
                    await close_server(server)  # its connections to Redis, when it has some

        logger.info("serving over stdio, workspace root %s", settings.root)
        anyio.run(serve)
        return
    from codegen_lab.mcp_core import RateLimits  # noqa: PLC0415
    from codegen_lab.server._dashboard import serve_with_dashboard  # noqa: PLC0415

    limits = rate_limits or RateLimits(settings.rate_limits, per_client=settings.client_rate_limits)
    logger.info(
        "serving Streamable HTTP on http://%s:%d/mcp (dashboard at /dashboard)%s%s, workspace root %s",
        settings.host,
        settings.port,
        " (stateless, JSON answers)" if stateless else "",
        f", {len(tokens)} bearer tokens from {token_sources}" if tokens else ", no authentication (loopback only)",
        settings.root,
    )
    try:
        anyio.run(
            lambda: serve_with_dashboard(server, settings, stateless=stateless, tokens=tokens, rate_limits=limits)
        )
    except KeyboardInterrupt:
        logger.info("stopped")


@cli.command()
@click.option("--port", type=click.IntRange(1, 65535), default=8766, show_default=True, help="Port on 127.0.0.1.")
@click.option("--log-level", type=_LOG_LEVELS, default=None, help="Log level on stderr (default: INFO).")
@_root_option
def dashboard(port: int, log_level: str | None, root: Path | None) -> None:
    """Serve the web dashboard of the project at the root on this machine (http://127.0.0.1:PORT/dashboard).

    The same views and access rules as `serve --transport http`: loopback only, the bearer tokens when any are
    configured (a read token cannot undo). No MCP endpoint: for that, run `serve --transport http`.
    """
    from codegen_lab.server._app import configure_logging, create_server  # noqa: PLC0415

    with _reported_errors():
        import os  # noqa: PLC0415

        import anyio  # noqa: PLC0415

        from codegen_lab.mcp_core import RateLimits, load_tokens  # noqa: PLC0415
        from codegen_lab.server._dashboard import Dashboard, dashboard_app, serve_dashboard  # noqa: PLC0415

        settings = _settings(root=root, host="127.0.0.1", port=port, log_level=log_level)
        configure_logging(settings.log_level)
        tokens = load_tokens(settings, os.environ)
        limits = RateLimits(settings.rate_limits, per_client=settings.client_rate_limits)
        server = create_server(settings, rate_limits=limits)
        app = dashboard_app(Dashboard(settings, server, limits), settings, tokens)
        import logging  # noqa: PLC0415

        logging.getLogger("codegen_lab.server").info(
            "dashboard on http://127.0.0.1:%d/dashboard%s, workspace root %s",
            port,
            f", {len(tokens)} bearer tokens" if tokens else "",
            settings.root,
        )
        with suppress(KeyboardInterrupt):
            anyio.run(lambda: serve_dashboard(app, settings))


@cli.command()
@click.option(
    "--url",
    default=None,
    help="A running `serve --transport http` (http://127.0.0.1:8765); its token from CODEGEN_LAB_TOKEN. "
    "Default: this project, without a running server.",
)
@_format_option
@_root_option
def status(url: str | None, output_format: str, root: Path | None) -> None:
    """The dashboard's Server view in the terminal: tools, calls per tool, rate limits, LLM, sandbox isolation."""
    from codegen_lab.server._status import local_status, print_status, remote_status  # noqa: PLC0415

    with _reported_errors():
        report = remote_status(url) if url is not None else local_status(_settings(root=root))
    if output_format == "json":
        click.echo(json.dumps(report, indent=2))
        return
    print_status(report)


@cli.command()
@_format_option
@_root_option
def toolkits(output_format: str, root: Path | None) -> None:
    """List the toolkits this server loads, with their tools, resources and prompts."""
    import anyio  # noqa: PLC0415

    from codegen_lab.server._app import configure_logging, create_server  # noqa: PLC0415

    with _reported_errors():
        settings = _settings(root=root)
        configure_logging("WARNING")
        server = create_server(settings)
        report = anyio.run(_describe, server)
    if output_format == "json":
        click.echo(json.dumps(report, indent=2))
        return
    _print_toolkits(report)


async def _describe(server: MCPServer) -> dict[str, Any]:
    """Ask the composed server itself, as a client does: `server_info` plus each tool's description."""
    from mcp import Client  # noqa: PLC0415

    async with Client(server) as client:
        info: dict[str, Any] = (await client.call_tool("server_info", {})).structured_content or {}
        descriptions = {tool.name: tool.description or "" for tool in (await client.list_tools()).tools}
    for toolkit in info.get("toolkits", []):
        toolkit["tools"] = [{"name": name, "description": descriptions.get(name, "")} for name in toolkit["tools"]]
    return {"workspace_root": info.get("workspace_root"), "toolkits": info.get("toolkits", [])}


def _print_toolkits(report: dict[str, Any]) -> None:
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    table = Table(title=f"Toolkits for {report['workspace_root']}", title_justify="left")
    table.add_column("toolkit", style="bold")
    table.add_column("package", no_wrap=True)
    table.add_column("tools")
    table.add_column("resources and prompts", overflow="fold")
    for toolkit in report["toolkits"]:
        package = f"{toolkit['package']} {toolkit['version'] or ''}".strip() if toolkit["package"] else "-"
        tools = "\n".join(tool["name"] for tool in toolkit["tools"])
        others = "\n".join([*toolkit["resources"], *(f"prompt {name}" for name in toolkit["prompts"])])
        table.add_row(toolkit["name"], package, tools or "-", others or "-")
    Console().print(table)


def _client_options[F: Callable[..., Any]](fn: F) -> F:
    """The options of `config` and `config clients`: which clients, which transport, the format and the root."""
    fn = _root_option(fn)
    fn = _format_option(fn)
    fn = click.option(
        "--transport",
        type=click.Choice(["stdio", "http"]),
        default="stdio",
        show_default=True,
        help="stdio: the client starts the server; http: the client connects to a running `serve --transport http`.",
    )(fn)
    return click.option(
        "--client",
        "clients",
        type=click.Choice(["cursor", "claude-desktop", "claude-code"]),
        multiple=True,
        help="Which client to configure; repeat for several (default: all).",
    )(fn)


@cli.group(invoke_without_command=True)
@_client_options
@click.pass_context
def config(
    ctx: click.Context,
    clients: tuple[str, ...],
    transport: Literal["stdio", "http"],
    output_format: str,
    root: Path | None,
) -> None:
    """Print ready-to-paste configuration for Cursor, Claude Desktop and Claude Code (`config show`: the settings)."""
    if ctx.invoked_subcommand is None:
        _print_clients(clients, transport, output_format, root)


@config.command("clients")
@_client_options
def config_clients(
    clients: tuple[str, ...], transport: Literal["stdio", "http"], output_format: str, root: Path | None
) -> None:
    """Print ready-to-paste configuration for Cursor, Claude Desktop and Claude Code (what `config` prints)."""
    _print_clients(clients, transport, output_format, root)


def _print_clients(
    clients: tuple[str, ...], transport: Literal["stdio", "http"], output_format: str, root: Path | None
) -> None:
    from codegen_lab.server._clients import client_configs, render_text  # noqa: PLC0415

    with _reported_errors():
        settings = _settings(root=root)
        configs = client_configs(settings, clients=clients or None, transport=transport)
    if output_format == "json":
        click.echo(json.dumps(result_json(configs), indent=2))
        return
    click.echo(render_text(configs))


@config.command("show")
@_format_option
@_root_option
def config_show(output_format: str, root: Path | None) -> None:
    """Print every effective setting and where it came from; secrets show as [redacted].

    Security settings come only from the user config file, the environment and the command line; a repository's
    [tool.codegen-lab] may set only include and exclude (the keys it tried to set otherwise are listed).
    """
    with _reported_errors():
        resolved = _resolved(root=root)
    report = resolved.to_result()
    if output_format == "json":
        click.echo(json.dumps(result_json(report), indent=2))
        return
    click.echo(f"user config file: {report.user_config or '(none)'}")
    for name, entry in report.settings.items():
        click.echo(f"{name} = {json.dumps(entry.value)}  ({entry.source})")
    for message in report.ignored:
        click.echo(f"ignored: {message}")


@cli.command()
@click.option("--task", required=True, help="What the code should do.")
@click.option("--target", "target_path", required=True, help="The Python file to write, relative to the root.")
@click.option("--context", "context_paths", multiple=True, help="A file whose text and rules go into the prompt.")
@click.option("--write", is_flag=True, help="Write the file when the code passes validation (atomically, backed up).")
@click.option("--test", "tests", multiple=True, help="A test file to run against the new code (default: its own).")
@click.option("--typecheck", is_flag=True, help="Also type-check the code with basedpyright, when installed.")
@click.option("--no-cache", is_flag=True, help="Ask the LLM even when the cache holds an answer.")
@_format_option
@_root_option
def generate(
    task: str,
    target_path: str,
    context_paths: tuple[str, ...],
    write: bool,
    tests: tuple[str, ...],
    typecheck: bool,
    no_cache: bool,
    output_format: str,
    root: Path | None,
) -> None:
    """Write code for TASK into TARGET with the LLM, following the project's rules, and validate it."""
    import anyio  # noqa: PLC0415

    from codegen_lab.server._app import configure_logging, deferred_llm  # noqa: PLC0415
    from codegen_lab.server._codegen import code_loop  # noqa: PLC0415

    streamed: list[str] = []

    async def stream(text: str) -> None:
        if output_format == "text":
            streamed.append(text)
            click.echo(text, nl=False, err=True)

    with _reported_errors():
        settings = _settings(root=root)
        configure_logging("WARNING")
        loop = code_loop(settings, deferred_llm(settings))()
        try:
            result = anyio.run(
                lambda: loop.generate(
                    task=task,
                    target_path=target_path,
                    context_paths=list(context_paths),
                    write=write,
                    tests=list(tests) or None,
                    typecheck=typecheck,
                    on_text=stream,
                    cache=not no_cache,
                )
            )
        except Exception:
            if streamed and not streamed[-1].endswith("\n"):
                click.echo("", err=True)  # the error starts its own line after a streamed answer that broke off
            raise
    if output_format == "json":
        click.echo(json.dumps(result_json(result), indent=2))
    else:
        click.echo(f"\n--- {result.target} (rules: {', '.join(result.rules) or 'none'})", err=True)
        click.echo(result.code, nl=False)
        _echo_validation(result_json(result.validation))
        for done in result.rounds[:-1]:
            click.echo(f"round {done['round']}: failed ({len(done['failures'])} problems), sent back", err=True)
        usage = result.llm["usage"]
        cost = result.llm.get("cost_usd")
        click.echo(
            f"llm: {result.llm['backend']} {result.llm['model']}"
            + (
                " (cached)"
                if result.llm["cached"]
                else f", {usage['input_tokens']} tokens in ({usage['cache_read_input_tokens']} from the prompt cache), "
                f"{usage['output_tokens']} out, {usage['latency_seconds']} s"
            )
            + (f", {len(result.rounds)} rounds" if len(result.rounds) > 1 else "")
            + (f", ${cost:.4f}" if cost else ""),
            err=True,
        )
        if result.note:
            click.echo(result.note, err=True)
    if not result.validation.passed:
        raise SystemExit(1)


@cli.command()
@click.argument("path")
@click.option("--no-cache", is_flag=True, help="Ask the LLM even when the cache holds an answer.")
@_format_option
@_root_option
def review(path: str, no_cache: bool, output_format: str, root: Path | None) -> None:
    """Review PATH against the project rules that apply to it and the linters (with the LLM when configured)."""
    import anyio  # noqa: PLC0415

    from codegen_lab.server._app import configure_logging, deferred_llm  # noqa: PLC0415
    from codegen_lab.server._codegen import code_loop  # noqa: PLC0415

    with _reported_errors():
        settings = _settings(root=root)
        configure_logging("WARNING")
        loop = code_loop(settings, deferred_llm(settings))()
        result = anyio.run(lambda: loop.review(path=path, cache=not no_cache))
    if output_format == "json":
        click.echo(json.dumps(result_json(result), indent=2))
        return
    click.echo(f"{result.path} ({result.mode} review; rules: {', '.join(result.rules) or 'none'})")
    click.echo(result.review)


def _echo_validation(report: dict[str, Any]) -> None:
    if report["passed"]:
        click.echo("validation: passed (syntax, ruff with security rules, import allowlist, call policy)", err=True)
        return
    if report["syntax_error"]:
        click.echo(f"validation: syntax error at {report['syntax_error']}", err=True)
    for item in [*report["lint"], *report["policy"]]:
        click.echo(f"validation: line {item['line']}: {item.get('code', 'policy')} {item['message']}", err=True)
    tests: dict[str, Any] = report.get("tests") or {}
    if tests.get("skipped") or tests.get("error"):
        click.echo(f"tests: {tests.get('skipped') or tests.get('error')}", err=True)
    for failure in tests.get("failures", []):
        click.echo(f"tests: {failure['test']} failed: {failure['message']}", err=True)


@cli.command()
@click.option(
    "--limit", type=click.IntRange(min=1), default=50, show_default=True, help="How many calls, newest first."
)
@_format_option
@_root_option
def audit(limit: int, output_format: str, root: Path | None) -> None:
    """The audit log: the latest tool calls, with client, argument digest, outcome, duration and LLM cost."""
    import time  # noqa: PLC0415

    from codegen_lab.mcp_core._audit import AuditLog  # noqa: PLC0415

    with _reported_errors():
        settings = _settings(root=root)
    path = settings.state_dir_path / "audit.sqlite3"
    entries = AuditLog(path).entries(limit) if path.exists() else []
    if output_format == "json":
        click.echo(json.dumps({"path": str(path), "calls": entries}, indent=2))
        return
    for entry in entries:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry["time"]))
        spent = ""
        if entry["llm_calls"]:
            cost = "cost unknown" if entry["cost_usd"] is None else f"${entry['cost_usd']:.6f}"
            spent = f" {entry['llm_calls']} LLM calls {cost}"
        click.echo(
            f"{when} {entry['tool']} ({entry['client'] or 'unknown client'}) {entry['duration'] * 1000:.0f} ms "
            f"{entry['outcome']} args {entry['digest'][:12]}{spent}"
        )
    if not entries:
        click.echo(f"no calls recorded in {path}")


@cli.command()
@click.option("--list", "list_changes", is_flag=True, help="List the recent changes under the root, newest first.")
@click.option("--force", is_flag=True, help="Restore files edited since the change too, losing those edits.")
@_format_option
@_root_option
def undo(list_changes: bool, force: bool, output_format: str, root: Path | None) -> None:
    """Take back the last change Codegen Lab made to files under the root.

    Files it wrote get their previous content back, files it created are removed, files it removed come back.
    A file edited since the change stops the undo, unless --force. Each undo takes back one more change.
    """
    from codegen_lab.common.files import recent_changes, undo_last  # noqa: PLC0415

    with _reported_errors():
        settings = _settings(root=root)
        if list_changes:
            changes = recent_changes(settings.root, state_dir=settings.state_dir_path)
            if output_format == "json":
                listed = {"root": str(settings.root), "changes": result_json(changes)}
                click.echo(json.dumps(listed, indent=2))
                return
            for change in changes:
                click.echo(f"{_change_line(change)}, {len(change.files)} files")
            if not changes:
                click.echo(f"no changes recorded under {settings.root}")
            return
        report = undo_last(settings.root, force=force, state_dir=settings.state_dir_path)
    if output_format == "json":
        click.echo(json.dumps(result_json(report), indent=2))
        return
    click.echo(f"undid {_change_line(report.change)}")
    for heading, paths in (("restored", report.restored), ("removed", report.removed)):
        for path in paths:
            edited = " (edited since: those edits are gone)" if path in report.overwritten else ""
            click.echo(f"  {heading} {path}{edited}")
    for path in report.unchanged:
        click.echo(f"  unchanged {path} (the change had not reached it)")


def _change_line(change: Change) -> str:
    """`2026-11-26 19:40:00 generate_code src/app.py (ID)`, with `undone` or `interrupted` when so."""
    import time  # noqa: PLC0415

    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(change.time))
    state = " [undone]" if change.undone is not None else "" if change.complete else " [interrupted]"
    return f"{when} {change.purpose} ({change.id}){state}"


@cli.group()
def cache() -> None:
    """The LLM response cache: how big it is, and emptying it."""


@cache.command("stats")
@_format_option
@_root_option
def cache_stats(output_format: str, root: Path | None) -> None:
    """Entries, size, limits and location of the LLM response cache, and what its answers cost."""
    from codegen_lab.llm import ResponseCache  # noqa: PLC0415

    with _reported_errors():
        store = ResponseCache.from_settings(_settings(root=root))
    stats = store.stats()
    store.close()
    if output_format == "json":
        click.echo(json.dumps(stats, indent=2))
        return
    click.echo(
        f"{stats['entries']} answers, {stats['bytes']:,} of {stats['max_bytes']:,} bytes, kept "
        f"{stats['ttl_seconds'] / 3600:g} h, in {stats['path']}"
    )
    read = stats["stored_cache_read_input_tokens"]
    click.echo(
        f"the stored answers cost ${stats['stored_cost_usd']:.4f}: {stats['stored_input_tokens']:,} tokens in "
        f"(and {read:,} from the prompt cache), {stats['stored_output_tokens']:,} out"
    )


@cache.command("clear")
@_format_option
@_root_option
def cache_clear(output_format: str, root: Path | None) -> None:
    """Remove every cached LLM answer."""
    from codegen_lab.llm import ResponseCache  # noqa: PLC0415

    with _reported_errors():
        store = ResponseCache.from_settings(_settings(root=root))
    removed = store.clear()
    store.close()
    if output_format == "json":
        click.echo(json.dumps({"removed": removed, "path": str(store.path)}))
        return
    click.echo(f"removed {removed} cached answers from {store.path}")


def main() -> None:
    """Run the `codegen-lab` command (`codegen_lab.server.main` turns garbage collection off before importing this)."""
    cli(prog_name="codegen-lab")
