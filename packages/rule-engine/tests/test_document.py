from __future__ import annotations

from hypothesis import given, strategies as st

from codegen_lab.rule_engine import parse_document
from codegen_lab.rule_engine._document import read_value

RULE = "---\ndescription: Python style\nglobs: **/*.py\n# a comment\nalwaysApply: false\n---\nBody line\n"


def test_fields_and_body() -> None:
    document = parse_document(RULE)
    assert list(document.fields) == ["description", "globs", "alwaysApply"]
    assert document.fields["globs"].inline == "**/*.py"
    assert document.body == "Body line\n"
    assert document.body_start == 6


@given(st.text())
def test_any_text_renders_back_to_itself(text: str) -> None:
    assert parse_document(text).render() == text


@given(st.lists(st.sampled_from(["---", "globs: **/*.py", "  - a", "x: 1", "", "\t", "body", "key:"]), max_size=12))
def test_rule_like_text_renders_back_to_itself(lines: list[str]) -> None:
    for newline in ("\n", "\r\n"):
        text = newline.join(lines)
        assert parse_document(text).render() == text


def test_an_edit_changes_only_the_edited_field() -> None:
    edited = parse_document(RULE).with_field("globs", ["src/**/*.py"]).render()
    assert edited == RULE.replace("globs: **/*.py", "globs: src/**/*.py")


def test_editing_keeps_crlf_and_a_bom() -> None:
    text = "\ufeff---\r\nglobs: a\r\n---\r\nbody\r\n"
    assert parse_document(text).with_field("globs", ["b"]).render() == text.replace("globs: a", "globs: b")


def test_a_new_field_goes_at_the_end_of_the_frontmatter_and_a_file_without_one_gets_one() -> None:
    assert (
        parse_document(RULE)
        .with_field("name", ["x"])
        .render()
        .endswith("alwaysApply: false\nname: x\n---\nBody line\n")
    )
    assert parse_document("Just text\n").with_field("alwaysApply", ["true"]).render() == (
        "---\nalwaysApply: true\n---\nJust text\n"
    )


def test_an_unclosed_frontmatter_is_all_body() -> None:
    document = parse_document("---\nglobs: a\nbody\n")
    assert document.unclosed
    assert document.fields == {}
    assert document.body == "---\nglobs: a\nbody\n"


def test_block_lists_belong_to_their_key() -> None:
    document = parse_document("---\nglobs:\n  - a.py\n  - 'b.py'\nname: x\n---\n")
    value = read_value(document.fields["globs"])
    assert value.value == ["a.py", "b.py"]
    assert value.block_list
    assert value.quoted


def test_duplicate_keys_are_remembered() -> None:
    document = parse_document("---\nglobs: a\nglobs: b\n---\n")
    assert document.fields["globs"].inline == "b"
    assert [span.inline for span in document.duplicates] == ["a"]


def test_tolerant_values() -> None:
    def value(line: str) -> object:
        return read_value(parse_document(f"---\n{line}\n---\n").fields["k"]).value

    assert value("k: true") is True
    assert value("k: False") is False
    assert value('k: "true"') == "true"
    assert value("k:") is None
    assert value("k: ~") is None
    assert value("k: [a, 'b', {c,d}]") == ["a", "b", "{c,d}"]
    assert value("k: text # a comment") == "text"
    assert value("k: a#b") == "a#b"
