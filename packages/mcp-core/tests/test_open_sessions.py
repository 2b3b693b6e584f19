"""`OpenSessions`: the HTTP sessions mcp-core sees open, kept from the requests (the SDK publishes no list)."""

from __future__ import annotations

from codegen_lab.mcp_core._http import OpenSessions


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_session_is_open_from_its_first_answer_until_it_has_been_idle_for_the_timeout() -> None:
    clock = Clock()
    sessions = OpenSessions(10.0, clock)
    sessions.opened("a")
    clock.now += 60  # the opening request is still in flight (an SSE stream): not idle
    assert dict(sessions) == {"a": 1}
    sessions.end("a", ended=False)
    clock.now += 9.9
    assert list(sessions) == ["a"]
    assert sessions.begin("a")  # a request in flight again: the idle clock starts over when it ends
    sessions.end("a", ended=False)
    clock.now += 9.9
    assert len(sessions) == 1
    clock.now += 0.1
    assert (len(sessions), "a" in sessions, sessions.begin("a")) == (0, False, False)


def test_a_delete_or_a_404_ends_a_session_at_once_and_other_sessions_stay() -> None:
    sessions = OpenSessions(600.0, Clock())
    for session in ("a", "b", "c"):
        sessions.opened(session)
        sessions.end(session, ended=False)
    assert sessions.begin("a")
    sessions.end("a", ended=True)
    assert sessions.begin("b")
    assert sessions.begin("b")  # two requests of one session in flight
    sessions.end("b", ended=False)
    assert dict(sessions) == {"b": 1, "c": 0}
    sessions.end("a", ended=False)  # the end of a request of a session already gone changes nothing
    assert sorted(sessions) == ["b", "c"]
