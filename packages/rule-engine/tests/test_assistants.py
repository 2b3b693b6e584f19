from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from codegen_lab.common.results import to_json
from codegen_lab.rule_engine import RuleEngine, RuleEngineUsageError, lint
from codegen_lab.rule_engine.cli import cli

MakeRepo = Callable[[dict[str, str]], Path]

MONOREPO = {
    ".cursor/rules/py.mdc": "---\nglobs: src/**/*.py,svc/**/*.py\n---\nTyped Python.\n",
    "AGENTS.md": "Root agents.\n",
    "svc/AGENTS.md": "Service agents.\n",
    "svc/AGENTS.override.md": "Service override.\n",
    "CLAUDE.md": "# Memory\n@AGENTS.md\n@docs/style.md\n",
    "docs/style.md": "Style, imported.\n@more.md\n",
    "docs/more.md": "Imported twice removed.\n",
    ".roo/rules/a.md": "Roo all modes.\n",
    ".roo/rules-architect/b.md": "Roo architect.\n",
    ".roorules": "Roo legacy.\n",
    ".rules": "Zed first.\n",
    ".github/copilot-instructions.md": "Copilot repo.\n",
    ".github/instructions/api/py.instructions.md": "---\napplyTo: 'svc/**/*.py'\n---\nCopilot nested.\n",
    "svc/api/main.py": "",
    "svc/GEMINI.md": "Nested Gemini.\n",
    ".junie/guidelines.md": "Junie.\n",
    ".continue/rules/py.md": "---\nglobs: '**/*.py'\nalwaysApply: false\n---\nContinue Python.\n",
}


def view(engine: RuleEngine, path: str, assistant: str) -> dict[str, tuple[bool, str]]:
    explanation = engine.explain(path, assistant)
    found = {entry.rule.relpath: (True, entry.reason) for entry in explanation.attached}
    found |= {entry.rule.relpath: (False, entry.reason) for entry in explanation.not_attached}
    return found


def attached(engine: RuleEngine, path: str, assistant: str) -> list[str]:
    return sorted(rule.relpath for rule in engine.rules_for(path, assistant))


@pytest.fixture
def monorepo(make_repo: MakeRepo) -> RuleEngine:
    return RuleEngine.load(make_repo(MONOREPO))


def test_each_assistant_loads_what_its_documentation_says(monorepo: RuleEngine) -> None:
    path = "svc/api/main.py"
    assert attached(monorepo, path, "cursor") == [".cursor/rules/py.mdc", "AGENTS.md", "svc/AGENTS.md"]
    assert attached(monorepo, path, "agents-md") == ["svc/AGENTS.md"]
    assert attached(monorepo, path, "codex") == ["AGENTS.md", "svc/AGENTS.override.md"]
    assert attached(monorepo, path, "claude") == ["AGENTS.md", "CLAUDE.md"]
    assert attached(monorepo, path, "copilot") == [
        ".github/copilot-instructions.md",
        ".github/instructions/api/py.instructions.md",
        "svc/AGENTS.md",
    ]
    assert attached(monorepo, path, "cline") == ["AGENTS.md"]
    assert attached(monorepo, path, "kiro") == ["AGENTS.md"]
    assert attached(monorepo, path, "gemini") == ["svc/GEMINI.md"]
    assert attached(monorepo, "README.md", "gemini") == ["svc/GEMINI.md"]
    # Roo's default mode is architect (the first of its built-in modes).
    assert attached(monorepo, path, "roo") == [".roo/rules-architect/b.md", ".roo/rules/a.md", "AGENTS.md"]
    assert attached(monorepo, path, "zed") == [".rules"]
    assert attached(monorepo, path, "junie") == [".junie/guidelines.md"]
    assert attached(monorepo, path, "opencode") == ["AGENTS.md", "svc/AGENTS.md"]
    assert attached(monorepo, path, "continue") == [".continue/rules/py.md"]


def test_reasons_name_the_precedence(monorepo: RuleEngine) -> None:
    codex = view(monorepo, "svc/api/main.py", "codex")
    assert codex["svc/AGENTS.md"] == (False, "svc/AGENTS.override.md replaces it")
    nearest = view(monorepo, "svc/api/main.py", "agents-md")
    assert nearest["AGENTS.md"] == (False, "the nearest AGENTS.md (svc/AGENTS.md) wins")
    roo = view(monorepo, "svc/api/main.py", "roo")
    assert roo[".roorules"] == (
        False,
        "Roo reads .roorules only when no .roo/rules/ folder (global or the project's) has a file",
    )
    roo = monorepo.explain("svc/api/main.py", "roo", mode="code")
    (architect,) = [entry for entry in roo.not_attached if entry.rule.relpath == ".roo/rules-architect/b.md"]
    assert architect.reason == "mode-specific: Roo loads it in the architect mode only (this view is for code)"
    zed = view(monorepo, "svc/api/main.py", "zed")
    assert zed["AGENTS.md"][0] is False
    assert zed["AGENTS.md"][1].endswith(": .rules is there")
    cline = view(monorepo, "svc/api/main.py", "cline")
    assert cline["svc/AGENTS.md"] == (False, "Cline reads AGENTS.md at the root only")
    opencode = view(monorepo, "svc/api/main.py", "opencode")
    assert opencode["CLAUDE.md"] == (False, "OpenCode loads only the first of AGENTS.md, CLAUDE.md: AGENTS.md is there")


