"""The one glob normaliser: every way people write `globs` becomes a list of patterns, and back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from codegen_lab.rule_engine._document import FieldSpan, read_value, split_outside_braces
from codegen_lab.rule_engine._model import GlobShape

__all__ = ["Globs", "globs_from_span", "normalise_globs", "normalise_pattern", "render_globs"]


@dataclass(frozen=True, slots=True)
class Globs:
    """Normalised patterns, and how they were written."""

    patterns: tuple[str, ...]
    shape: GlobShape
    separator: str = ","
    """For a comma-separated string: what stood between the patterns (`","` or `", "`)."""
    quoted: bool = False
    """Some pattern was written in quotes."""


def normalise_pattern(pattern: str) -> str:
    """Trim a pattern and drop a leading `./` or `/` (after a `!` negation, which is kept)."""
    text = pattern.strip()
    negated = text.startswith("!")
    if negated:
        text = text[1:].strip()
    while text.startswith(("./", "/")):
        text = text[2:] if text.startswith("./") else text[1:]
    return f"!{text}" if negated and text else text


def normalise_globs(value: object, *, shape: GlobShape | None = None, quoted: bool = False) -> Globs:
    """Normalise a `globs` value: a string, a comma-separated string, a list, empty, None or `[]`.

    Commas inside braces (`**/*.{ts,tsx}`) do not split. Empty patterns are dropped; duplicates are kept once.

    Args:
        value: The value as parsed.
        shape: How it was written, when the caller knows better than the value tells (a block list).
        quoted: Whether some pattern was written in quotes.
    """
    if value is None:
        return Globs((), shape or GlobShape.NULL, quoted=quoted)
    if isinstance(value, str):
        parts = split_outside_braces(value)
        patterns = _clean(parts)
        if not value.strip():
            return Globs((), GlobShape.EMPTY, quoted=quoted)
        if len(parts) == 1:
            return Globs(patterns, GlobShape.STRING, quoted=quoted)
        separator = ", " if any(part.startswith(" ") for part in parts[1:]) else ","
        return Globs(patterns, GlobShape.COMMA, separator=separator, quoted=quoted)
    if isinstance(value, Sequence):
        items = [str(item) for item in value]  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
        if not items:
            return Globs((), GlobShape.EMPTY_LIST, quoted=quoted)
        return Globs(_clean(items), shape or GlobShape.FLOW, quoted=quoted)
    return Globs(_clean([str(value)]), GlobShape.STRING, quoted=quoted)


def globs_from_span(span: FieldSpan | None, *, keep_quotes: bool) -> Globs:
    """The globs of a frontmatter field, read from its text the way the tolerant reader does.

    With `keep_quotes` (Cursor), quotes around a pattern stay part of it: Cursor matches them literally.
    """
    if span is None:
        return Globs((), GlobShape.ABSENT)
    read = read_value(span, keep_quotes=keep_quotes)
    shape = GlobShape.BLOCK if read.block_list else GlobShape.FLOW if read.flow_list else None
    value = str(read.value).lower() if isinstance(read.value, bool) else read.value
    globs = normalise_globs(value, shape=shape, quoted=read.quoted)
    if keep_quotes or not read.quoted:
        return globs
    # `"a", "b"`: each pattern of a comma-separated string may be quoted on its own.
    patterns = tuple(dict.fromkeys(normalise_pattern(pattern.strip("\"'")) for pattern in globs.patterns))
    return Globs(patterns, globs.shape, separator=globs.separator, quoted=True)


def render_globs(globs: Globs) -> list[str]:
    """The value lines that write `globs` back in its shape: the first goes after `globs: `."""
    patterns = list(globs.patterns)
    match globs.shape:
        case GlobShape.BLOCK:
            return ["", *(f"  - {pattern}" for pattern in patterns)] if patterns else ["[]"]
        case GlobShape.FLOW | GlobShape.EMPTY_LIST:
            return ["[" + ", ".join(_quote(pattern) for pattern in patterns) + "]"]
        case GlobShape.EMPTY:
            return ['""'] if not patterns else [globs.separator.join(patterns)]
        case _:
            return [globs.separator.join(patterns)] if patterns else [""]


def _clean(parts: Sequence[str]) -> tuple[str, ...]:
    cleaned = (normalise_pattern(part) for part in parts)
    return tuple(dict.fromkeys(pattern for pattern in cleaned if pattern and pattern != "!"))


def _quote(pattern: str) -> str:
    return pattern if pattern.startswith(('"', "'")) else f'"{pattern}"'
