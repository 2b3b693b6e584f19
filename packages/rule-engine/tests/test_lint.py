from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from codegen_lab.common.results import to_json
from codegen_lab.rule_engine import CHECKS, RuleEngine, Severity, lint, revert_last

MakeRepo = Callable[[dict[str, str]], Path]

# One repository per lint code, made of what triggers it (and, where it helps, what must not).
FIXTURES: dict[str, dict[str, str]] = {
    "RE001": {".cursor/rules/r.mdc": "---\nglobs: a.py\nno closing line\n", "a.py": ""},
    "RE002": {".cursor/rules/r.mdc": "Plain text, no frontmatter.\n"},
    "RE003": {".cursor/rules/r.mdc": "---\nglobs: **/*.py\n---\nx\n", "a.py": ""},
    "RE004": {".cursor/rules/r.mdc": '---\nalwaysApply: "true"\n---\nx\n'},
    "RE005": {".cursor/rules/r.mdc": '---\nglobs: "**/*.py"\n---\nx\n', "a.py": ""},
    "RE006": {".cursor/rules/r.mdc": "---\nglobs: a.py, b.py\n---\nx\n", "a.py": "", "b.py": ""},
    "RE007": {".cursor/rules/r.mdc": "---\nglobs: '*.{py,md}'\n---\nx\n", "a.py": ""},
    "RE008": {".cursor/rules/r.mdc": "---\nglobs: src/**/*.rs\n---\nx\n", "a.py": ""},
    "RE009": {".cursor/rules/r.mdc": "---\nglobs: a.py\nalwaysApply: true\n---\nx\n", "a.py": ""},
    "RE010": {".cursor/rules/r.mdc": "---\ndescription:\nglobs:\nalwaysApply: false\n---\nx\n"},
    "RE011": {".cursor/rules/notes.md": "notes\n"},
    "RE012": {".cursorrules": "legacy\n", ".cursor/rules/r.mdc": "---\nalwaysApply: true\n---\nx\n"},
    "RE013": {".cursor/rules/r.mdc": "---\nalwaysApply: true\n---\n" + "line\n" * 600},
    "RE014": {"AGENTS.md": "word " * 400},
    "RE015": {".cursor/rules/r.mdc": "---\nalwaysApply: true\n---\nSee @docs/missing.md, not @pytest.fixture\n"},
    "RE016": {".cursor/rules/r.mdc": "---\nalwaysApply: true\n---\nSee [x](mdc:src/gone.py)\n"},
    "RE017": {
        ".cursor/rules/api.mdc": "---\nalwaysApply: true\n---\nx\n",
        "web/.cursor/rules/api.mdc": "---\nalwaysApply: true\n---\ny\n",
    },
    "RE018": {".cursor/rules/r.mdc": "---\nalwaysApply: true\n---\nBe helpful.\u202eecruos edoc\u2066\U000e0041\n"},
    "RE019": {".cursor/rules/r.mdc": "---\nalwaysApply: true\npriority: 1\n---\nx\n"},
    "RE020": {".cursor/rules/r.mdc": "---\nglobs:\n\t- a.py\n---\nx\n", "a.py": ""},
    "RE021": {".cursor/rules/r.mdc": "---\nalwaysApply: true\n---\n"},
    "RE022": {".cursor/rules/r.mdc": "---\nglobs: a.py\nglobs: b.py\n---\nx\n", "a.py": "", "b.py": ""},
    "RE023": {".cursor/rules/r.mdc": "---\nglobs: ../shared/*.py\n---\nx\n"},
    "RE024": {".cursor/rules/r.mdc": "---\nalwaysApply: true\n---\n"},  # made invalid UTF-8 below
    "RE025": {".cursor/rules/r.mdc": "---\ndescription: [a, b]\nglobs: a.py\n---\nx\n", "a.py": ""},
    "RE026": {".cursor/rules/r.mdc": "---\nalwaysApply: true\n---\nx\n", "src/a.py": ""},  # a loop made below
    "RE027": {"web/.cursorrules": "legacy, nested\n"},
}


def test_there_are_at_least_twenty_checks_each_with_a_fixture() -> None:
    assert len(CHECKS) >= 20
    assert set(FIXTURES) == set(CHECKS)


@pytest.mark.parametrize("code", sorted(FIXTURES))
def test_each_code_fires_on_its_fixture(code: str, make_repo: MakeRepo) -> None:
    root = make_repo(FIXTURES[code])
    if code == "RE024":
        (root / ".cursor/rules/r.mdc").write_bytes(b"---\nalwaysApply: true\n---\nbad \xff byte\n")
    if code == "RE026":
        (root / "src/loop").symlink_to("loop")
    report = lint(RuleEngine.load(root))
    found = [d for d in report.diagnostics if d.code == code]
    assert found, [d.code for d in report.diagnostics]
    assert all(d.severity is CHECKS[code].severity for d in found)
    assert all(d.path for d in found)


def test_line_numbers_point_at_the_problem(make_repo: MakeRepo) -> None:
    root = make_repo(FIXTURES["RE018"] | {".cursor/rules/b.mdc": '---\ndescription: d\nalwaysApply: "true"\n---\nx\n'})
    by_code = {d.code: d for d in lint(RuleEngine.load(root)).diagnostics}
    assert (by_code["RE018"].path, by_code["RE018"].line) == (".cursor/rules/r.mdc", 4)
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in by_code["RE018"].message
    assert (by_code["RE004"].path, by_code["RE004"].line) == (".cursor/rules/b.mdc", 3)


