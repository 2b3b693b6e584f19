from __future__ import annotations

import json
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from codegen_lab.rule_engine import ParseMode, RuleType, formats, parse_document, rule_from_text

CURSOR = next(fmt for fmt in formats() if fmt.name == "cursor-mdc")
LEGACY = next(fmt for fmt in formats() if fmt.name == "cursorrules")


def read(text: str, relpath: str = ".cursor/rules/r.mdc"):
    fmt = next(fmt for fmt in formats() if fmt.claims(relpath))
    return rule_from_text(text, path=Path("/nowhere") / relpath, relpath=relpath, fmt=fmt)


def test_the_most_common_line_in_the_wild_is_read_as_cursor_reads_it() -> None:
    rule = read("---\ndescription: Python\nglobs: **/*.py\nalwaysApply: false\n---\nUse types.\n")
    assert rule.parse_mode is ParseMode.TOLERANT
    assert rule.globs == ("**/*.py",)
    assert rule.type is RuleType.AUTO_ATTACHED
    assert rule.description == "Python"
    assert [d.code for d in rule.diagnostics] == ["RE003"]
    assert rule.diagnostics[0].line == 3


def test_valid_yaml_is_read_strictly() -> None:
    rule = read("---\ndescription: 'Say: hi'\nglobs: src/*.py\nalwaysApply: false\nowner: me\n---\nx\n")
    assert rule.parse_mode is ParseMode.YAML
    assert rule.description == "Say: hi"
    assert rule.unknown_keys == {"owner": "me"}


def test_types_are_derived_in_cursors_order() -> None:
    assert read("---\nalwaysApply: true\nglobs: a\ndescription: d\n---\n").type is RuleType.ALWAYS
    assert read("---\nglobs: a\ndescription: d\n---\n").type is RuleType.AUTO_ATTACHED
    assert read("---\ndescription: d\n---\n").type is RuleType.AGENT_REQUESTED
    assert read("---\nglobs:\n---\n").type is RuleType.MANUAL
    assert read("no frontmatter").type is RuleType.MANUAL


def test_a_quoted_true_is_not_true_for_cursor() -> None:
    assert read('---\nalwaysApply: "true"\n---\n').always_apply is False
    assert read("---\nalwaysApply: yes\n---\n").always_apply is False
    assert read("---\nalwaysApply: true\n---\n").always_apply is True


def test_references_skip_fenced_code_inline_code_and_decorators() -> None:
    body = (
        "See @src/app.py and [guide](mdc:docs/guide.md).\n"
        "Use @pytest.fixture and @dataclass, `@src/inline.py`.\n"
        "```python\n@src/fenced.py\n```\n"
        "Also @README.md, @types/node and @./local.txt\n"
    )
    rule = read(f"---\nglobs: a\n---\n{body}")
    assert [(ref.kind, ref.target, ref.line) for ref in rule.references] == [
        ("file", "src/app.py", 4),
        ("mdc", "docs/guide.md", 4),
        ("file", "README.md", 9),
        ("file", "./local.txt", 9),
    ]


def test_scope_and_name_of_nested_rules() -> None:
    rule = read("---\nglobs: '*.py'\n---\n", "services/api/.cursor/rules/db/models.mdc")
    assert (rule.scope, rule.name) == ("services/api", "models")
    folder_rule = read("---\ndescription: d\n---\n", ".cursor/rules/python/RULE.md")
    assert (folder_rule.format, folder_rule.name) == ("cursor-rule-md", "python")


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=200)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_no_text_makes_the_reader_raise(text: str) -> None:
    for candidate in (text, f"---\n{text}\n---\nbody", f"---\nglobs: {text}\n---\n"):
        rule = read(candidate)
        assert rule.relpath == ".cursor/rules/r.mdc"


def manifest(corpus: Path) -> list[dict[str, str]]:
    return json.loads((corpus / "MANIFEST.json").read_text(encoding="utf-8"))


def test_every_file_of_the_corpus_is_read_and_round_trips(corpus: Path) -> None:
    entries = manifest(corpus)
    assert len(entries) == 1702
    modes: dict[ParseMode, int] = {}
    for entry in entries:
        path = corpus / entry["file"]
        text = path.read_bytes().decode("utf-8")
        rule = rule_from_text(text, path=path, relpath=entry["file"], fmt=LEGACY if path.suffix != ".mdc" else CURSOR)
        modes[rule.parse_mode] = modes.get(rule.parse_mode, 0) + 1
        assert parse_document(text).render() == text, entry["file"]
        assert all(d.path == entry["file"] for d in rule.diagnostics)
    with_frontmatter = modes.get(ParseMode.YAML, 0) + modes.get(ParseMode.TOLERANT, 0)
    assert 0.6 < modes.get(ParseMode.TOLERANT, 0) / with_frontmatter < 0.8  # "about 70% are not valid YAML"


def test_strict_yaml_fails_on_exactly_the_invalid_files(corpus: Path) -> None:
    disagreements: list[str] = []
    for entry in manifest(corpus):
        path = corpus / entry["file"]
        text = path.read_text(encoding="utf-8")
        frontmatter = parse_document(text).frontmatter_text
        if frontmatter is None:
            continue
        try:
            loaded = yaml.safe_load(frontmatter)
            valid = loaded is None or isinstance(loaded, dict)
        except yaml.YAMLError:
            valid = False
        rule = rule_from_text(text, path=path, relpath=entry["file"], fmt=CURSOR)
        if valid != (rule.parse_mode is ParseMode.YAML):
            disagreements.append(entry["file"])
    assert disagreements == []
