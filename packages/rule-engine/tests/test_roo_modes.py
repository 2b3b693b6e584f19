"""Roo Code's modes, as Roo-Code's src/core/prompts/sections/custom-instructions.ts loads rules for one mode."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from mcp import Client

from codegen_lab.common import Settings
from codegen_lab.common.results import to_json
from codegen_lab.mcp_core import ServerContext, build_server
from codegen_lab.rule_engine import RuleEngine, RuleEngineUsageError, lint
from codegen_lab.rule_engine.cli import cli
from codegen_lab.rule_engine.mcp import create_toolkit

MakeRepo = Callable[[dict[str, str]], Path]

ROO = {
    ".roo/rules-code/style.md": "Code mode, from the folder.\n",
    ".roorules-code": "Code mode, legacy: not read while the folder has a file.\n",
    ".clinerules-ask": "Ask mode, Cline's legacy name.\n",
    ".roorules-debug": "   \n",
    ".clinerules-debug": "Debug mode, read because .roorules-debug is empty.\n",
    ".roorules": "Every mode.\n",
    ".clinerules": "Every mode, Cline's name: not read while .roorules is there.\n",
    ".roo/rules-docs/d.md": "Docs mode rules.\n",
    ".roomodes": (
        "customModes:\n  - slug: docs\n    name: Docs\n    roleDefinition: A writer.\n"
        "    customInstructions: Write docs in British English.\n    groups: [read]\n"
    ),
    "AGENTS.md": "Agents.\n",
    "src/a.py": "",
}


def roo(engine: RuleEngine, mode: str | None) -> list[str]:
    return [entry.rule.relpath for entry in engine.explain("src/a.py", "roo", mode=mode).attached]


@pytest.fixture
def engine(make_repo: MakeRepo) -> RuleEngine:
    return RuleEngine.load(make_repo(ROO))


def test_each_mode_loads_its_own_rules_in_roos_order(engine: RuleEngine) -> None:
    # The default mode is architect, which has no rules of its own here.
    assert roo(engine, None) == ["AGENTS.md", ".roorules"]
    assert roo(engine, "code") == [".roo/rules-code/style.md", "AGENTS.md", ".roorules"]
    assert roo(engine, "ask") == [".clinerules-ask", "AGENTS.md", ".roorules"]
    assert roo(engine, "debug") == [".clinerules-debug", "AGENTS.md", ".roorules"]
    assert roo(engine, "docs") == [".roomodes#docs", ".roo/rules-docs/d.md", "AGENTS.md", ".roorules"]


def test_the_reasons_say_which_file_wins(engine: RuleEngine) -> None:
    explanation = engine.explain("src/a.py", "roo", mode="code")
    reasons = {entry.rule.relpath: entry.reason for entry in explanation.not_attached}
    assert reasons[".roorules-code"] == (
        "Roo reads .roorules-code only when no .roo/rules-code/ folder (global or the project's) has a file"
    )
    assert reasons[".clinerules"] == "Roo reads .clinerules only when .roorules is missing"
    assert reasons[".clinerules-ask"] == "mode-specific: Roo loads it in the ask mode only (this view is for code)"
    (view,) = explanation.views
    assert to_json(view)["mode"] == "code"
    docs = engine.explain("src/a.py", "roo", mode="docs").attached[0]
    assert (docs.rule.body.strip(), docs.reason) == (
        "Write docs in British English.",
        "the docs mode's customInstructions in .roomodes",
    )


def test_an_unknown_mode_or_a_mode_for_another_assistant_is_a_usage_error(engine: RuleEngine) -> None:
    with pytest.raises(RuleEngineUsageError, match="unknown Roo mode 'nope'; modes here: architect, code, ask"):
        engine.explain("src/a.py", "roo", mode="nope")
    with pytest.raises(RuleEngineUsageError, match="a mode is a Roo Code setting"):
        engine.explain("src/a.py", "cursor", mode="code")
    result = CliRunner().invoke(
        cli, ["which", "src/a.py", "--root", str(engine.root), "--assistant", "roo", "--mode", "x"]
    )
    assert result.exit_code == 2
    assert "unknown Roo mode 'x'" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_which_render_and_lint_take_the_mode(engine: RuleEngine) -> None:
    root = str(engine.root)
    result = CliRunner().invoke(
        cli, ["which", "src/a.py", "--root", root, "--assistant", "roo", "--mode", "ask", "--format", "json"]
    )
    assert [entry["rule"] for entry in json.loads(result.stdout)["attached"]] == [
        ".clinerules-ask",
        "AGENTS.md",
        ".roorules",
    ]
    result = CliRunner().invoke(
        cli, ["render", "src/a.py", "--root", root, "--assistant", "roo", "--mode", "docs", "--format", "json"]
    )
    assert json.loads(result.stdout)["rules"] == [".roomodes#docs", ".roo/rules-docs/d.md", "AGENTS.md", ".roorules"]
    report = lint(engine, assistant="roo", mode="code")
    assert report.files == 5  # .roo/rules-code/style.md, .roorules-code, .roorules, .clinerules, AGENTS.md
    result = CliRunner().invoke(
        cli, ["lint", "--root", root, "--assistant", "roo", "--mode", "ask", "--format", "json"]
    )
    assert json.loads(result.stdout)["summary"]["files"] == 4


@pytest.mark.anyio
async def test_the_mcp_tools_take_the_mode(engine: RuleEngine) -> None:
    settings = Settings(root=engine.root)
    server = build_server(settings, [create_toolkit(ServerContext(settings))])
    async with Client(server) as client:
        result = await client.call_tool("rules_for_path", {"path": "src/a.py", "assistant": "roo", "mode": "code"})
        rendered = await client.call_tool("rules_render", {"paths": ["src/a.py"], "assistant": "roo", "mode": "ask"})
        wrong = await client.call_tool("rules_for_path", {"path": "src/a.py", "assistant": "roo", "mode": "nope"})
    answer = result.structured_content or {}
    assert [entry["rule"] for entry in answer["attached"]] == [".roo/rules-code/style.md", "AGENTS.md", ".roorules"]
    assert (rendered.structured_content or {})["rules"] == [".clinerules-ask", "AGENTS.md", ".roorules"]
    assert wrong.is_error
