"""A rule file as text: the frontmatter's fields with their line spans, and the body, losslessly.

Reading never raises: a file that is not valid YAML is read field by field, the way Cursor reads it. Editing a
field replaces only that field's lines; an unchanged document writes back the bytes it was read from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Document", "FieldSpan", "TolerantValue", "parse_document", "read_value"]

_KEY = re.compile(r"^([A-Za-z_][\w.-]*)[ \t]*:(?:[ \t]|$)(.*)$")
_DELIMITER = "---"


@dataclass(frozen=True, slots=True)
class FieldSpan:
    """One top-level frontmatter field: its key, its lines and the raw text of its value."""

    key: str
    start: int
    """0-based index of the key's line in `Document.lines`."""
    end: int
    """0-based index one past its last line (continuation lines and block-list items included)."""
    inline: str
    """The text after `key:` on the key's line, without the line ending."""
    continuation: tuple[str, ...]
    """The lines after the key's line that belong to the field, without their line endings."""


@dataclass(slots=True)
class Document:
    """A rule file's text, split into frontmatter fields and body, able to give back its exact bytes."""

    text: str
    lines: list[str]
    """The lines, each with its line ending (the BOM, if any, stays in `bom`)."""
    bom: str = ""
    frontmatter: tuple[int, int] | None = None
    """0-based indexes of the opening and closing `---` lines, when the file has a closed frontmatter."""
    unclosed: bool = False
    """True when the file opens a frontmatter and never closes it."""
    fields: dict[str, FieldSpan] = field(default_factory=dict[str, FieldSpan])
    duplicates: list[FieldSpan] = field(default_factory=list[FieldSpan])
    """Fields whose key appeared earlier too (the last one wins, as in YAML loaders that allow it)."""

    @property
    def newline(self) -> str:
        """The file's line ending: CRLF when its first line ends so, else LF."""
        return "\r\n" if self.lines and self.lines[0].endswith("\r\n") else "\n"

    @property
    def frontmatter_text(self) -> str | None:
        """The text between the delimiters, or None without a closed frontmatter."""
        if self.frontmatter is None:
            return None
        start, end = self.frontmatter
        return "".join(self.lines[start + 1 : end])

    @property
    def body_start(self) -> int:
        """0-based index of the body's first line."""
        return self.frontmatter[1] + 1 if self.frontmatter is not None else 0

    @property
    def body(self) -> str:
        """The text after the frontmatter (all of it, without one)."""
        return "".join(self.lines[self.body_start :])

    def render(self) -> str:
        """The document's text, exactly as it would be written."""
        return self.bom + "".join(self.lines)

    def with_field(self, key: str, value_lines: list[str]) -> Document:
        """A copy where `key`'s value is `value_lines` (the first goes after `key: `), other bytes untouched.

        A field that does not exist yet is added at the end of the frontmatter; a file without frontmatter gets
        one.
        """
        newline = self.newline
        first, *rest = value_lines or [""]
        new = [f"{key}: {first}".rstrip() + newline, *(line + newline for line in rest)]
        lines = list(self.lines)
        span = self.fields.get(key)
        if span is not None:
            lines[span.start : span.end] = new
        elif self.frontmatter is not None:
            lines[self.frontmatter[1] : self.frontmatter[1]] = new
        else:
            lines[0:0] = [_DELIMITER + newline, *new, _DELIMITER + newline]
        return parse_document(self.bom + "".join(lines))


def parse_document(text: str) -> Document:
    """Split `text` into frontmatter fields and body; never raises."""
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    lines = text[len(bom) :].splitlines(keepends=True)
    document = Document(text=text, lines=lines, bom=bom)
    if not lines or lines[0].strip() != _DELIMITER:
        return document
    closing = next((index for index in range(1, len(lines)) if lines[index].rstrip("\r\n").strip() == _DELIMITER), None)
    if closing is None:
        document.unclosed = True
        return document
    document.frontmatter = (0, closing)
    _split_fields(document, 1, closing)
    return document


