"""New candidates from the kept ones, for when the search stalls: mutated inputs, combined inputs, call sequences.

Typed and mined inputs run out: when a round adds nothing, the inputs that already reached code are changed a
little (a character of the module's own added, removed or doubled; a number moved by one), two known strings are
joined (with a separator the module uses), and methods are called one after another on the objects the kept
tests built, so that a method meets the state another one left.

Some code acts only after many calls (a buffer that flushes at 25 items) or when a `with` block ends: a kept
method call is also made past the largest threshold the class could compare against, inside a `with` block when
the class is a context manager.
"""

from __future__ import annotations

import ast
import random
from collections.abc import Callable, Sequence

from codegen_lab.testgen._analysis import ClassInfo, ModuleInfo
from codegen_lab.testgen._inputs import Candidate, Value, kind_of

__all__ = ["combined", "mutated", "repeated", "replaced", "sequences", "strings_of"]

_PER_CANDIDATE = 3
"""Mutations of each kept call."""
_MAX_NEW = 60
"""At most this many candidates from each strategy in a round."""


class _Replace(ast.NodeTransformer):
    def __init__(self, old: str | int, new: str | int) -> None:
        self.old = old
        self.new = new

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        same = type(node.value) is type(self.old) and node.value == self.old
        return ast.copy_location(ast.Constant(self.new), node) if same else node


def replaced(expr: str, old: str | int, new: str | int) -> str:
    """`expr` with the constant `old` replaced by `new` (of the same type only: `1` is not `True`)."""
    return ast.unparse(_Replace(old, new).visit(ast.parse(expr, mode="eval")))


def strings_of(expr: str) -> list[str]:
    """The string constants in an expression."""
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        return []
    return [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def _numbers_of(expr: str) -> list[int]:
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        return []
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool)
    ]


def _string_variants(text: str, pieces: Sequence[str], rng: random.Random) -> list[str]:
    """A string changed a little: a piece of the module's inserted, a character dropped or doubled, case flipped."""
    piece = rng.choice(pieces) if pieces else "a"
    at = rng.randint(0, len(text))
    variants = [text[:at] + piece + text[at:], text + piece, piece + text, text.swapcase(), text * 2]
    if text:
        cut = rng.randrange(len(text))
        variants += [text[:cut] + text[cut + 1 :], text[:cut] + text[cut] + text[cut:]]
    return [variant for variant in dict.fromkeys(variants) if variant != text]


def _variant(candidate: Candidate, old: str | int, new: str | int, next_id: Callable[[], str]) -> Candidate:
    """`candidate` with the constant `old` (in its call and its recorded inputs) replaced by `new`."""
    expr = replaced(candidate.expr, old, new)
    args = [Value(repr(new), kind_of(repr(new))) if arg.source == repr(old) else arg for arg in candidate.args]
    return Candidate(next_id(), candidate.target, expr, candidate.setup, args, statement=candidate.statement)


def mutated(
    kept: Sequence[Candidate], pieces: Sequence[str], rng: random.Random, next_id: Callable[[], str]
) -> list[Candidate]:
    """Calls like the kept ones, with one string or number of theirs changed a little."""
    found: list[Candidate] = []
    for candidate in kept:
        if candidate.doctest is not None:
            continue
        options: list[tuple[str | int, str | int]] = []
        for text in dict.fromkeys(strings_of(candidate.expr)):
            options += [(text, variant) for variant in _string_variants(text, pieces, rng)]
        for number in dict.fromkeys(_numbers_of(candidate.expr)):
            options += [(number, changed) for changed in (number + 1, number - 1, -number, number * 10, 0)]
        options = [(old, new) for old, new in options if old != new]
        for old, new in rng.sample(options, min(_PER_CANDIDATE, len(options))):
            found.append(_variant(candidate, old, new, next_id))
    return found[:_MAX_NEW]


def combined(
    kept: Sequence[Candidate], pieces: Sequence[str], rng: random.Random, next_id: Callable[[], str]
) -> list[Candidate]:
    """Calls like the kept ones, a string of theirs joined to another known string (`'a'` and `'.'`: `'a.b'`)."""
    known = list(dict.fromkeys([text for candidate in kept for text in strings_of(candidate.expr)] + list(pieces)))
    separators = [piece for piece in pieces if len(piece) == 1 and not piece.isalnum()] or [" ", ".", ","]
    found: list[Candidate] = []
    for candidate in kept:
        own = list(dict.fromkeys(strings_of(candidate.expr)))
        if candidate.doctest is not None or not own or not known:
            continue
        text = rng.choice(own)
        other = rng.choice(known)
        joins = dict.fromkeys((text + other, text + rng.choice(separators) + other))
        found += [_variant(candidate, text, joined, next_id) for joined in joins if joined != text]
    rng.shuffle(found)
    return found[:_MAX_NEW]


