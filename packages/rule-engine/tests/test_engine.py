from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from codegen_lab.common.results import to_json
from codegen_lab.rule_engine import RuleEngine, RuleEngineUsageError, lint

REPO = {
    ".cursor/rules/core.mdc": "---\nalwaysApply: true\nglobs: '*.md'\n---\nBe brief.\n",
    ".cursor/rules/python.mdc": (
        "---\ndescription: Python\nglobs: **/*.py,!tests/**\n---\nTyped Python. See @src/app.py\n"
    ),
    ".cursor/rules/web.mdc": "---\nglobs: /web/**/*.{ts,tsx},./web/*.css\n---\nWeb.\n",
    ".cursor/rules/docs.mdc": "---\ndescription: Writing docs\n---\nDocs.\n",
    ".cursor/rules/manual.mdc": "---\nalwaysApply: false\n---\nOnly on request.\n",
    "api/.cursor/rules/api.mdc": "---\nglobs: *.py\n---\nAPI rules. @../README.md\n",
    "src/app.py": "print('app')\n",
    "tests/test_app.py": "",
    "web/a/b.tsx": "",
    "api/main.py": "",
    "README.md": "readme\n",
}

MakeRepo = Callable[[dict[str, str]], Path]


def verdicts(engine: RuleEngine, path: str) -> dict[str, tuple[bool, str]]:
    explanation = engine.explain(path)
    found = {entry.rule.relpath: (True, entry.reason) for entry in explanation.attached}
    found |= {entry.rule.relpath: (False, entry.reason) for entry in explanation.not_attached}
    return found


def test_explain_gives_every_reason(make_repo: MakeRepo) -> None:
    engine = RuleEngine.load(make_repo(REPO))
    found = verdicts(engine, "src/app.py")
    assert found[".cursor/rules/core.mdc"] == (True, "always applies; its globs are dead because alwaysApply is true")
    assert found[".cursor/rules/python.mdc"] == (True, "pattern **/*.py matches")
    assert found[".cursor/rules/web.mdc"] == (False, "no pattern matched (globs: web/**/*.{ts,tsx}, web/*.css)")
    assert found[".cursor/rules/docs.mdc"] == (
        False,
        "agent-requested only: the agent reads its description and decides",
    )
    assert found[".cursor/rules/manual.mdc"] == (False, "manual: attached only when mentioned as @manual")
    assert found["api/.cursor/rules/api.mdc"] == (False, "outside the scope api/: the rule governs only files under it")


def test_negation_braces_leading_slashes_and_nested_scopes(make_repo: MakeRepo) -> None:
    engine = RuleEngine.load(make_repo(REPO))
    assert verdicts(engine, "tests/test_app.py")[".cursor/rules/python.mdc"] == (
        False,
        "excluded by the negated pattern !tests/**",
    )
    assert verdicts(engine, "web/a/b.tsx")[".cursor/rules/web.mdc"] == (True, "pattern web/**/*.{ts,tsx} matches")
    assert verdicts(engine, "web/site.css")[".cursor/rules/web.mdc"][0]
    assert verdicts(engine, "api/main.py")["api/.cursor/rules/api.mdc"] == (True, "pattern *.py matches")
    assert verdicts(engine, "api/deep/er/x.py")["api/.cursor/rules/api.mdc"][0]


def test_rules_for_and_the_which_contract(make_repo: MakeRepo) -> None:
    engine = RuleEngine.load(make_repo(REPO))
    assert [rule.relpath for rule in engine.rules_for("api/main.py")] == [
        ".cursor/rules/core.mdc",
        ".cursor/rules/python.mdc",
        "api/.cursor/rules/api.mdc",
    ]
    contract = to_json(engine.explain(str(engine.root / "api" / "main.py")))
    assert contract["path"] == "api/main.py"
    assert contract["attached"][1] == {
        "rule": ".cursor/rules/python.mdc",
        "type": "auto_attached",
        "reason": "pattern **/*.py matches",
        "pattern": "**/*.py",
    }
    assert set(contract["not_attached"][0]) == {"rule", "reason"}


@pytest.mark.parametrize("path", ["../outside.py", "/etc/passwd", "a\0b", "src/../../x"])
def test_paths_outside_the_root_are_refused(make_repo: MakeRepo, path: str) -> None:
    engine = RuleEngine.load(make_repo(REPO))
    with pytest.raises(RuleEngineUsageError):
        engine.explain(path)


def test_a_sibling_with_the_roots_name_as_prefix_is_outside(make_repo: MakeRepo) -> None:
    root = make_repo(REPO)
    sibling = root.parent / (root.name + "-evil")
    sibling.mkdir()
    with pytest.raises(RuleEngineUsageError, match="outside the root"):
        RuleEngine.load(root).explain(sibling / "x.py")


def test_render_orders_rules_and_resolves_references_inside_the_root(make_repo: MakeRepo) -> None:
    engine = RuleEngine.load(make_repo(REPO))
    text = engine.render(["api/main.py"], "Add an endpoint", inline_references=True)
    order = [text.index(marker) for marker in ("# Request", "Be brief.", "Typed Python.", "API rules.")]
    assert order == sorted(order)
    assert "## Referenced file: src/app.py\n\nprint('app')" in text
    assert "## Referenced file: README.md\n\nreadme" in text
    assert "# Rules available on request\n\n- docs (.cursor/rules/docs.mdc): Writing docs" in text
    assert "Only on request." not in text
    capped = engine.render(["api/main.py"], max_chars=50, inline_references=True)
    assert capped.startswith(text.removeprefix("# Request\n\nAdd an endpoint\n\n")[:50])
    assert "cut at 50 characters" in capped


def test_process_rule_by_name_or_path(make_repo: MakeRepo) -> None:
    engine = RuleEngine.load(make_repo(REPO))
    assert engine.process_rule("python").startswith("Typed Python.")
    assert "## Referenced file: src/app.py" in engine.process_rule(".cursor/rules/python.mdc")
    with pytest.raises(RuleEngineUsageError, match="no rule 'nope'"):
        engine.process_rule("nope")


def test_a_reference_out_of_the_root_is_not_read(make_repo: MakeRepo) -> None:
    root = make_repo({".cursor/rules/r.mdc": "---\nalwaysApply: true\n---\nSee @../../secret.txt\n"})
    (root.parent.parent / "secret.txt").write_text("do not leak", encoding="utf-8")
    assert "do not leak" not in RuleEngine.load(root).render(["x.py"])


def test_which_and_lint_agree_on_a_pattern_after_a_comma_and_a_space(make_repo: MakeRepo) -> None:
    root = make_repo({".cursor/rules/r.mdc": "---\nglobs: src/*.py, *.md\n---\nx\n", "src/a.py": "", "README.md": ""})
    engine = RuleEngine.load(root)
    assert engine.rules[0].dead_globs == ("*.md",)
    assert verdicts(engine, "src/a.py")[".cursor/rules/r.mdc"] == (True, "pattern src/*.py matches")
    attached, reason = verdicts(engine, "README.md")[".cursor/rules/r.mdc"]
    assert not attached
    assert "*.md follows a comma and a space, which Cursor keeps, so it matches nothing" in reason
    found = {d.code: d.message for d in lint(engine).diagnostics}
    assert "RE008" not in found
    assert found["RE006"] == "a space after a comma in globs: Cursor keeps it, so *.md matches nothing"
