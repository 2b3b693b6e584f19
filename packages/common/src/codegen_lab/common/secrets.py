"""Secrets the server knows of, and the one way they are kept out of logs, results, errors and the audit log.

A secret is the value of an environment variable whose name says it is one (`ANTHROPIC_API_KEY`,
`GITHUB_TOKEN`, `DB_PASSWORD`, ...), or a value registered at start (a key read from a file, HTTP bearer
tokens). Values shorter than 8 characters are not treated as secrets: replacing them would mangle ordinary text.

A secret is redacted in every form text can hold it in: raw or repr-escaped, each also JSON-escaped (once or
twice: JSON inside JSON), URL-encoded (upper- or lower-case hex, `+` for spaces or not), and, where text was
cut short, as a prefix of 8 or more characters of any of those ending the text or a `...`/`…` truncation mark
(or a suffix just after one). One compiled alternation, longest first, finds the whole forms in one pass.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "REDACTED",
    "RedactingFormatter",
    "encodings",
    "holds_secret",
    "known_secrets",
    "may_hold_secret",
    "redact",
    "refresh_secrets",
    "register_secret",
    "scrub",
    "scrub_text",
]

REDACTED = "[redacted]"
_MINIMUM = 8
_SECRET_NAMES = ("key", "token", "secret", "password", "passwd", "authorization", "credential", "cookie")
_SECRET_ENVIRONMENT = ("KEY", "TOKEN", "SECRET", "PASSWORD", "CREDENTIAL", "AUTH")
_REGISTERED: set[str] = set()
_known: list[str] | None = None


def register_secret(value: str | None) -> None:
    """Treat `value` as a secret from now on (ignored when shorter than 8 characters)."""
    if value is not None and len(value.strip()) >= _MINIMUM:
        _REGISTERED.add(value.strip())
        refresh_secrets()


def environment_secrets(environ: Mapping[str, str]) -> list[str]:
    """The values of the variables in `environ` whose names say they are secrets."""
    return [
        value
        for name, value in environ.items()
        if len(value) >= _MINIMUM and any(marker in name.upper() for marker in _SECRET_ENVIRONMENT)
    ]


def known_secrets(environ: Mapping[str, str] | None = None) -> list[str]:
    """Every secret known, longest first (so that one holding another is replaced whole).

    Without `environ`, the process environment is read once and remembered (reading it costs more than a tool
    call should): `refresh_secrets()` reads it again, as `build_server` does when a server is composed.
    """
    global _known  # noqa: PLW0603 - one list for the process, rebuilt when something changes
    if environ is not None:
        return sorted({*environment_secrets(environ), *_REGISTERED}, key=len, reverse=True)
    if _known is None:
        _known = sorted({*environment_secrets(os.environ), *_REGISTERED}, key=len, reverse=True)
    return _known


def refresh_secrets() -> None:
    """Read the process environment's secrets again on the next `known_secrets()`."""
    global _known  # noqa: PLW0603
    _known = None


def encodings(secret: str) -> set[str]:
    """The forms `secret` takes in text: raw or repr-escaped, each also JSON-escaped once or twice; URL-encoded."""
    from urllib.parse import quote, quote_plus  # noqa: PLC0415 (only once there is a secret to encode)

    escaped = secret.encode("unicode_escape").decode("ascii")
    reprs = {secret, repr(secret)[1:-1], escaped, escaped.replace("'", "\\'"), escaped.replace('"', '\\"')}
    forms: set[str] = set()
    for form in reprs:  # a repr inside a JSON text (a tool's text result) is escaped again
        once = json.dumps(form)[1:-1]
        forms |= {form, once, json.dumps(form, ensure_ascii=False)[1:-1], json.dumps(once)[1:-1]}
    for url in (quote(secret, safe=""), quote(secret), quote_plus(secret)):
        forms |= {url, re.sub(r"%[0-9A-F]{2}", lambda match: match.group().lower(), url)}
    return {form for form in forms if len(form) >= _MINIMUM}


_MARKS = ("...", "\u2026")
"""What a truncated text puts where it cut: a secret's prefix before one (or its suffix after one) is redacted."""
_MARK = re.compile("|".join(re.escape(mark) for mark in _MARKS))


