"""Trees as they are in real repositories: symbolic link loops, very deep folders, links, ignored files."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
from click.testing import CliRunner
from mcp import Client

from codegen_lab.common import Settings
from codegen_lab.mcp_core import ServerContext, build_server
from codegen_lab.rule_engine import RuleEngine, RuleType, lint
from codegen_lab.rule_engine.cli import cli
from codegen_lab.rule_engine.mcp import create_toolkit

MakeRepo = Callable[[dict[str, str]], Path]


def _codes(root: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for diagnostic in lint(RuleEngine.load(root)).diagnostics:
        found.setdefault(diagnostic.code, []).append(diagnostic.path)
    return found


def test_a_symlink_loop_is_skipped_with_a_note(make_repo: MakeRepo) -> None:
    root = make_repo({".cursor/rules/py.mdc": "---\nglobs: src/**/*.py\n---\npy\n", "src/a.py": ""})
    (root / "src/loop").symlink_to("loop")
    (root / "src/up").symlink_to("..")
    (root / "src/self").symlink_to(".")
    engine = RuleEngine.load(root)
    assert [rule.relpath for rule in engine.rules] == [".cursor/rules/py.mdc"]
    assert "src/a.py" in engine.repository_paths
    notes = {note.path: note.message for note in engine.notes}
    assert set(notes) == {"src/loop", "src/up", "src/self"}
    assert all("loop" in message for message in notes.values())
    assert _codes(root)["RE026"] == ["src/loop", "src/self", "src/up"]


def test_the_cli_lints_a_tree_with_a_loop(make_repo: MakeRepo) -> None:
    root = make_repo({".cursor/rules/py.mdc": "---\nglobs: src/**/*.py\n---\npy\n", "src/a.py": ""})
    (root / "src/loop").symlink_to("loop")
    result = CliRunner().invoke(cli, ["lint", "--root", str(root), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert [d["code"] for d in json.loads(result.output)["diagnostics"]] == ["RE026"]
    which = CliRunner().invoke(cli, ["which", "src/loop/x.py", "--root", str(root)])
    assert which.exit_code == 2
    assert "cannot be resolved" in which.output


def test_a_very_deep_tree_is_cut_with_a_note(make_repo: MakeRepo) -> None:
    root = make_repo({"AGENTS.md": "agents\n"})
    deep = str(root)
    for _ in range(1100):  # one level at a time: Path.mkdir(parents=True) itself recurses
        deep += "/d"
        os.mkdir(deep)
    Path(deep, "AGENTS.md").write_text("deep\n", encoding="utf-8")
    try:
        engine = RuleEngine.load(root)
    finally:  # taken down one level at a time too, so that pytest's own clean-up never meets it
        Path(deep, "AGENTS.md").unlink()
        while deep != str(root):
            os.rmdir(deep)
            deep = deep[: -len("/d")]
    assert [rule.relpath for rule in engine.rules] == ["AGENTS.md"]
    assert [note.code for note in engine.notes] == ["RE026"]
    assert "deeper than" in engine.notes[0].message


def test_a_linked_rules_folder_is_read_and_a_link_out_of_the_root_is_noted(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo({"shared/rules/py.mdc": "---\nglobs: '*.py'\n---\npy\n", "a.py": ""})
    (root / ".cursor").mkdir()
    (root / ".cursor/rules").symlink_to("../shared/rules")
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "elsewhere").symlink_to(outside)
    engine = RuleEngine.load(root)
    assert [rule.relpath for rule in engine.rules] == [".cursor/rules/py.mdc"]
    assert [(note.path, note.severity.value) for note in engine.notes] == [("elsewhere", "info")]


def test_a_rules_file_where_a_folder_belongs_is_noted(make_repo: MakeRepo) -> None:
    root = make_repo({".cursor/rules": "not a folder\n"})
    assert _codes(root) == {"RE027": [".cursor/rules"]}


def test_gitignored_files_and_git_info_exclude_are_not_walked(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            ".gitignore": "generated/\n",
            ".git/info/exclude": "local/\n",
            "generated/AGENTS.md": "x\n",
            "local/AGENTS.md": "y\n",
            "kept/AGENTS.md": "z\n",
        }
    )
    assert [rule.relpath for rule in RuleEngine.load(root).rules] == ["kept/AGENTS.md"]


@pytest.mark.anyio
async def test_the_mcp_tools_answer_on_a_tree_with_a_loop(make_repo: MakeRepo) -> None:
    root = make_repo({"AGENTS.md": "agents\n", "src/a.py": ""})
    (root / "src/loop").symlink_to("loop")
    settings = Settings(root=root)
    async with Client(build_server(settings, [create_toolkit(ServerContext(settings))])) as client:
        with anyio.fail_after(30):
            result = await client.call_tool("rules_for_path", {"path": "src/a.py"})
            linted = await client.call_tool("rules_lint", {})
    assert not result.is_error
    assert not linted.is_error
    assert [entry["rule"] for entry in (result.structured_content or {})["attached"]] == ["AGENTS.md"]


def test_cline_reads_its_root_folder_but_not_workflows_hooks_or_skills(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            ".clinerules/style.md": "style\n",
            ".clinerules/notes.txt": "notes\n",
            ".clinerules/workflows/release.md": "release steps\n",
            ".clinerules/hooks/pre.md": "hook\n",
            ".clinerules/skills/s/SKILL.md": "skill\n",
            "web/.clinerules/web.md": "nested\n",
            "web/.cursorrules": "nested cursor\n",
            "web/.windsurfrules": "nested windsurf\n",
        }
    )
    engine = RuleEngine.load(root)
    assert sorted(rule.relpath for rule in engine.rules) == [".clinerules/notes.txt", ".clinerules/style.md"]
    assert sorted(note.path for note in engine.notes if note.code == "RE027") == [
        "web/.clinerules/web.md",
        "web/.cursorrules",
        "web/.windsurfrules",
    ]


def test_cline_paths_must_be_a_list_of_strings_and_match_from_the_root(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            ".clinerules/ts.md": "---\npaths:\n  - '*.ts'\n---\nts\n",
            ".clinerules/string.md": "---\npaths: 'src/**'\n---\nstring\n",
            ".clinerules/empty.md": "---\npaths: []\n---\nnever\n",
            "a.ts": "",
            "src/b.ts": "",
        }
    )
    engine = RuleEngine.load(root)
    types = {rule.name: rule.type for rule in engine.rules}
    assert types == {"ts": RuleType.AUTO_ATTACHED, "string": RuleType.ALWAYS, "empty": RuleType.MANUAL}
    assert {rule.name for rule in engine.rules_for("a.ts")} == {"ts", "string"}
    assert {rule.name for rule in engine.rules_for("src/b.ts")} == {"string"}
    wrong = [d for d in lint(engine).diagnostics if d.code == "RE025"]
    assert sorted(d.path for d in wrong) == [".clinerules/empty.md", ".clinerules/string.md"]


def test_a_cline_frontmatter_that_is_not_yaml_is_ignored_as_cline_does(make_repo: MakeRepo) -> None:
    text = "---\npaths:\n  - 'src/**'\ndescription: a: b\n---\nfails open\n"  # `a: b` is no YAML value
    root = make_repo({".clinerules/bad.md": text, ".cursor/rules/same.mdc": text.replace("paths", "globs")})
    types = {rule.relpath: rule.type for rule in RuleEngine.load(root).rules}
    assert types == {".clinerules/bad.md": RuleType.ALWAYS, ".cursor/rules/same.mdc": RuleType.AUTO_ATTACHED}
