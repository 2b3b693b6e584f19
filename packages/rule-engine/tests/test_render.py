from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from codegen_lab.rule_engine import RuleEngine
from codegen_lab.rule_engine.cli import cli

MakeRepo = Callable[[dict[str, str]], Path]

BIG = "word " * 2_000  # about 2,500 tokens

REPO = {
    "AGENTS.md": "Root agents. See @docs/guide.md and [api](mdc:api/README.md).\n",
    "api/AGENTS.md": "Nested agents.\n",
    ".cursor/rules/py.mdc": "---\nglobs: **/*.py\n---\nTyped Python.\n" + BIG,
    ".cursor/rules/big.mdc": "---\nglobs: api/**\n---\nAPI rules.\n" + BIG + BIG,
    ".cursor/rules/docs.mdc": "---\ndescription: Writing docs\n---\nOnly on request.\n",
    ".cursor/rules/manual.mdc": "Mention me.\n",
    "docs/guide.md": "the guide text\n",
    "api/README.md": "api readme\n",
    "api/main.py": "",
}


def test_the_priority_order_within_a_budget(make_repo: MakeRepo) -> None:
    engine = RuleEngine.load(make_repo(REPO))
    result = engine.render_context(["api/main.py"], budget=4_000)
    assert result.rules == ["AGENTS.md", "api/AGENTS.md", ".cursor/rules/py.mdc"]
    assert result.omitted == [".cursor/rules/big.mdc"]
    assert result.truncated
    assert result.tokens <= 4_000
    text = result.text
    order = [text.index(m) for m in ("Root agents.", "Nested agents.", "Typed Python.", "left out to fit", "docs (")]
    assert order == sorted(order)
    assert "- big (.cursor/rules/big.mdc): about" in text
    assert "# Other rules, by name\n\n- manual (.cursor/rules/manual.mdc)" in text
    assert "API rules." not in text


def test_everything_fits_in_a_large_budget_and_nothing_is_truncated(make_repo: MakeRepo) -> None:
    result = RuleEngine.load(make_repo(REPO)).render_context(["api/main.py"], budget=100_000)
    assert result.rules == ["AGENTS.md", "api/AGENTS.md", ".cursor/rules/big.mdc", ".cursor/rules/py.mdc"]
    assert (result.truncated, result.omitted) == (False, [])


def test_references_are_listed_not_inlined_unless_asked(make_repo: MakeRepo) -> None:
    engine = RuleEngine.load(make_repo(REPO))
    listed = engine.render_context(["x.txt"])
    assert listed.references == ["docs/guide.md", "api/README.md"]
    assert "- docs/guide.md\n- api/README.md" in listed.text
    assert "the guide text" not in listed.text
    inlined = engine.render_context(["x.txt"], inline_references=True)
    assert "## Referenced file: docs/guide.md\n\nthe guide text" in inlined.text


def test_a_claude_md_link_to_agents_md_goes_in_once(make_repo: MakeRepo) -> None:
    root = make_repo({"AGENTS.md": "Shared instructions.\n", "web/AGENTS.md": "Web.\n", "web/CLAUDE.md": "Web.\n"})
    (root / "CLAUDE.md").symlink_to("AGENTS.md")
    result = RuleEngine.load(root).render_context(["web/a.ts"])
    assert result.text.count("Shared instructions.") == 1
    assert result.text.count("Web.") == 1
    assert result.duplicates == {"CLAUDE.md": "AGENTS.md", "web/CLAUDE.md": "web/AGENTS.md"}


def test_a_claude_md_that_imports_agents_md_does_not_inline_it_again(make_repo: MakeRepo) -> None:
    root = make_repo({"AGENTS.md": "Shared instructions.\n", "CLAUDE.md": "@AGENTS.md\n\nClaude only.\n"})
    for inline in (False, True):
        result = RuleEngine.load(root).render_context(["a.py"], inline_references=inline)
        assert result.text.count("Shared instructions.") == 1
        assert "- AGENTS.md (its text is above, as the rule AGENTS.md)" in result.text


def test_the_cli_reports_what_was_left_out(make_repo: MakeRepo) -> None:
    root = make_repo(REPO)
    result = CliRunner().invoke(cli, ["render", "api/main.py", "--root", str(root), "--budget", "4000"])
    assert result.exit_code == 0
    assert "left out .cursor/rules/big.mdc" in result.stderr
    result = CliRunner().invoke(cli, ["render", "api/main.py", "--root", str(root), "--format", "json"])
    answer = json.loads(result.stdout)
    assert (answer["budget"], answer["truncated"], answer["omitted"]) == (8000, False, [])


def test_many_always_on_rules_stay_within_the_budget_with_their_listing(make_repo: MakeRepo) -> None:
    files = {f".clinerules/r{n:02}.md": f"Rule {n}. " + "text " * 700 for n in range(12)}
    root = make_repo({**files, **{f".cursor/rules/m{n}.mdc": f"manual {n}\n" for n in range(200)}})
    for budget in (500, 2_000, 8_000):
        result = RuleEngine.load(root).render_context(["a.py"], budget=budget)
        assert result.tokens <= budget
        assert result.truncated
        assert result.omitted
