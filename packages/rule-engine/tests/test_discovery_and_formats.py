from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from codegen_lab.rule_engine import FORMAT_ENTRY_POINT_GROUP, RuleEngine, RuleType, formats

EVERY_LAYOUT = {
    ".cursor/rules/python.mdc": "---\nglobs: '**/*.py'\n---\npy\n",
    ".cursor/rules/lang/ts.mdc": "---\nglobs: '*.ts'\n---\nts\n",
    ".cursor/rules/review/RULE.md": "---\ndescription: Code review\n---\nreview\n",
    "services/api/.cursor/rules/db.mdc": "---\nglobs: 'models/*.py'\n---\ndb\n",
    ".cursorrules": "legacy\n",
    "AGENTS.md": "agents\n",
    "services/api/AGENTS.md": "api agents\n",
    "CLAUDE.md": "claude\n",
    ".claude/rules/tests.md": "---\npaths:\n  - 'tests/**/*.py'\n---\ntests\n",
    ".github/copilot-instructions.md": "copilot\n",
    ".github/instructions/ts.instructions.md": '---\napplyTo: "**/*.ts,**/*.tsx"\n---\nts\n',
    ".windsurf/rules/docs.md": "---\ntrigger: glob\nglobs: docs/**\n---\ndocs\n",
    ".windsurf/rules/always.md": "---\ntrigger: always_on\n---\nalways\n",
    ".windsurfrules": "windsurf legacy\n",
    ".clinerules/style.md": "style\n",
    "GEMINI.md": "gemini\n",
    ".kiro/steering/api.md": "---\ninclusion: fileMatch\nfileMatchPattern: 'services/**'\n---\napi\n",
    ".kiro/steering/product.md": "---\ninclusion: manual\n---\nproduct\n",
    "README.md": "not a rule\n",
    "src/app.py": "print(1)\n",
}

MakeRepo = Callable[[dict[str, str]], Path]


def test_every_layout_is_found_with_its_format_type_and_scope(make_repo: MakeRepo) -> None:
    engine = RuleEngine.load(make_repo(EVERY_LAYOUT))
    found = {rule.relpath: (rule.format, rule.type, rule.scope, rule.globs) for rule in engine.rules}
    assert found == {
        ".cursor/rules/python.mdc": ("cursor-mdc", RuleType.AUTO_ATTACHED, "", ("'**/*.py'",)),
        ".cursor/rules/lang/ts.mdc": ("cursor-mdc", RuleType.AUTO_ATTACHED, "", ("'*.ts'",)),
        ".cursor/rules/review/RULE.md": ("cursor-rule-md", RuleType.AGENT_REQUESTED, "", ()),
        "services/api/.cursor/rules/db.mdc": ("cursor-mdc", RuleType.AUTO_ATTACHED, "services/api", ("'models/*.py'",)),
        ".cursorrules": ("cursorrules", RuleType.ALWAYS, "", ()),
        "AGENTS.md": ("agents-md", RuleType.ALWAYS, "", ()),
        "services/api/AGENTS.md": ("agents-md", RuleType.ALWAYS, "services/api", ()),
        "CLAUDE.md": ("claude-md", RuleType.ALWAYS, "", ()),
        ".claude/rules/tests.md": ("claude-rules", RuleType.AUTO_ATTACHED, "", ("tests/**/*.py",)),
        ".github/copilot-instructions.md": ("copilot", RuleType.ALWAYS, "", ()),
        ".github/instructions/ts.instructions.md": (
            "copilot-scoped",
            RuleType.AUTO_ATTACHED,
            "",
            ("**/*.ts", "**/*.tsx"),
        ),
        ".windsurf/rules/docs.md": ("windsurf", RuleType.AUTO_ATTACHED, "", ("docs/**",)),
        ".windsurf/rules/always.md": ("windsurf", RuleType.ALWAYS, "", ()),
        ".windsurfrules": ("windsurfrules", RuleType.ALWAYS, "", ()),
        ".clinerules/style.md": ("cline", RuleType.ALWAYS, "", ()),
        "GEMINI.md": ("gemini-md", RuleType.ALWAYS, "", ()),
        ".kiro/steering/api.md": ("kiro", RuleType.AUTO_ATTACHED, "", ("services/**",)),
        ".kiro/steering/product.md": ("kiro", RuleType.MANUAL, "", ()),
    }