def test_claude_imports_are_followed_once(monorepo: RuleEngine) -> None:
    explanation = monorepo.explain("svc/api/main.py", "claude")
    reasons = {entry.rule.relpath: entry.reason for entry in explanation.attached}
    assert reasons["AGENTS.md"] == "imported by CLAUDE.md (@AGENTS.md)"
    (claude,) = explanation.views
    assert claude.imports == (("docs/style.md", "CLAUDE.md"), ("docs/more.md", "docs/style.md"))


def test_symlink_twins_load_once(make_repo: MakeRepo) -> None:
    root = make_repo({"AGENTS.md": "Shared.\n", "x.py": ""})
    (root / "CLAUDE.md").symlink_to("AGENTS.md")
    (root / "GEMINI.md").symlink_to("AGENTS.md")
    (root / ".rules").symlink_to("AGENTS.md")
    (root / ".clinerules").symlink_to("AGENTS.md")
    engine = RuleEngine.load(root)
    cline = view(engine, "x.py", "cline")
    assert cline[".clinerules"] == (True, "always applies (cline)")
    assert cline["AGENTS.md"] == (False, "the same file as .clinerules (a symbolic link): loaded once")
    copilot = view(engine, "x.py", "copilot")
    assert copilot["CLAUDE.md"][0] is False
    assert copilot["CLAUDE.md"][1].startswith("an alternative to AGENTS.md")


def test_codex_skips_empty_files_and_stops_at_its_size_limit(make_repo: MakeRepo) -> None:
    engine = RuleEngine.load(
        make_repo({"AGENTS.md": "x" * 40_000 + "\n", "a/AGENTS.md": "\n", "a/b/AGENTS.md": "deep\n", "a/b/c.py": ""})
    )
    codex = view(engine, "a/b/c.py", "codex")
    assert codex["AGENTS.md"][0] is True
    assert codex["a/AGENTS.md"] == (False, "empty: Codex skips empty files")
    assert codex["a/b/AGENTS.md"] == (False, "past project_doc_max_bytes (32,768 bytes): Codex stops adding files")


def test_all_groups_by_assistant_and_unknown_is_refused(monorepo: RuleEngine) -> None:
    data = to_json(monorepo.explain("svc/api/main.py", "all"))
    assert "claude" in data["assistants"]
    assert data["assistants"]["claude"]["imports"][0] == {"file": "docs/style.md", "imported_by": "CLAUDE.md"}
    assert "windsurf" in data["assistants"]  # it reads AGENTS.md
    with pytest.raises(RuleEngineUsageError, match="unknown assistant 'vim'"):
        monorepo.explain("x.py", "vim")


def test_render_and_lint_for_one_assistant(monorepo: RuleEngine) -> None:
    rendering = monorepo.render_context(["svc/api/main.py"], assistant="codex")
    assert rendering.rules == ["AGENTS.md", "svc/AGENTS.override.md"]
    assert "Service override." in rendering.text
    assert "Service agents." not in rendering.text
    report = lint(monorepo, assistant="zed")
    assert report.files == 6
    assert report.assistants == {"zed": {"files": 6, "errors": 0, "warnings": 0, "always_on_tokens": 3}}
    everything = lint(monorepo).assistants
    assert everything["codex"]["files"] == 3
    assert everything["claude"]["always_on_tokens"] == 9 + 4  # CLAUDE.md and the AGENTS.md it imports


def test_cli_takes_an_assistant(monorepo: RuleEngine) -> None:
    runner = CliRunner()
    root = str(monorepo.root)
    which = runner.invoke(cli, ["which", "svc/api/main.py", "--root", root, "--assistant", "codex", "--format", "json"])
    assert which.exit_code == 0, which.output
    assert [entry["rule"] for entry in json.loads(which.stdout)["attached"]] == ["AGENTS.md", "svc/AGENTS.override.md"]
    grouped = runner.invoke(cli, ["which", "svc/api/main.py", "--root", root])
    assert "Codex (about" in grouped.stdout
    assert "imported docs/style.md by CLAUDE.md" in grouped.stdout
    rendered = runner.invoke(cli, ["render", "svc/api/main.py", "--root", root, "--assistant", "zed"])
    assert "Zed first." in rendered.stdout
    assert "Root agents." not in rendered.stdout
    linted = runner.invoke(cli, ["lint", "--root", root])
    assert "  zed: 6 files, 0 errors, 0 warnings" in linted.stdout
    refused = runner.invoke(cli, ["which", "x.py", "--root", root, "--assistant", "vim"])
    assert refused.exit_code == 2
