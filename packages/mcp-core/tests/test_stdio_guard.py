from __future__ import annotations

import pytest

from codegen_lab.mcp_core import check_message


@pytest.mark.parametrize(
    ("line", "answer_id", "code"),
    [
        (b"not json", None, -32700),
        (b'{"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": [1]}', 3, -32602),
        (b'{"jsonrpc": "2.0", "id": "a", "method": "x", "params": "s"}', "a", -32602),
        (b'{"jsonrpc": "2.0", "id": 4}', 4, -32600),
        (b'{"jsonrpc": "1.0", "id": 5, "method": "ping"}', 5, -32600),
        (b'{"jsonrpc": "2.0", "id": 1.5, "method": "ping"}', None, -32600),
        (b'[{"jsonrpc": "2.0", "id": 6, "method": "ping"}]', 6, -32600),
        (b"7", None, -32600),
    ],
)
def test_a_bad_request_is_answered_with_its_id(line: bytes, answer_id: object, code: int) -> None:
    answers, forward = check_message(line)
    assert not forward
    assert [(answer["id"], answer["error"]["code"]) for answer in answers] == [(answer_id, code)]


def test_good_messages_and_responses_go_through() -> None:
    assert check_message(b'{"jsonrpc": "2.0", "id": 1, "method": "ping"}') == ([], True)
    assert check_message(b'{"jsonrpc": "2.0", "method": "notifications/initialized"}') == ([], True)
    assert check_message(b'{"jsonrpc": "2.0", "id": 2, "result": {}}') == ([], True)


def test_a_malformed_notification_is_dropped_without_an_answer() -> None:
    assert check_message(b'{"jsonrpc": "2.0", "method": "notifications/progress", "params": 1}') == ([], False)


def test_an_oversized_line_is_refused_unparsed_with_the_id_found_near_its_start() -> None:
    line = b'{"jsonrpc": "2.0", "id": 42, "method": "x", "params": {"p": "' + b"y" * 2000 + b'"}}'
    answers, forward = check_message(line, max_bytes=1024)
    assert not forward
    assert answers[0]["id"] == 42
    assert "over the limit of 1,024 bytes" in answers[0]["error"]["message"]


DEEP = b"[" * 50_000 + b"]" * 50_000


@pytest.mark.parametrize(
    ("line", "answer_id"),
    [
        (b'{"jsonrpc": "2.0", "id": 7, "method": "ping", ', 7),  # cut short
        (b'{"jsonrpc": "2.0", "method": "ping", "params": {"id": 1, "x": tru}, "id": "b"}', "b"),
        (b'{"jsonrpc": "2.0", "id": 8, "method": "ping", "params": {"x": ' + b"1" * 5000 + b"}}", 8),
        (b'{"jsonrpc": "2.0", "id": 9, "method": "ping", "params": {"x": ' + b"1" * 5000 + b".5}}", 9),
        (b'{"jsonrpc": "2.0", "method": "ping", "params": {"x": ' + DEEP + b'}, "id": 10}', 10),
        (b'{"jsonrpc": "2.0", "id": 11, "method": "ping", "params": {"x": ' + b"[" * 500 + b"]" * 500 + b"}}", 11),
        (b'{"jsonrpc": "2.0", "id": 12, "method": "ping", "params": {"x": "\\ud800"}}', 12),
        (b'{"jsonrpc": "2.0", "id": ' + b"1" * 5000 + b', "method": "ping", "params": [', None),
        (b'{"jsonrpc": "2.0", "method": "ping", "params": {"x": "id"}, "x": [', None),
    ],
)
def test_a_line_the_sdk_cannot_parse_is_answered_with_its_id(line: bytes, answer_id: object) -> None:
    answers, forward = check_message(line)
    assert not forward
    assert [(answer["id"], answer["error"]["code"]) for answer in answers] == [(answer_id, -32700)]


def test_an_oversized_line_deep_before_its_id_is_answered_with_it() -> None:
    line = b'{"jsonrpc": "2.0", "params": {"p": ' + b"[" * 600 + b"]" * 600 + b'}, "id": 43, "x": "' + b"y" * 2000
    answers, _ = check_message(line + b'"}', max_bytes=1024)
    assert answers[0]["id"] == 43