@dataclass(frozen=True, slots=True)
class _Matcher:
    whole: re.Pattern[str]
    """Every form of every secret, longest first."""
    heads: re.Pattern[str]
    """The first 8 characters of each form: where a cut-short prefix may start."""
    tails: re.Pattern[str]
    """The last 8 characters of each form: where a suffix after a truncation may end."""
    forms: tuple[str, ...]
    ends: tuple[str, ...]
    """The first and last 8 characters of each form and of each form JSON-escaped once more, as plain strings
    (`str.__contains__` on each is many times faster than a pattern)."""

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where `text` holds a secret: whole forms, and prefixes or suffixes at a truncation."""
        spans = [match.span() for match in self.whole.finditer(text)]
        marks = [match.span() for match in _MARK.finditer(text)]
        longest = len(self.forms[0])
        for cut in [*(start for start, _ in marks), len(text)]:  # only just before a cut can a prefix end
            for match in self.heads.finditer(text, max(0, cut - longest), cut):
                end = self._prefix_end(text, match.start())
                if end is not None:
                    spans.append((match.start(), end))
        for _, after in marks:  # and only just after a mark can a suffix start
            for match in self.tails.finditer(text, after, after + longest):
                start = self._suffix_start(text, match.end())
                if start is not None:
                    spans.append((start, match.end()))
        return spans

    def _prefix_end(self, text: str, start: int) -> int | None:
        for form in self.forms:
            length = _common_prefix(text, start, form)
            end = start + length
            if length >= _MINIMUM and (end == len(text) or text.startswith(_MARKS, end)):
                return end
        return None

    def _suffix_start(self, text: str, end: int) -> int | None:
        for form in self.forms:
            length = _common_suffix(text, end, form)
            start = end - length
            if length >= _MINIMUM and any(text.endswith(mark, 0, start) for mark in _MARKS):
                return start
        return None


def _common_prefix(text: str, start: int, form: str) -> int:
    length = 0
    limit = min(len(form), len(text) - start)
    while length < limit and text[start + length] == form[length]:
        length += 1
    return length


def _common_suffix(text: str, end: int, form: str) -> int:
    length = 0
    limit = min(len(form), end)
    while length < limit and text[end - 1 - length] == form[-1 - length]:
        length += 1
    return length


@functools.lru_cache(maxsize=16)
def _matcher(secrets: tuple[str, ...]) -> _Matcher | None:
    forms = sorted({form for secret in secrets for form in encodings(secret)}, key=lambda form: (-len(form), form))
    if not forms:
        return None
    whole = re.compile("|".join(re.escape(form) for form in forms))
    heads = sorted({form[:_MINIMUM] for form in forms})
    tails = sorted({form[-_MINIMUM:] for form in forms})
    return _Matcher(
        whole,
        re.compile("|".join(re.escape(head) for head in heads)),
        re.compile("|".join(re.escape(tail) for tail in tails)),
        tuple(forms),
        tuple(
            sorted(
                {end for form in {*forms, *map(_json_escaped, forms)} for end in (form[:_MINIMUM], form[-_MINIMUM:])}
            )
        ),
    )


def _json_escaped(form: str) -> str:
    """`form` inside a JSON string, as pydantic writes it (non-ASCII kept)."""
    return json.dumps(form, ensure_ascii=False)[1:-1]


def scrub_text(text: str, secrets: Sequence[str] | None = None) -> str:
    """`text` with every known secret, in any of its `encodings` or cut short at a truncation, as `[redacted]`."""
    matcher = _matcher(tuple(known_secrets() if secrets is None else secrets))
    if matcher is None:
        return text
    spans = matcher.spans(text)
    if not spans:
        return text
    pieces: list[str] = []
    cursor = 0
    for start, end in _merged(spans):
        pieces += [text[cursor:start], REDACTED]
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def holds_secret(text: str, secrets: Sequence[str] | None = None) -> bool:
    """Whether `text` holds a known secret in any form `scrub_text` redacts."""
    matcher = _matcher(tuple(known_secrets() if secrets is None else secrets))
    return matcher is not None and bool(matcher.spans(text))


def may_hold_secret(text: str, secrets: Sequence[str] | None = None) -> bool:
    """False when `text` cannot hold a known secret in any form `scrub_text` redacts, even JSON-escaped once more.

    A cheap test for a whole document (a result's JSON dump, non-ASCII kept as pydantic writes it) before scrubbing
    its strings one by one: every form `scrub_text` redacts, whole or cut short at a truncation, begins with the
    first 8 characters of a form or ends with the last 8, and escaping a string for JSON makes those the first or
    last 8 characters of the form JSON-escaped, which are looked for too. True means "look closer".
    """
    matcher = _matcher(tuple(known_secrets() if secrets is None else secrets))
    return matcher is not None and any(end in text for end in matcher.ends)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def scrub(value: Any, secrets: list[str]) -> Any:
    """`value` (JSON-like: mappings, lists, strings) with every secret inside its strings replaced."""
    if isinstance(value, str):
        return scrub_text(value, secrets)
    if isinstance(value, Mapping):
        mapping: Mapping[Any, Any] = value  # pyright: ignore[reportUnknownVariableType]
        return {key: scrub(item, secrets) for key, item in mapping.items()}
    if isinstance(value, list | tuple):
        items: list[Any] = list(value)  # pyright: ignore[reportUnknownArgumentType]
        return [scrub(item, secrets) for item in items]
    return value


def redact(value: Any, secrets: list[str], key: str = "") -> Any:
    """`value` with secret-looking fields (`api_key`, `token`, ...) and known secret values replaced.

    For what a caller sent (the audit log's arguments), where a field's name is reason enough.
    """
    if key and any(marker in key.lower() for marker in _SECRET_NAMES):
        return REDACTED
    if isinstance(value, Mapping):
        mapping: Mapping[str, Any] = value  # pyright: ignore[reportUnknownVariableType]
        return {str(k): redact(v, secrets, str(k)) for k, v in mapping.items()}
    if isinstance(value, list | tuple):
        items: list[Any] = list(value)  # pyright: ignore[reportUnknownArgumentType]
        return [redact(item, secrets) for item in items]
    if isinstance(value, str):
        return scrub_text(value, secrets)
    return value


class RedactingFormatter(logging.Formatter):
    """A formatter whose output, tracebacks included, never holds a known secret."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as the format string says, with every known secret replaced."""
        return scrub_text(super().format(record))
