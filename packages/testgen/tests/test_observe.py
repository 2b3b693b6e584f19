"""The observer script, run in this process: what it reports a call did beside its result."""

from __future__ import annotations

import importlib.util
import io
from types import ModuleType, SimpleNamespace
from unittest import mock

from codegen_lab.testgen._collaborators import named
from codegen_lab.testgen._inputs import Candidate, Value
from codegen_lab.testgen._render import render_test
from codegen_lab.testgen._runner import SCRIPTS


def _observer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("testgen_observe", SCRIPTS / "observe.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pad(values: list[int], size: int = 3) -> int:
    added = size - len(values)
    values.extend([0] * added)
    return added


class _Counter:
    def __init__(self) -> None:
        self.count = 0

    def bump(self, by: int) -> bool:
        self.count += by
        return by > 1


def test_the_observer_reports_what_a_call_did_to_its_collaborators_and_to_its_object() -> None:
    observer = _observer()
    namespace = {"io": io, "mock": mock, "m": SimpleNamespace(pad=_pad, Counter=_Counter)}

    def run(candidate: Candidate) -> dict[str, object]:
        return observer.run_candidate(named(candidate).job(), namespace, __file__, 30.0)

    padded = run(Candidate("c1", "pad", "m.pad([7], 3)", args=[Value("[7]", "list", "values")]))
    assert padded == {"kind": "literal", "repr": "2", "watched": [{"expr": "values", "repr": "[7, 0, 0]"}]}
    unchanged = run(Candidate("c2", "pad", "m.pad([7, 8, 9], 3)", args=[Value("[7, 8, 9]", "list", "values")]))
    assert unchanged == {"kind": "literal", "repr": "0", "watched": []}
    bumped = run(Candidate("c3", "Counter.bump", "counter.bump(2)", setup="counter = m.Counter()"))
    assert bumped["changed"] == {"kind": "state", "state": {"count": "2"}, "expr": "counter"}
    wrote = run(Candidate("c4", "print", "print('a', file=io.StringIO())"))
    assert wrote["watched"] == [{"expr": "file.getvalue()", "repr": "'a\\n'"}]
    called = run(Candidate("c5", "call", "(lambda d: [d.emit(object()), d.flush(1)])(mock.MagicMock())"))
    assert called["watched"] == [{"expr": "len(double.mock_calls)", "repr": "2"}]  # an argument a test cannot write
    calls = mock.MagicMock()
    calls.write("x", end="")
    calls().close()
    shown = "[mock.call.write('x', end=''), mock.call(), mock.call().close()]"
    assert observer.calls_literal(calls.mock_calls) == shown


class _Kind:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Token.{self.name}"


def test_a_generator_of_objects_that_show_themselves_is_checked_by_the_items_repr() -> None:
    observer = _observer()
    namespace = {"m": SimpleNamespace(tokens=lambda text: ((_Kind("Word"), word) for word in text.split()))}
    candidate = Candidate("c1", "tokens", "m.tokens('select 1')", args=[Value("'select 1'", "str", "text")])
    outcome = observer.run_candidate(candidate.job(), namespace, __file__, 30.0)
    shown = "[(Token.Word, 'select'), (Token.Word, '1')]"
    assert outcome == {"kind": "text", "via": "repr", "text": shown, "type": "builtins.generator", "iterated": True}
    test = render_test(candidate, outcome, module="m", alias="m", taken=set())
    assert test is not None
    assert test.name == "test_tokens_of_select_1_yields_token_word_select_token_word"
    assert test.lines == [f"    assert repr(list(m.tokens('select 1'))) == {shown!r}"]
    unshown = SimpleNamespace(tokens=lambda text: (object() for _ in text))  # `<object object at 0x...>`
    assert observer.run_candidate(candidate.job(), {"m": unshown}, __file__, 30.0) == {"kind": "opaque"}
