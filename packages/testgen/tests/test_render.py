from __future__ import annotations

from codegen_lab.testgen._inputs import Candidate
from codegen_lab.testgen._render import render_test


def test_a_returned_object_has_its_state_checked_beside_its_text() -> None:
    candidate = Candidate(id="c1", target="Version.bump", expr="version_.bump()", setup="version_ = v.Version(1)")
    outcome = {"kind": "text", "via": "str", "text": "2.0", "type": "v.Version", "state": {"major": "2", "pre": "None"}}
    test = render_test(candidate, outcome, module="v", alias="v", taken=set())
    assert test is not None
    assert test.lines == [
        "    version_ = v.Version(1)",
        "    result = version_.bump()",
        "    assert str(result) == '2.0'",
        "    assert result.major == 2",
        "    assert result.pre is None",
    ]


def test_an_object_a_call_raised_on_is_checked_after_the_raise() -> None:
    candidate = Candidate(
        id="c1", target="Version.major", expr="version_.major = 3", setup="version_ = v.Version(1)", statement=True
    )
    assert candidate.subject() == "version_.major"
    outcome = {
        "kind": "raises",
        "type": "builtins.AttributeError",
        "message": "read-only",
        "after": {"kind": "literal", "repr": "1", "expr": "version_.major"},
    }
    test = render_test(candidate, outcome, module="v", alias="v", taken=set())
    assert test is not None
    assert test.lines[-3:] == [
        "    with pytest.raises(AttributeError, match='read-only'):",
        "        version_.major = 3",
        "    assert version_.major == 1",
    ]
    assert Candidate(id="c2", target="f", expr="v.f(1)").subject() is None  # nothing the setup made