def _split_fields(document: Document, start: int, end: int) -> None:
    current: tuple[str, int, str] | None = None
    continuation: list[str] = []

    def close(until: int) -> None:
        if current is None:
            return
        key, at, inline = current
        # Trailing blank lines separate fields; they are not part of the value.
        kept = list(continuation)
        while kept and not kept[-1].strip():
            kept.pop()
            until -= 1
        span = FieldSpan(key=key, start=at, end=until, inline=inline, continuation=tuple(kept))
        if key in document.fields:
            document.duplicates.append(document.fields[key])
        document.fields[key] = span

    for index in range(start, end):
        line = document.lines[index].rstrip("\r\n")
        match = _KEY.match(line)
        if match:
            close(index)
            current = (match.group(1), index, match.group(2))
            continuation = []
        elif current is not None and (not line.strip() or line[0] in " \t-"):
            continuation.append(line)
        else:
            # A comment or stray text at column 0 ends the field before it and belongs to no field.
            close(index)
            current = None
            continuation = []
    close(end)


@dataclass(frozen=True, slots=True)
class TolerantValue:
    """A value as Cursor's lenient reader sees it."""

    value: Any
    """A string, a bool, None, or a list of strings."""
    quoted: bool = False
    """The value (or an item of a list) was written in quotes."""
    flow_list: bool = False
    block_list: bool = False


def read_value(span: FieldSpan, *, keep_quotes: bool = False) -> TolerantValue:
    """Read a field's value without YAML: plain text, quoted text, `true`/`false`, a flow or a block list.

    With `keep_quotes`, quotes stay part of the text, as Cursor reads `globs`.
    """
    unquote = _as_written if keep_quotes else _unquote
    inline = _strip_comment(span.inline).strip()
    items = [line.strip() for line in span.continuation if line.strip() and not line.strip().startswith("#")]
    if not inline and items and all(item.startswith("-") for item in items):
        values = [_strip_comment(item[1:]).strip() for item in items]
        quoted = any(_is_quoted(value) for value in values)
        return TolerantValue([unquote(value) for value in values], quoted=quoted, block_list=True)
    if inline.startswith("[") and inline.endswith("]"):
        values = [value.strip() for value in split_outside_braces(inline[1:-1]) if value.strip()]
        quoted = any(_is_quoted(value) for value in values)
        return TolerantValue([unquote(value) for value in values], quoted=quoted, flow_list=True)
    text = " ".join([inline, *items]).strip() if items else inline
    if text in {"", "~", "null", "Null", "NULL"}:
        return TolerantValue(None)
    if text in {"true", "True", "TRUE"}:
        return TolerantValue(True)
    if text in {"false", "False", "FALSE"}:
        return TolerantValue(False)
    quoted = _is_quoted(text) or any(_is_quoted(part.strip()) for part in split_outside_braces(text))
    return TolerantValue(unquote(text), quoted=quoted)


def split_outside_braces(text: str) -> list[str]:
    """Split on commas that are not inside `{...}`, `[...]` or quotes: `a,{b,c}` gives `["a", "{b,c}"]`."""
    parts: list[str] = []
    depth = 0
    quote = ""
    current: list[str] = []
    for char in text:
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "{[":
            depth += 1
        elif char in "}]" and depth:
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def _strip_comment(text: str) -> str:
    """Drop a YAML comment (` #` outside quotes) from the end of a line."""
    quote = ""
    for index, char in enumerate(text):
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'" and (index == 0 or text[index - 1] in " \t[,:"):
            quote = char
        elif char == "#" and (index == 0 or text[index - 1] in " \t"):
            return text[:index]
    return text


def _as_written(text: str) -> str:
    return text


def _is_quoted(text: str) -> bool:
    return len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'"


def _unquote(text: str) -> str:
    return text[1:-1] if _is_quoted(text) else text
