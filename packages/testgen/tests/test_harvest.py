from __future__ import annotations

import ast
import random
import re
import sys
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from codegen_lab.testgen import generate
from codegen_lab.testgen._analysis import analyze_source, documented_types
from codegen_lab.testgen._harvest import harvest, looks_like_regex, realistic, regex_samples
from codegen_lab.testgen._inputs import Candidate, Value, candidates_for
from codegen_lab.testgen._render import render_test
from codegen_lab.testgen._strategies import combined, mutated, sequences


def Seeded(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 (input choices, not secrets)


LEXER = '''
import re
from enum import Enum

NUMBER = re.compile(r"(?:0x[0-9a-f]+|[1-9][0-9]*)(?:\\.[0-9]+)?")
WHITESPACE = " \\t"


class Kind(Enum):
    DOT = "dot"
    STAR = "star"


class Lexer:
    SIMPLE = {".": "dot", "*": "star", "[": "lbracket"}

    def tokens(self, text):
        """Lex `text`.

        Args:
            text (str): what to lex.
        """
        found = []
        for char in text:
            if char in WHITESPACE:
                continue
            if char in self.SIMPLE:
                found.append(self.SIMPLE[char])
            elif char in "@&":
                found.append("at-or-amp")
            else:
                raise ValueError(f"unknown character {char!r}")
        return found


def describe(kind: Kind) -> str:
    return kind.value
'''


def test_the_module_names_its_own_inputs() -> None:
    found = harvest(ast.parse(LEXER))
    assert {".", "*", "[", "dot", "@", "&", " ", "\t"} <= set(found.strings)
    assert found.enums == {"Kind": ["DOT", "STAR"]}
    assert "Lex `text`." not in "".join(found.strings)  # docstrings are no inputs
    numbers = [text for text in found.strings if re.fullmatch(r"(?:0x[0-9a-f]+|[1-9][0-9]*)(?:\.[0-9]+)?", text)]
    assert len(numbers) >= 2  # one per alternative of the pattern
    assert not [text for text in found.strings if "[0-9" in text]  # the regex's text is no input


def test_strings_matching_a_regex_come_from_each_alternative() -> None:
    samples = regex_samples(r"\b(a|an|the)\b|v\d+\.\d+")
    assert {"a", "an", "the"} <= set(samples)
    assert any(re.fullmatch(r"v\d+\.\d+", sample) for sample in samples)
    assert regex_samples(r"(unclosed") == []


@given(st.sampled_from([r"[A-Z][a-z]+", r"\d{2,4}-\d\d", r'"[^"]*"', r"(x|y)+z?", r"^(?:ab|cd)*$", r"(a)\1"]))
def test_every_sample_matches_its_pattern(pattern: str) -> None:
    samples = regex_samples(pattern)
    assert samples
    assert all(re.search(pattern, sample) for sample in samples)


def test_regex_text_is_told_from_plain_strings() -> None:
    assert looks_like_regex(r"^(\d+)\.(\d+)$")
    assert looks_like_regex("[\r\n]+")
    assert not looks_like_regex("hello world")
    assert not looks_like_regex("1.2.3")


def test_string_parameters_get_real_looking_inputs_by_name() -> None:
    assert realistic("url")[0].startswith("https://")
    assert "@" in realistic("email")[0]
    assert realistic("title") == ["the lord of the rings", "A TALE OF TWO CITIES"]
    assert realistic("base_url") == realistic("url")
    assert realistic("x") == []


def test_docstring_types_are_read_in_each_style() -> None:
    google = "Get.\n\n    Args:\n        keys (list, optional): a path.\n        coll (dict): where.\n"
    assert documented_types(google) == {"keys": "list", "coll": "dict"}
    assert documented_types(":param str name: who\n:type count: int") == {"name": "str", "count": "int"}
    assert documented_types("Parameters\n----------\nseq : sequence of int\n") == {"seq": "sequence of int"}


def test_candidates_draw_on_the_harvest_and_enum_members(tmp_path: Path) -> None:
    path = tmp_path / "lexer.py"
    path.write_text(LEXER, encoding="utf-8")
    info = analyze_source(path)
    tokens = next(item for item in info.callables() if item.qualname == "Lexer.tokens")
    exprs = [c.expr for c in candidates_for(tokens, info, "lexer", count=30, rng=Seeded(0), prefix="c")]
    assert any("'.'" in expr or "'*'" in expr for expr in exprs)
    assert all("0-9" not in expr for expr in exprs)
    kind = next(item for item in info.callables() if item.name == "describe")
    exprs = [c.expr for c in candidates_for(kind, info, "lexer", count=3, rng=Seeded(0), prefix="d")]
    assert exprs == ["lexer.describe(lexer.Kind.DOT)", "lexer.describe(lexer.Kind.STAR)"]


def _kept() -> list[Candidate]:
    return [
        Candidate("a", "Lexer.tokens", "lexer_.tokens('a.b')", "lexer_ = lexer.Lexer()", [Value("'a.b'", "str")]),
        Candidate("b", "Lexer.count", "lexer_.count(2)", "lexer_ = lexer.Lexer()", [Value("2", "int")]),
    ]


def test_a_stalled_search_mutates_and_combines_what_worked() -> None:
    serial = iter(range(1000))
    rng = Seeded(1)
    changed = mutated(_kept(), ["*", "@"], rng, lambda: f"m{next(serial)}")
    assert {candidate.target for candidate in changed} == {"Lexer.tokens", "Lexer.count"}
    assert all(candidate.setup == "lexer_ = lexer.Lexer()" for candidate in changed)
    assert "lexer_.tokens('a.b')" not in [candidate.expr for candidate in changed]
    assert all(candidate.args[0].source in candidate.expr for candidate in changed)
    joined = combined(_kept(), ["*", "@"], rng, lambda: f"j{next(serial)}")
    assert joined
    assert all(candidate.expr.startswith("lexer_.tokens('a.b") for candidate in joined)


def test_methods_are_called_in_sequence_with_both_results_checked() -> None:
    serial = iter(range(1000))
    found = sequences(_kept(), Seeded(3), lambda: f"s{next(serial)}")
    assert {candidate.expr for candidate in found} <= {
        "(lexer_.count(2), lexer_.tokens('a.b'))",
        "(lexer_.tokens('a.b'), lexer_.count(2))",
    }
    assert found
    assert all(candidate.setup == "lexer_ = lexer.Lexer()" for candidate in found)
    outcome = {"kind": "literal", "repr": "(3, ['dot'])"}
    names = {
        test.name
        for candidate in found
        if (test := render_test(candidate, outcome, module="lexer", alias="lexer", taken=set())) is not None
    }
    assert names
    assert names <= {
        "test_lexer_count_then_tokens_of_2_and_a_b_is_2_item_tuple",
        "test_lexer_tokens_then_count_of_a_b_and_2_is_2_item_tuple",
    }


def _effect_call(outcome: dict[str, object]) -> str | None:
    candidate = Candidate("c", "Stack.clear", "stack.clear()", "stack = shop.Stack()")
    test = render_test(candidate, outcome, module="shop", alias="shop", taken=set())
    return None if test is None else f"def {test.name}():\n" + "\n".join(test.lines)


def test_a_call_for_its_effect_is_checked_by_the_state_it_leaves() -> None:
    after = {"kind": "state", "expr": "stack", "state": {"size": "0", "top": "None"}}
    assert _effect_call({"kind": "literal", "repr": "None", "after": after}) == (
        "def test_stack_clear_leaves_its_size_zero():\n"
        "    stack = shop.Stack()\n"
        "    assert stack.clear() is None\n"
        "    assert stack.size == 0\n"
        "    assert stack.top is None"
    )
    text = {"kind": "text", "via": "str", "text": "Stack([])", "expr": "stack"}
    assert "assert str(stack) == 'Stack([])'" in (
        _effect_call({"kind": "literal", "repr": "None", "after": text}) or ""
    )


def test_a_call_for_its_effect_with_nothing_to_check_after_it_is_no_test() -> None:
    assert _effect_call({"kind": "literal", "repr": "None"}) is None


@pytest.mark.slow
def test_a_lexer_is_driven_by_its_own_characters(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)  # pytest makes its folders 0700; the sandbox's uid must be able to read the project
    (tmp_path / "lexer.py").write_text(LEXER, encoding="utf-8")
    report = generate("lexer.py", root=tmp_path, python=sys.executable, budget=40, min_run_seconds=60)
    assert report.line_percent == 100.0
    assert "at-or-amp" in report.code


def test_a_module_harvests_the_strings_of_its_own_packages_modules_it_imports(tmp_path: Path) -> None:
    package = tmp_path / "query"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "lexer.py").write_text("TOKENS = {'.': 'dot', '[': 'lbracket'}\n", encoding="utf-8")
    (package / "other.py").write_text("UNUSED = 'never imported'\n", encoding="utf-8")
    (package / "parser.py").write_text(
        "from . import lexer\nimport json\n\n\ndef parse(expression):\n"
        "    return [kind for kind in lexer.TOKENS if kind == 'dot']\n",
        encoding="utf-8",
    )
    strings = analyze_source(package / "parser.py").harvested.strings
    assert strings[0] == "dot"  # its own first
    assert {".", "[", "lbracket"} <= set(strings)  # the characters its lexer compares
    assert "never imported" not in strings
