"""Cold start is a product feature: starting the server imports nothing beyond what a bare MCP server does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROBE = """
import json, sys
from mcp.server.mcpserver import MCPServer
def ping() -> str:
    return "pong"
MCPServer("bare").tool()(ping)  # what a bare server imports, rich logging included
before = set(sys.modules)
from codegen_lab.mcp_core import load_settings
from codegen_lab.server import create_server
from codegen_lab.server._cli import cli
create_server(load_settings(sys.argv[1]))
print(json.dumps(sorted(set(sys.modules) - before)))
"""

HEAVY = ("anthropic", "hypothesis", "coverage", "rich", "tomlkit", "httpx")


def test_building_the_server_adds_only_our_own_light_modules(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stderr
    added: list[str] = json.loads(completed.stdout)
    foreign = [name for name in added if not name.startswith("codegen_lab") and not name.startswith("tomllib")]
    assert foreign == [], f"starting the server imports more than the SDK does: {foreign}"
    assert not [name for name in added if name.split(".")[0] in HEAVY]
