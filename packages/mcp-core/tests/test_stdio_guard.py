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