def test_gitignore_dependencies_and_virtual_environments_are_skipped(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            ".gitignore": "generated/\n*.bak.mdc\n",
            ".cursor/rules/kept.mdc": "k\n",
            ".cursor/rules/old.bak.mdc": "ignored by .gitignore\n",
            "generated/.cursor/rules/gen.mdc": "ignored folder\n",
            "pkg/.gitignore": "local/\n",
            "pkg/local/AGENTS.md": "ignored by a nested .gitignore\n",
            "pkg/AGENTS.md": "kept\n",
            "node_modules/lib/AGENTS.md": "dependency\n",
            ".venv/lib/AGENTS.md": "virtual environment\n",
            "env/pyvenv.cfg": "home = /usr\n",
            "env/AGENTS.md": "a virtual environment by another name\n",
        }
    )
    assert [rule.relpath for rule in RuleEngine.load(root).rules] == [".cursor/rules/kept.mdc", "pkg/AGENTS.md"]


def test_symbolic_links_never_lead_out_of_the_root(make_repo: MakeRepo, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / ".cursor" / "rules").mkdir(parents=True)
    (outside / "secret.mdc").write_text("secret\n", encoding="utf-8")
    root = make_repo({".cursor/rules/inside.mdc": "in\n", "docs/real.mdc": "x\n"})
    os.symlink(outside / "secret.mdc", root / ".cursor" / "rules" / "escape.mdc")
    os.symlink(root / "docs" / "real.mdc", root / ".cursor" / "rules" / "alias.mdc")
    os.symlink(outside, root / "linked-folder")
    assert [rule.relpath for rule in RuleEngine.load(root).rules] == [
        ".cursor/rules/alias.mdc",
        ".cursor/rules/inside.mdc",
    ]


def test_a_md_file_in_cursor_rules_is_not_a_rule_but_is_reported(make_repo: MakeRepo) -> None:
    engine = RuleEngine.load(make_repo({".cursor/rules/notes.md": "n\n", ".cursor/rules/a.mdc": "a\n"}))
    assert [rule.relpath for rule in engine.rules] == [".cursor/rules/a.mdc"]
    assert [path.name for path in engine.ignored] == ["notes.md"]


ZED_FORMAT = """
import re
from codegen_lab.rule_engine import Interpretation, normalise_globs


class ZedRules:
    name = "zed"
    title = "Zed rules"
    glob_key = None
    known_keys = frozenset()
    expects_frontmatter = False

    def claims(self, relpath):
        return relpath == ".rules" or relpath.endswith("/.rules")

    def scope(self, relpath):
        return relpath.rsplit("/", 1)[0] if "/" in relpath else ""

    def rule_name(self, relpath):
        return "zed"

    def interpret(self, data, spans):
        return Interpretation(None, normalise_globs(None), always_apply=True)


zed = ZedRules()
"""


def test_a_custom_format_plugs_in_through_an_entry_point(
    make_repo: MakeRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site-packages"
    (site / "zed_format-1.0.dist-info").mkdir(parents=True)
    (site / "zed_format.py").write_text(ZED_FORMAT, encoding="utf-8")
    (site / "zed_format-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.4\nName: zed-format\nVersion: 1.0\n", encoding="utf-8"
    )
    (site / "zed_format-1.0.dist-info" / "entry_points.txt").write_text(
        f"[{FORMAT_ENTRY_POINT_GROUP}]\nzed = zed_format:zed\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(site))
    formats.cache_clear()
    try:
        engine = RuleEngine.load(make_repo({".rules": "Zed says hi.\n", "pkg/.rules": "nested\n"}))
        assert [(rule.relpath, rule.format, rule.type, rule.scope) for rule in engine.rules] == [
            (".rules", "zed", RuleType.ALWAYS, ""),
            ("pkg/.rules", "zed", RuleType.ALWAYS, "pkg"),
        ]
    finally:
        formats.cache_clear()
        sys.modules.pop("zed_format", None)
