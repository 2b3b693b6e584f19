"""Ready-to-paste configuration for the MCP clients people use: Cursor, Claude Desktop and Claude Code."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import JsonValue

from codegen_lab.common.results import SparseResult

if TYPE_CHECKING:
    from codegen_lab.common import Settings

__all__ = ["ClientConfig", "ClientEntry", "client_configs", "render_text", "server_command"]

SERVER_KEY = "codegen-lab"
CLIENTS = ("cursor", "claude-desktop", "claude-code")


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """How to add the server to one client."""

    client: str
    title: str
    file: str
    """Where the configuration goes."""
    config: dict[str, Any]
    """The JSON to merge into that file."""
    command: list[str] = field(default_factory=list[str])
    """A command that adds the server instead, when the client has one."""
    notes: str = ""

    def to_result(self) -> ClientEntry:
        """The entry as `config --format json` prints it: `command` and `notes` only when there are some."""
        entry: dict[str, Any] = {"client": self.client, "file": self.file, "config": self.config}
        if self.command:
            entry["command"] = self.command
        if self.notes:
            entry["notes"] = self.notes
        return ClientEntry.model_validate(entry)


class ClientEntry(SparseResult):
    """How to add the server to one client, as JSON."""

    client: str
    """The client: `cursor`, `claude-desktop` or `claude-code`."""
    file: str
    """The configuration file the entry goes in."""
    config: dict[str, JsonValue]
    """The JSON to merge into that file."""
    command: list[str] | None = None
    """A command that adds the server instead, when the client has one."""
    notes: str | None = None
    """What else to know (where else the file may go, a restart)."""


def server_command() -> list[str]:
    """The command that starts this installation's server, with absolute paths so that GUI clients find it."""
    script = Path(sys.executable).parent / ("codegen-lab.exe" if sys.platform == "win32" else "codegen-lab")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "codegen_lab.server"]


def _claude_desktop_file() -> str:
    if sys.platform == "darwin":
        return "~/Library/Application Support/Claude/claude_desktop_config.json"
    if sys.platform == "win32":
        return r"%APPDATA%\Claude\claude_desktop_config.json"
    return "~/.config/Claude/claude_desktop_config.json"


def client_configs(
    settings: Settings, *, clients: Sequence[str] | None = None, transport: Literal["stdio", "http"] = "stdio"
) -> list[ClientConfig]:
    """The configuration of each client in `clients` (default: all) for a server on `settings.root`.

    With `transport="http"` the clients connect to `http://{host}:{port}/mcp`, which `codegen-lab serve
    --transport http` must be serving; Claude Desktop only starts local servers, so it keeps the stdio form.
    """
    command, *arguments = server_command()
    arguments = [*arguments, "serve", "--root", str(settings.root)]
    url = f"http://{_url_host(settings.host)}:{settings.port}/mcp"
    stdio: dict[str, Any] = {"command": command, "args": arguments}
    made: list[ClientConfig] = []
    for client in clients or CLIENTS:
        if client == "cursor":
            made.append(
                ClientConfig(
                    client=client,
                    title="Cursor",
                    file=str(settings.root / ".cursor" / "mcp.json"),
                    config={"mcpServers": {SERVER_KEY: {"url": url} if transport == "http" else stdio}},
                    notes="Or ~/.cursor/mcp.json to use it in every project.",
                )
            )
        elif client == "claude-desktop":
            made.append(
                ClientConfig(
                    client=client,
                    title="Claude Desktop",
                    file=_claude_desktop_file(),
                    config={"mcpServers": {SERVER_KEY: stdio}},
                    notes="Restart Claude Desktop after editing the file."
                    + (" It starts the server itself (stdio)." if transport == "http" else ""),
                )
            )
        elif client == "claude-code":
            if transport == "http":
                entry: dict[str, Any] = {"type": "http", "url": url}
                add = ["claude", "mcp", "add", "--transport", "http", "--scope", "project", SERVER_KEY, url]
            else:
                entry = {"type": "stdio", **stdio}
                add = ["claude", "mcp", "add", "--transport", "stdio", "--scope", "project", SERVER_KEY, "--"]
                add += [command, *arguments]
            made.append(
                ClientConfig(
                    client=client,
                    title="Claude Code",
                    file=str(settings.root / ".mcp.json"),
                    config={"mcpServers": {SERVER_KEY: entry}},
                    command=add,
                )
            )
        else:
            raise ValueError(f"unknown client {client!r}; known clients: {', '.join(CLIENTS)}")
    return made


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def render_text(configs: Sequence[ClientConfig]) -> str:
    """The configurations as text for people: a heading, the file, the JSON, and the command where there is one."""
    blocks: list[str] = []
    for entry in configs:
        lines = [f"# {entry.title}: add to {entry.file}", json.dumps(entry.config, indent=2)]
        if entry.command:
            lines += ["", "# or run:", shlex.join(entry.command)]
        if entry.notes:
            lines.append(f"# {entry.notes}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
