from __future__ import annotations

from codegen_lab.testgen._collaborators import named
from codegen_lab.testgen._inputs import Candidate, Value
from codegen_lab.testgen._render import render_test


def _lines(candidate: Candidate, outcome: dict[str, object], module: str) -> list[str]:
    test = render_test(candidate, outcome, module=module, alias=module, taken=set())
    assert test is not None
    return test.lines


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


def test_a_collaborator_built_inline_is_named_and_what_the_call_did_to_it_is_checked() -> None:
    candidate = Candidate(
        id="c1",
        target="Formatter.format",
        expr="formatter.format('x', io.StringIO())",
        setup="formatter = fmt.Formatter(mock.MagicMock(), style=mock.MagicMock())",
        args=[Value("'x'", "str", "tokens"), Value("io.StringIO()", "other", "outfile")],
    )
    made = named(candidate)
    assert made.setup == (
        "double = mock.MagicMock()\nstyle = mock.MagicMock()\noutfile = io.StringIO()\n"
        "formatter = fmt.Formatter(double, style=style)"
    )
    assert made.expr == "formatter.format('x', outfile)"
    assert made.watch == ("double", "style", "outfile")
    assert made.subject() == "formatter"  # the object the method is called on, not a collaborator
    assert named(Candidate(id="c2", target="f", expr="fmt.f(1)")).watch == ()
    outcome = {
        "kind": "literal",
        "repr": "None",
        "watched": [
            {"expr": "outfile.getvalue()", "repr": "'{x}'"},
            {"expr": "double.mock_calls", "repr": "[mock.call.write('x')]"},
            {"expr": "len(style.mock_calls)", "repr": "3"},
        ],
    }
    test = render_test(candidate, outcome, module="fmt", alias="fmt", taken=set())
    assert test is not None
    assert test.name == "test_formatter_format_of_x_and_string_i_o_writes_x_to_outfile"
    assert test.lines[-4:] == [
        "    assert formatter.format('x', outfile) is None",
        "    assert outfile.getvalue() == '{x}'",
        "    assert double.mock_calls == [mock.call.write('x')]",
        "    assert len(style.mock_calls) == 3",
    ]
    setup = "double = mock.MagicMock()\nfmt.f(double)"
    counted = Candidate(id="c4", target="f", expr="len(double.mock_calls)", setup=setup)
    outcome = {"kind": "literal", "repr": "2", "watched": [{"expr": "len(double.mock_calls)", "repr": "2"}]}
    lines = _lines(counted, outcome, "fmt")
    assert lines[-1:] == ["    assert len(double.mock_calls) == 2"]  # checked once
    assert lines.count("    assert len(double.mock_calls) == 2") == 1
    # A call for its effect on an object with no state a test can read, and no collaborator: no test.
    plain = Candidate(id="c3", target="Formatter.reset", expr="formatter.reset()", setup="formatter = fmt.Formatter()")
    assert render_test(plain, {"kind": "literal", "repr": "None"}, module="fmt", alias="fmt", taken=set()) is None


def test_a_list_or_dict_the_call_changed_in_place_and_the_objects_changed_state_are_checked() -> None:
    candidate = Candidate(
        id="c1",
        target="fill",
        expr="opts.fill({}, [1])",
        args=[Value("{}", "dict", "options"), Value("[1]", "list", "extra")],
    )
    assert named(candidate).setup == "options = {}\nextra = [1]"  # in the observer's job: both watched
    assert named(candidate, containers=False) == candidate  # in a test where neither changed: as they were
    outcome = {"kind": "literal", "repr": "1", "watched": [{"expr": "options", "repr": "{'width': 80}"}]}
    assert _lines(candidate, outcome, "opts") == [
        "    options = {}",
        "    extra = [1]",
        "    assert opts.fill(options, extra) == 1",
        "    assert options == {'width': 80}",
    ]
    counter = Candidate(id="c2", target="Counter.bump", expr="counter.bump(2)", setup="counter = opts.Counter()")
    outcome = {
        "kind": "literal",
        "repr": "True",
        "changed": {"kind": "state", "state": {"count": "2"}, "expr": "counter"},
    }
    checks = ["    assert counter.bump(2) is True", "    assert counter.count == 2"]
    assert _lines(counter, outcome, "opts")[-2:] == checks
