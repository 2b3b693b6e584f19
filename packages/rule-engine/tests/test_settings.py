"""Each assistant's view loads what it would load for this user: the user's settings files and rule files count.

HOME is a fresh folder in every test (the `home` fixture of conftest.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from codegen_lab.common.results import to_json
from codegen_lab.rule_engine import RuleEngine
from codegen_lab.rule_engine.cli import cli

MakeRepo = Callable[[dict[str, str]], Path]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", errors="surrogateescape")  # "\udcff": a byte that is not UTF-8
    return path


def view(root: Path, path: str, assistant: str, mode: str | None = None) -> dict[str, Any]:
    explanation = RuleEngine.load(root).explain(path, assistant, mode=mode)
    (only,) = explanation.views
    return to_json(only)


def attached(answer: dict[str, Any]) -> list[str]:
    return [entry["rule"] for entry in answer["attached"]]


def reasons(answer: dict[str, Any]) -> dict[str, str]:
    entries = [*answer["attached"], *answer["not_attached"]]
    return {entry["rule"]: entry["reason"] for entry in entries}


CODEX_REPO = {
    "TEAM.md": "Team guide.\n",
    "svc/AGENTS.md": "Service agents.\n",
    "svc/TEAM.md": "Service team guide.\n",
    "svc/api/main.py": "",
}


def test_codex_reads_the_fallback_names_of_its_config(make_repo: MakeRepo, home: Path) -> None:
    root = make_repo(CODEX_REPO)
    assert attached(view(root, "svc/api/main.py", "codex")) == ["svc/AGENTS.md"]
    write(home / ".codex/config.toml", 'project_doc_fallback_filenames = ["TEAM.md"]\n')
    answer = view(root, "svc/api/main.py", "codex")
    assert attached(answer) == ["TEAM.md", "svc/AGENTS.md"]
    assert reasons(answer)["svc/TEAM.md"] == "Codex reads one file a folder: svc/AGENTS.md comes first"
    assert answer["settings"] == ['~/.codex/config.toml: project_doc_fallback_filenames = ["TEAM.md"]']
    assert attached(view(root, "README.md", "codex")) == ["TEAM.md"]  # svc/TEAM.md governs svc/ only


def test_codex_stops_at_its_configured_byte_limit(make_repo: MakeRepo, home: Path) -> None:
    root = make_repo({"AGENTS.md": "Root agents, long enough.\n", "svc/AGENTS.md": "Service.\n", "svc/a.py": ""})
    assert attached(view(root, "svc/a.py", "codex")) == ["AGENTS.md", "svc/AGENTS.md"]
    write(home / ".codex/config.toml", "project_doc_max_bytes = 10\n")
    answer = view(root, "svc/a.py", "codex")
    assert attached(answer) == ["AGENTS.md"]
    assert reasons(answer)["svc/AGENTS.md"] == "past project_doc_max_bytes (10 bytes): Codex stops adding files"
    assert answer["settings"] == ["~/.codex/config.toml: project_doc_max_bytes = 10"]


def test_codex_home_moves_the_config_and_the_global_instructions(
    make_repo: MakeRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_repo(CODEX_REPO)
    codex_home = tmp_path / "codex-home"
    write(codex_home / "config.toml", 'project_doc_fallback_filenames = ["TEAM.md"]\n')
    write(codex_home / "AGENTS.md", "Global, not used.\n")
    write(codex_home / "AGENTS.override.md", "Global override.\n")
    monkeypatch.setenv("CODEX_HOME", str(codex_home))
    answer = view(root, "svc/api/main.py", "codex")
    override = (codex_home / "AGENTS.override.md").as_posix()
    assert attached(answer) == [override, "TEAM.md", "svc/AGENTS.md"]
    assert reasons(answer)[override] == "always applies: global instructions (Codex home), loaded in every project"
    assert answer["settings"] == [f'{codex_home.as_posix()}/config.toml: project_doc_fallback_filenames = ["TEAM.md"]']


GEMINI_REPO = {
    "GEMINI.md": "Gemini root.\n",
    "AGENTS.md": "Agents root.\n",
    "svc/AGENTS.md": "Agents service.\n",
    "svc/CONTEXT.md": "Context service.\n",
    "svc/a.py": "",
}


def test_gemini_reads_context_file_name_of_the_user_and_the_project(make_repo: MakeRepo, home: Path) -> None:
    root = make_repo(GEMINI_REPO)
    assert attached(view(root, "svc/a.py", "gemini")) == ["GEMINI.md"]
    write(home / ".gemini/settings.json", '{\n  // the user\'s\n  "context": {"fileName": "AGENTS.md"},\n}\n')
    write(home / ".gemini/GEMINI.md", "The user's Gemini memory.\n")
    answer = view(root, "svc/a.py", "gemini")
    assert attached(answer) == ["~/.gemini/GEMINI.md", "GEMINI.md", "AGENTS.md", "svc/AGENTS.md"]
    assert answer["settings"] == ['~/.gemini/settings.json: context.fileName = ["AGENTS.md"]']
    # The project's settings file replaces the user's value.
    write(root / ".gemini/settings.json", '{"context": {"fileName": ["CONTEXT.md"]}}')
    answer = view(root, "svc/a.py", "gemini")
    assert attached(answer) == ["~/.gemini/GEMINI.md", "GEMINI.md", "svc/CONTEXT.md"]
    assert answer["settings"] == ['.gemini/settings.json: context.fileName = ["CONTEXT.md"]']


def test_claude_code_loads_the_user_memory_and_the_user_rules(make_repo: MakeRepo, home: Path) -> None:
    root = make_repo({"CLAUDE.md": "Project memory.\n", "src/a.py": "", "README.md": ""})
    write(home / ".claude/CLAUDE.md", "My own habits.\n")
    write(home / ".claude/rules/python.md", "---\npaths:\n  - 'src/**/*.py'\n---\nType hints.\n")
    answer = view(root, "src/a.py", "claude")
    assert attached(answer) == ["~/.claude/CLAUDE.md", "~/.claude/rules/python.md", "CLAUDE.md"]
    assert reasons(answer)["~/.claude/CLAUDE.md"] == "always applies: user memory, loaded in every project"
    assert attached(view(root, "README.md", "claude")) == ["~/.claude/CLAUDE.md", "CLAUDE.md"]


def test_opencode_reads_instructions_and_its_global_rules(make_repo: MakeRepo, home: Path) -> None:
    root = make_repo({"AGENTS.md": "Agents.\n", "docs/guide.md": "Guide.\n", "docs/notes.txt": "", "a.py": ""})
    write(home / ".claude/CLAUDE.md", "Claude's user memory.\n")
    assert attached(view(root, "a.py", "opencode")) == ["~/.claude/CLAUDE.md", "AGENTS.md"]
    write(home / ".config/opencode/AGENTS.md", "OpenCode's global rules.\n")
    write(root / "opencode.json", '{"$schema": "https://opencode.ai/config.json", "instructions": ["docs/*.md"]}')
    answer = view(root, "a.py", "opencode")
    assert attached(answer) == ["~/.config/opencode/AGENTS.md", "AGENTS.md", "docs/guide.md"]
    assert reasons(answer)["docs/guide.md"] == "always applies: listed in instructions (opencode.json)"
    assert answer["settings"] == ['opencode.json: instructions = ["docs/*.md"]']


def test_roo_loads_the_global_rule_folders(make_repo: MakeRepo, home: Path) -> None:
    root = make_repo({".roorules": "Project legacy rules.\n", "a.py": ""})
    assert attached(view(root, "a.py", "roo")) == [".roorules"]
    write(home / ".roo/rules/mine.md", "Mine, everywhere.\n")
    write(home / ".roo/rules-code/mine.md", "Mine, in code mode.\n")
    answer = view(root, "a.py", "roo", mode="code")
    assert attached(answer) == ["~/.roo/rules-code/mine.md", "~/.roo/rules/mine.md"]
    assert reasons(answer)[".roorules"] == (
        "Roo reads .roorules only when no .roo/rules/ folder (global or the project's) has a file"
    )
    assert attached(view(root, "a.py", "roo", mode="ask")) == ["~/.roo/rules/mine.md"]


@pytest.mark.parametrize(
    ("assistant", "file", "text"),
    [
        ("kiro", ".kiro/steering/mine.md", "---\ninclusion: always\n---\nKiro, everywhere.\n"),
        ("windsurf", ".codeium/windsurf/memories/global_rules.md", "Windsurf, everywhere.\n"),
        ("continue", ".continue/rules/mine.md", "Continue, everywhere.\n"),
        ("cline", "Documents/Cline/Rules/mine.md", "Cline, everywhere.\n"),
    ],
)
def test_global_rule_files_of_the_user_are_loaded(
    make_repo: MakeRepo, home: Path, assistant: str, file: str, text: str
) -> None:
    root = make_repo({"a.py": ""})
    write(home / file, text)
    explanation = RuleEngine.load(root).explain("a.py", "all")
    views = {one.assistant.name: one for one in explanation.views}
    assert [entry.rule.relpath for entry in views[assistant].attached] == [f"~/{file}"]


def test_a_changed_settings_file_changes_the_next_answer(make_repo: MakeRepo, home: Path) -> None:
    engine = RuleEngine.load(make_repo(CODEX_REPO))
    assert [entry.rule.relpath for entry in engine.explain("svc/a.py", "codex").attached] == ["svc/AGENTS.md"]
    write(home / ".codex/config.toml", 'project_doc_fallback_filenames = ["TEAM.md"]\n')
    assert [entry.rule.relpath for entry in engine.explain("svc/a.py", "codex").attached] == [
        "TEAM.md",
        "svc/AGENTS.md",
    ]


@pytest.mark.parametrize(
    ("assistant", "file", "text", "warning"),
    [
        ("codex", "~/.codex/config.toml", "project_doc_max_bytes = [", "~/.codex/config.toml: not valid TOML"),
        (
            "codex",
            "~/.codex/config.toml",
            'project_doc_fallback_filenames = "TEAM.md"\n',
            "~/.codex/config.toml: project_doc_fallback_filenames is not a list of strings; ignored",
        ),
        (
            "codex",
            "~/.codex/config.toml",
            "project_doc_max_bytes = -1\n",
            "~/.codex/config.toml: project_doc_max_bytes is not a whole number of bytes (0 or more); ignored",
        ),
        ("gemini", "~/.gemini/settings.json", '{"context": ', "~/.gemini/settings.json: not valid JSON (line 1"),
        (
            "gemini",
            ".gemini/settings.json",
            '{"context": {"fileName": 3}}',
            ".gemini/settings.json: context.fileName is neither a string nor a list of strings; ignored",
        ),
        ("gemini", ".gemini/settings.json", "[1]", ".gemini/settings.json: is not a JSON object"),
        (
            "opencode",
            "opencode.json",
            '{"instructions": "docs/*.md"}',
            "opencode.json: instructions is not a list of strings; ignored",
        ),
        ("codex", "~/.codex/config.toml", "\udcff", "~/.codex/config.toml: cannot be read"),
        ("roo", ".roomodes", "customModes: [", ".roomodes: not valid YAML or JSON"),
        ("roo", ".roomodes", "customModes: 3\n", ".roomodes: has no customModes list; its modes are ignored"),
        ("roo", ".roomodes", "customModes:\n  - name: x\n", ".roomodes: a custom mode has no slug; it is ignored"),
    ],
)
def test_a_bad_settings_file_is_a_one_line_warning_naming_it(
    make_repo: MakeRepo,
    home: Path,
    caplog: pytest.LogCaptureFixture,
    assistant: str,
    file: str,
    text: str,
    warning: str,
) -> None:
    root = make_repo({"AGENTS.md": "Agents.\n", "GEMINI.md": "Gemini.\n", ".roorules": "Roo.\n", "a.py": ""})
    write(home / file.removeprefix("~/") if file.startswith("~/") else root / file, text)
    with caplog.at_level(logging.WARNING, logger="codegen_lab.rule_engine._settings"):
        answer = view(root, "a.py", assistant)
    assert attached(answer) != []  # the view is still there
    (shown,) = answer["warnings"]
    assert shown.startswith(warning)
    assert "\n" not in shown
    assert [record.getMessage() for record in caplog.records] == [shown]
    code = CliRunner().invoke(cli, ["which", "a.py", "--root", str(root), "--assistant", assistant])
    assert code.exit_code == 0
    assert f"warning {shown}" in code.stdout


def test_which_and_render_name_the_setting_that_changed_the_view(make_repo: MakeRepo, home: Path) -> None:
    root = make_repo(CODEX_REPO)
    write(home / ".codex/config.toml", 'project_doc_fallback_filenames = ["TEAM.md"]\n')
    result = CliRunner().invoke(cli, ["which", "svc/a.py", "--root", str(root), "--assistant", "codex"])
    assert 'setting ~/.codex/config.toml: project_doc_fallback_filenames = ["TEAM.md"]' in result.stdout
    result = CliRunner().invoke(
        cli, ["render", "svc/a.py", "--root", str(root), "--assistant", "codex", "--format", "json"]
    )
    rendered = json.loads(result.stdout)
    assert rendered["rules"] == ["TEAM.md", "svc/AGENTS.md"]
    assert rendered["settings"] == ['~/.codex/config.toml: project_doc_fallback_filenames = ["TEAM.md"]']


def test_lint_totals_count_the_repository_only(make_repo: MakeRepo, home: Path) -> None:
    from codegen_lab.rule_engine import lint

    root = make_repo({"CLAUDE.md": "Project memory.\n", "a.py": ""})
    before = lint(RuleEngine.load(root)).assistants["claude"]
    write(home / ".claude/CLAUDE.md", "My own habits, a long text. " * 50)
    assert [entry.rule.relpath for entry in RuleEngine.load(root).explain("a.py", "claude").attached] == [
        "~/.claude/CLAUDE.md",
        "CLAUDE.md",
    ]
    assert lint(RuleEngine.load(root)).assistants["claude"] == before
