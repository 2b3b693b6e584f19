"""A secret is redacted in every form text can hold it: raw, escaped, URL-encoded, or cut short."""

from __future__ import annotations

import json
import logging
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given, strategies as st
from pydantic_core import to_json

from codegen_lab.common.secrets import (
    REDACTED,
    RedactingFormatter,
    encodings,
    holds_secret,
    may_hold_secret,
    redact,
    scrub_text,
)

SECRET = 'pa"ss\\word-0123456789'  # noqa: S105 (a test's secret)
"""The secret of the report: a `"` and a `\\` made its escaped forms leak."""


@pytest.mark.parametrize(
    ("name", "form"),
    [
        ("raw", SECRET),
        ("JSON-escaped", json.dumps(SECRET)[1:-1]),
        ("JSON inside JSON", json.dumps(json.dumps(SECRET)[1:-1])[1:-1]),
        ("repr-escaped", repr(SECRET)[1:-1]),
        ("repr of bytes", repr(SECRET.encode())[2:-1]),
        ("URL-encoded", quote(SECRET, safe="")),
        ("URL-encoded, lower-case hex", quote(SECRET, safe="").lower()),
        ("form-encoded", quote_plus(SECRET)),
    ],
)
def test_each_encoding_of_a_secret_is_redacted(name: str, form: str) -> None:
    text = f"DB_PASSWORD={form} and more"
    assert scrub_text(text, [SECRET]) == f"DB_PASSWORD={REDACTED} and more", name
    assert holds_secret(text, [SECRET])


def test_the_ws_run_env_text_of_the_report_is_redacted() -> None:
    text = json.dumps({"stdout": f"HOME=/root\nDB_PASSWORD={SECRET}\n"})
    scrubbed = scrub_text(text, [SECRET])
    assert "pa\\" not in scrubbed
    assert json.loads(scrubbed)["stdout"] == f"HOME=/root\nDB_PASSWORD={REDACTED}\n"


@pytest.mark.parametrize(
    "text",
    [
        f"FAILED test_env - AssertionError: assert {repr(SECRET)[:14]}...",  # pytest's truncated summary
        f"E   assert '{json.dumps(SECRET)[1:12]}\u2026' == 'x'",
        f"output cut at 4096 bytes: DB_PASSWORD={SECRET[:9]}",
    ],
)
def test_a_prefix_of_eight_or_more_characters_is_redacted_where_text_was_cut(text: str) -> None:
    scrubbed = scrub_text(text, [SECRET])
    assert REDACTED in scrubbed
    assert "pa\\" not in scrubbed
    assert 'pa"ss' not in scrubbed


def test_a_suffix_after_a_truncation_mark_is_redacted() -> None:
    assert scrub_text(f"'{SECRET[:3]}...{SECRET[-10:]}'", [SECRET]) == f"'pa\"...{REDACTED}'"


def test_short_prefixes_and_ordinary_text_are_left_alone() -> None:
    assert scrub_text('a password: pa"ss\\w...', [SECRET]) == 'a password: pa"ss\\w...'  # 7 characters
    assert scrub_text(f"{SECRET[:10]} is not cut here", [SECRET]) == f"{SECRET[:10]} is not cut here"
    assert not holds_secret("nothing to see", [SECRET])
    assert scrub_text("anything", []) == "anything"


def test_a_longer_secret_holding_a_shorter_one_is_replaced_whole() -> None:
    assert scrub_text("token-abcdefgh-and-more!", ["token-abcdefgh", "token-abcdefgh-and-more"]) == "[redacted]!"


def test_the_debug_log_and_the_audit_arguments_are_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    from codegen_lab.common import secrets

    monkeypatch.setenv("DB_PASSWORD", SECRET)
    secrets.refresh_secrets()
    try:
        record = logging.LogRecord("x", logging.DEBUG, __file__, 1, "env %s", (json.dumps({"v": SECRET}),), None)
        assert SECRET[:5] not in RedactingFormatter("%(message)s").format(record)
        assert redact({"cmd": ["echo", repr(SECRET)]}, secrets.known_secrets()) == {"cmd": ["echo", "'[redacted]'"]}
    finally:
        monkeypatch.delenv("DB_PASSWORD")
        secrets.refresh_secrets()


@given(st.text(min_size=8, max_size=40).filter(lambda value: value.strip() == value and value not in "<[redacted]>"))
def test_no_form_of_any_secret_survives(secret: str) -> None:
    # A "secret" that is part of the marker itself would be found in the redacted text: not a leak.
    for form in encodings(secret):
        assert form not in scrub_text(f"<{form}>", [secret])


@given(
    secret=st.text(min_size=8, max_size=30).filter(lambda value: value.strip() == value),
    before=st.text(max_size=10),
    cut=st.integers(min_value=0, max_value=30),
    mark=st.sampled_from(["", "...", "\u2026"]),
)
def test_a_document_that_may_hold_a_secret_is_never_passed_over(secret: str, before: str, cut: int, mark: str) -> None:
    # whole forms, prefixes cut at a truncation, suffixes after one; each string in a JSON document (not escaped
    # to ASCII, as pydantic dumps a result) holds it
    for form in encodings(secret):
        for text in (f"{before}{form}", f"{before}{form[: max(8, len(form) - cut)]}{mark}", f"{mark}{form[cut:]}"):
            if holds_secret(text, [secret]):
                assert may_hold_secret(text, [secret])
                assert may_hold_secret(json.dumps(text, ensure_ascii=False), [secret])
                assert may_hold_secret(json.dumps({"text": [text]}, ensure_ascii=False), [secret])
                assert may_hold_secret(to_json({"text": [text]}).decode(), [secret])  # as a result's dump


def test_a_document_without_any_part_of_a_secret_is_passed_over() -> None:
    assert not may_hold_secret('{"text": "nothing to see"}', ["sk-ant-0123456789abcdef"])
    assert not may_hold_secret("anything", [])
