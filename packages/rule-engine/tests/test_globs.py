from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from codegen_lab.rule_engine import GlobShape, normalise_globs, parse_document, render_globs
from codegen_lab.rule_engine._globs import globs_from_span


@pytest.mark.parametrize(
    ("value", "patterns", "shape"),
    [
        ("**/*.py", ("**/*.py",), GlobShape.STRING),
        ("**/*.ts, **/*.tsx", ("**/*.ts", "**/*.tsx"), GlobShape.COMMA),
        ("src/**/*.{ts,tsx},lib/*.js", ("src/**/*.{ts,tsx}", "lib/*.js"), GlobShape.COMMA),
        (["a/*.py", " b/*.py "], ("a/*.py", "b/*.py"), GlobShape.FLOW),
        ([], (), GlobShape.EMPTY_LIST),
        ("", (), GlobShape.EMPTY),
        (None, (), GlobShape.NULL),
        ("/src/*.py, ./lib/*.py, !./tests/**", ("src/*.py", "lib/*.py", "!tests/**"), GlobShape.COMMA),
        ("a,,a, ", ("a",), GlobShape.COMMA),
    ],
)
def test_every_shape_becomes_a_list(value: object, patterns: tuple[str, ...], shape: GlobShape) -> None:
    globs = normalise_globs(value)
    assert globs.patterns == patterns
    assert globs.shape is shape


PATTERN = st.from_regex(r"!?(\./|/)?[a-z*]{1,4}(/[a-z*.]{1,5}){0,2}(\.\{[a-z]{1,2},[a-z]{1,2}\})?", fullmatch=True)


@given(st.one_of(st.lists(PATTERN, max_size=5), st.lists(PATTERN, max_size=5).map(", ".join), st.none()))
def test_normalising_is_idempotent(value: object) -> None:
    once = normalise_globs(value)
    assert normalise_globs(list(once.patterns)).patterns == once.patterns
    assert normalise_globs(",".join(once.patterns)).patterns == once.patterns


@given(st.lists(PATTERN, min_size=1, max_size=5), st.sampled_from(["comma", "flow", "block", "string"]))
def test_rendering_then_reading_gives_the_same_patterns(patterns: list[str], form: str) -> None:
    globs = normalise_globs(patterns if form != "string" else patterns[0])
    shape = {"comma": GlobShape.COMMA, "flow": GlobShape.FLOW, "block": GlobShape.BLOCK}.get(form, globs.shape)
    globs = type(globs)(globs.patterns, shape, ",")
    first, *rest = render_globs(globs)
    text = "---\n" + "\n".join([f"globs: {first}".rstrip(), *rest]) + "\n---\n"
    assert globs_from_span(parse_document(text).fields["globs"], keep_quotes=False).patterns == globs.patterns


def test_cursor_keeps_quotes_as_part_of_the_pattern() -> None:
    span = parse_document('---\nglobs: "**/*.py", *.md\n---\n').fields["globs"]
    assert globs_from_span(span, keep_quotes=True).patterns == ('"**/*.py"', "*.md")
    assert globs_from_span(span, keep_quotes=False).patterns == ("**/*.py", "*.md")