def sequences(kept: Sequence[Candidate], rng: random.Random, next_id: Callable[[], str]) -> list[Candidate]:
    """Two kept method calls made one after the other on an object built the same way: state meets method.

    `stack = Stack(2)`, then `(stack.push(3), stack.pop())`: both results are checked, in the order they were
    made, so no call of the test goes unchecked while the second one meets the state the first one left.
    """
    by_setup: dict[str, list[Candidate]] = {}
    for candidate in kept:
        if not candidate.setup or candidate.doctest is not None or candidate.statement or "\n" in candidate.setup:
            continue
        variable = candidate.setup.split("=", 1)[0].strip()
        if variable.isidentifier() and candidate.expr.startswith(f"{variable}."):
            by_setup.setdefault(candidate.setup, []).append(candidate)
    found: list[Candidate] = []
    for setup, calls in by_setup.items():
        for last in calls:
            first = rng.choice(calls)
            if first.expr != last.expr:
                expr = f"({first.expr}, {last.expr})"
                label = f"{first.target}_then_{last.target.rpartition('.')[2]}"
                found.append(Candidate(next_id(), last.target, expr, setup, [*first.args, *last.args], label=label))
    rng.shuffle(found)
    return found[:_MAX_NEW]


_THRESHOLD = 100
"""Calls made in a row at most: past the largest count below this that the class may compare against."""
_DOUBLE = "mock.MagicMock()"


def repeated(
    kept: Sequence[Candidate], info: ModuleInfo, alias: str, rng: random.Random, next_id: Callable[[], str]
) -> list[Candidate]:
    """Kept method calls made many times on one object, in a `with` block when its class is a context manager.

    The count passes the largest whole number the module names or the constructor is given (`flush_amount=25`,
    `len(self._items) >= self._limit`). When the object was given a `mock.MagicMock()`, the double is named and
    the test checks how many calls the object made on it (`len(double.mock_calls)`); else the call is made once
    more after the others and its result is checked.
    """
    found: dict[tuple[str, str], list[Candidate]] = {}
    for candidate in kept:
        if not candidate.setup or "\n" in candidate.setup or candidate.statement or candidate.doctest is not None:
            continue
        variable, _, built = (part.strip() for part in candidate.setup.partition("="))
        cls = _class_built(built, info, alias)
        if cls is None or not variable.isidentifier() or not candidate.expr.startswith(f"{variable}."):
            continue
        times = max(_thresholds(cls, built, info), default=2) + 1
        lines = [candidate.setup]
        expr = candidate.expr
        if _DOUBLE in built:
            double = next(name for name in ("double", "double_", "collaborator") if name != variable)
            lines = [f"{double} = {_DOUBLE}", f"{variable} = {built.replace(_DOUBLE, double, 1)}"]
            expr = f"len({double}.mock_calls)"
        loop = [f"for _ in range({times}):", f"    {candidate.expr}"]
        lines += [f"with {variable}:", *(f"    {line}" for line in loop)] if cls.context_manager else loop
        method = candidate.target.rpartition(".")[2]
        label = f"{cls.name}.{method}_{times}_times" + ("_in_a_with_block" if cls.context_manager else "")
        made = Candidate(next_id(), candidate.target, expr, "\n".join(lines), list(candidate.args), label=label)
        found.setdefault((cls.name, method), []).append(made)
    return [rng.choice(each) for each in found.values()][:_MAX_NEW]  # each method of each class, a way drawn


def _class_built(built: str, info: ModuleInfo, alias: str) -> ClassInfo | None:
    """The module's class that `built` (`alias.Name(...)`) constructs."""
    try:
        node = ast.parse(built, mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return None
    if not isinstance(node.func.value, ast.Name) or node.func.value.id != alias:
        return None
    return info.find_class(node.func.attr)


def _thresholds(cls: ClassInfo, built: str, info: ModuleInfo) -> list[int]:
    """Counts the class may compare against: the module's whole numbers, its constructor's defaults and arguments."""
    numbers: list[object] = [*info.harvested.numbers, *_numbers_of(built)]
    for parameter in cls.init.parameters if cls.init is not None else []:
        if parameter.default is not None:
            try:
                numbers.append(ast.literal_eval(parameter.default))
            except (ValueError, SyntaxError):
                continue
    return [n for n in numbers if isinstance(n, int) and not isinstance(n, bool) and 1 <= n < _THRESHOLD]
