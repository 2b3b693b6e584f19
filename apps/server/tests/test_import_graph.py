"""Cold start is a product feature: starting the server imports nothing beyond what a bare MCP server does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import json, sys
from mcp.server.mcpserver import MCPServer
def ping() -> str:
    return "pong"
MCPServer("bare").tool()(ping)  # what a bare server imports, rich logging included
before = set(sys.modules)
from codegen_lab.common import load_settings
from codegen_lab.server import create_server
from codegen_lab.server._cli import cli
create_server(load_settings(sys.argv[1]))
print(json.dumps(sorted(set(sys.modules) - before)))
"""

HEAVY = ("anthropic", "hypothesis", "coverage", "rich", "tomlkit", "httpx")
FIRST_START_ONLY = ("pydantic.functional_serializers",)
"""What the first start imports to build the tools' schemas from their result models (`SparseResult`'s
serializer); a start with the schema cache does not (the slow test below checks it)."""


def added_by_a_start(root: Path, cache: Path) -> list[str]:
    """The modules that building the server adds to a bare server's, in a fresh process with `cache` as cache folder."""
    environment = {**os.environ, "CODEGEN_LAB_CACHE_DIR": str(cache)}
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, str(root)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=environment,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def test_building_the_server_adds_only_our_own_light_modules(tmp_path: Path) -> None:
    added = added_by_a_start(tmp_path, tmp_path / "cache")
    ours = ("codegen_lab", "tomllib")
    foreign = [
        name
        for name in added
        if not name.startswith(ours) and name not in sys.builtin_module_names and name not in FIRST_START_ONLY
    ]
    assert foreign == [], f"starting the server imports more than the SDK does: {foreign}"
    assert not [name for name in added if name.split(".")[0] in HEAVY]


@pytest.mark.slow
def test_a_start_with_the_schema_cache_leaves_the_llm_service_and_result_models_for_the_first_call(
    tmp_path: Path,
) -> None:
    """What only a tool call needs (the LLM service, testgen's result models) waits for it: the first start builds
    the tools' schemas from the result models; the starts after it read them from the cache."""
    first = added_by_a_start(tmp_path, tmp_path / "cache")
    again = added_by_a_start(tmp_path, tmp_path / "cache")

    assert "codegen_lab.testgen._models" in first
    assert "codegen_lab.uvtools._tool_results" in first
    deferred = (
        "codegen_lab.testgen._models",
        "codegen_lab.llm._service",
        "codegen_lab.llm._cache",
        "codegen_lab.uvtools._tool_results",
        *FIRST_START_ONLY,
    )
    assert [name for name in again if name in deferred] == []


GC_PROBE = """
import gc, json, sys
FROZEN_AT_START = gc.get_freeze_count()
import codegen_lab.server._cli as cli

def report(server, settings, **options):
    print(json.dumps({"enabled": gc.isenabled(), "frozen": gc.get_freeze_count() - FROZEN_AT_START}))

cli._run = report
sys.argv = ["codegen-lab", *sys.argv[1:]]
from codegen_lab.server import main
try:
    main()
except SystemExit:
    pass
if sys.argv[1] != "serve":
    print(json.dumps({"enabled": gc.isenabled(), "frozen": gc.get_freeze_count() - FROZEN_AT_START}))
"""


def gc_state_after(tmp_path: Path, *arguments: str) -> dict[str, object]:
    environment = {**os.environ, "CODEGEN_LAB_CACHE_DIR": str(tmp_path / "cache")}
    completed = subprocess.run(
        [sys.executable, "-c", GC_PROBE, *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=environment,
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.splitlines()[-1])


def test_serve_collects_garbage_again_once_the_server_is_built_and_skips_what_the_start_made(tmp_path: Path) -> None:
    state = gc_state_after(tmp_path, "serve", "--root", str(tmp_path))

    assert state["enabled"] is True
    assert isinstance(state["frozen"], int)
    assert state["frozen"] > 10_000  # the modules, classes and tools of the start, out of later collections' way


def test_other_commands_run_with_garbage_collection_on_and_skip_what_the_start_made(tmp_path: Path) -> None:
    state = gc_state_after(tmp_path, "toolkits", "--root", str(tmp_path), "--format", "json")

    assert state["enabled"] is True
    assert isinstance(state["frozen"], int)
    assert state["frozen"] > 10_000


def test_a_command_that_ends_before_its_work_leaves_the_collection_at_exit_nothing_of_the_start(
    tmp_path: Path,
) -> None:
    state = gc_state_after(tmp_path, "--version")

    assert state["enabled"] is False  # nothing ran that could make garbage
    assert isinstance(state["frozen"], int)
    assert state["frozen"] > 10_000


COMMAND_PROBE = """
import contextlib, io, json, sys
sys.argv = ["codegen-lab", *sys.argv[1:]]
from codegen_lab.server import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main()
    except SystemExit:
        pass
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""

SETTINGS_AND_SERVER = {"pydantic", "pydantic_core", "mcp", "mcp_types", "uvicorn", "anthropic", "starlette"}
"""What a command that neither reads settings nor serves has no use for."""


@pytest.mark.parametrize(
    "arguments", [["--version"], ["--help"], ["ws", "--help"], ["rules", "--help"], ["testgen", "--help"]]
)
def test_a_command_imports_only_what_it_needs(tmp_path: Path, arguments: list[str]) -> None:
    completed = subprocess.run(
        [sys.executable, "-c", COMMAND_PROBE, *arguments], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert completed.returncode == 0, completed.stderr
    assert sorted(set(json.loads(completed.stdout)) & SETTINGS_AND_SERVER) == []