def test_decorators_and_fenced_code_are_not_references(make_repo: MakeRepo) -> None:
    root = make_repo(
        {".cursor/rules/r.mdc": "---\nalwaysApply: true\n---\nUse @pytest.fixture.\n```\n@src/none.py\n```\n"}
    )
    assert not [d for d in lint(RuleEngine.load(root)).diagnostics if d.code in {"RE015", "RE016"}]


def test_a_clean_repository_has_no_warnings(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            ".cursor/rules/python.mdc": (
                "---\ndescription: Python\nglobs: src/**/*.py\nalwaysApply: false\n---\nTyped.\n"
            ),
            "src/app.py": "",
        }
    )
    report = lint(RuleEngine.load(root))
    assert [d for d in report.diagnostics if d.severity is not Severity.INFO] == []
    assert to_json(report)["summary"]["files"] == 1


def test_fix_repairs_what_is_safe_and_revert_restores_the_bytes(make_repo: MakeRepo) -> None:
    original = '---\nglobs: "*.py", *.md\nalwaysApply: "false"\n\t\n---\nBe\u200b helpful.\n'
    root = make_repo({".cursor/rules/r.mdc": "", "a.py": "", "b.md": ""})
    path = root / ".cursor/rules/r.mdc"
    path.write_text(original, encoding="utf-8")
    report = lint(RuleEngine.load(root), fix=True)
    assert report.fixed == [".cursor/rules/r.mdc"]
    assert path.read_text(encoding="utf-8") == "---\nglobs: *.py,*.md\nalwaysApply: false\n  \n---\nBe helpful.\n"
    assert not [d for d in report.diagnostics if d.fixable]
    assert revert_last(root) == [".cursor/rules/r.mdc"]
    assert path.read_text(encoding="utf-8") == original


def test_the_lint_contract(make_repo: MakeRepo) -> None:
    report = to_json(lint(RuleEngine.load(make_repo(FIXTURES["RE004"]))))
    (diagnostic,) = [d for d in report["diagnostics"] if d["code"] == "RE004"]
    assert {"code", "severity", "path", "line", "message"} <= set(diagnostic)
    assert diagnostic["severity"] == "error"
    assert report["summary"]["files"] == 1
    assert report["summary"]["errors"] == 1


@pytest.mark.slow
def test_the_corpus_lints_without_an_exception(corpus: Path) -> None:
    engine = RuleEngine.load(corpus, loose=True)
    assert len(engine.rules) == 1702
    report = lint(engine)
    assert report.files == 1702
    codes = {d.code for d in report.diagnostics}
    assert {"RE003", "RE005", "RE006", "RE007"} <= codes


def test_the_always_on_cost_counts_a_linked_twin_once(make_repo: MakeRepo) -> None:
    root = make_repo({"AGENTS.md": "word " * 400})
    alone = lint(RuleEngine.load(root)).always_on_tokens
    (root / "CLAUDE.md").symlink_to("AGENTS.md")
    assert lint(RuleEngine.load(root)).always_on_tokens == alone == 500


def test_a_continue_mention_is_not_a_missing_file(make_repo: MakeRepo) -> None:
    # From continuedev/continue: `@theme.ts` is found by name (gui/src/styles/theme.ts), as Continue's mentions are.
    root = make_repo(
        {
            ".continue/rules/tw.md": "---\nalwaysApply: false\n---\nKeep @theme.ts in sync.\n",
            ".cursor/rules/tw.mdc": "---\nalwaysApply: true\n---\nKeep @theme.ts in sync.\n",
            "gui/src/styles/theme.ts": "",
        }
    )
    found = [(d.code, d.path) for d in lint(RuleEngine.load(root)).diagnostics if d.code == "RE015"]
    assert found == [("RE015", ".cursor/rules/tw.mdc")]


def test_the_token_cost_of_an_always_on_rule_says_which_requests_it_is_in(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "AGENTS.md": "Root.\n",
            "svc/api/AGENTS.md": "Service.\n",
            ".roo/rules-code/a.md": "Code mode.\n",
            ".clinerules-ask": "Ask mode.\n",
        }
    )
    messages = {d.path: d.message for d in lint(RuleEngine.load(root)).diagnostics if d.code == "RE014"}
    assert messages == {
        "AGENTS.md": "always on: about 2 tokens in every request",
        "svc/api/AGENTS.md": "always on: about 3 tokens in every request about a file under svc/api/",
        ".roo/rules-code/a.md": "always on: about 3 tokens in every request in Roo's code mode",
        ".clinerules-ask": "always on: about 3 tokens in every request in Roo's ask mode",
    }


def test_braces_are_not_flagged_where_the_one_reader_expands_them(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            ".continue/rules/ts.md": "---\nglobs: '**/*.{ts,tsx}'\nalwaysApply: false\n---\nTyped.\n",
            ".clinerules/ts.md": "---\npaths: ['src/**/*.{ts,tsx}']\n---\nTyped.\n",
            ".cursor/rules/ts.mdc": "---\nglobs: '**/*.{ts,tsx}'\n---\nTyped.\n",
            "src/a.ts": "",
        }
    )
    flagged = [d.path for d in lint(RuleEngine.load(root)).diagnostics if d.code == "RE007"]
    assert flagged == [".cursor/rules/ts.mdc"]
