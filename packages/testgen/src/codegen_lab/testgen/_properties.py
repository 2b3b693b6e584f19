"""Properties found in the code, for Hypothesis: round trips between inverse pairs, and idempotence."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from codegen_lab.testgen._analysis import CallableInfo, ModuleInfo
from codegen_lab.testgen._inputs import Candidate
from codegen_lab.testgen._render import PropertyTest

__all__ = ["find_properties"]

_INVERSES = [
    ("encode", "decode"),
    ("dumps", "loads"),
    ("dump", "load"),
    ("serialize", "deserialize"),
    ("compress", "decompress"),
    ("escape", "unescape"),
    ("quote", "unquote"),
    ("encrypt", "decrypt"),
    ("pack", "unpack"),
    ("to_", "from_"),
]
_NORMALISERS = re.compile(
    r"normali[sz]e|strip|clean|slugify|canonical|compact|collapse|simplify|sanitize|trim|dedupe|unique|lower|upper|"
    r"squash|sort|flatten|camel|snake|kebab|title|dedent|indent"
)
_STRATEGIES = {
    "str": "st.text()",
    "int": "st.integers()",
    "float": "st.floats(allow_nan=False, allow_infinity=False)",
    "bytes": "st.binary()",
    "bool": "st.booleans()",
    "list": "st.lists(st.integers())",
}
_MAX_PROPERTIES = 10


def find_properties(module: ModuleInfo, examples: Sequence[tuple[Candidate, dict[str, Any]]]) -> list[PropertyTest]:
    """Properties worth a Hypothesis test, from the module's names and the kinds of input its examples took."""
    functions = {function.name: function for function in module.functions}
    kinds = _observed_kinds(examples)
    found: list[PropertyTest] = []
    for first in functions.values():
        strategy = _strategy(first, kinds)
        if strategy is None:
            continue
        found += [
            PropertyTest("round-trip", first.name, other.name, strategy) for other in _inverses(first.name, functions)
        ]
        same = kinds.get(first.name, (None, None))
        if _NORMALISERS.search(first.name) and same[0] is not None and same[0] == same[1]:
            found.append(PropertyTest("idempotent", first.name, first.name, strategy))
    return found[:_MAX_PROPERTIES]


def _inverses(name: str, functions: dict[str, CallableInfo]) -> list[CallableInfo]:
    found: list[CallableInfo] = []
    for forward, backward in _INVERSES:
        if forward in name and (other := functions.get(name.replace(forward, backward, 1))) is not None:
            found.append(other)
    if (other := functions.get(f"un{name}")) is not None:
        found.append(other)
    if "_to_" in name:
        left, _, right = name.partition("_to_")
        if (other := functions.get(f"{right}_to_{left}")) is not None:
            found.append(other)
    return [other for other in found if other.name != name and _one_required(other)]


def _one_required(function: CallableInfo) -> bool:
    return len([parameter for parameter in function.parameters if parameter.required]) == 1


def _strategy(function: CallableInfo, kinds: dict[str, tuple[str | None, str | None]]) -> str | None:
    if not _one_required(function) or function.parameters[0].kind != "positional":
        return None
    annotation = function.parameters[0].annotation
    if annotation in _STRATEGIES:
        return _STRATEGIES[annotation]
    observed = kinds.get(function.name, (None, None))[0]
    return _STRATEGIES.get(observed) if observed else None


def _observed_kinds(examples: Sequence[tuple[Candidate, dict[str, Any]]]) -> dict[str, tuple[str | None, str | None]]:
    """For each module function with a passing example: the kind of its first argument and of its result."""
    kinds: dict[str, tuple[str | None, str | None]] = {}
    for candidate, outcome in examples:
        if candidate.setup or "." in candidate.target or not candidate.args or outcome.get("kind") != "literal":
            continue
        if candidate.group is not None:  # a docstring's example: often a special case, not the input's kind
            continue
        result = _kind(str(outcome["repr"]))
        kinds.setdefault(candidate.target, (candidate.args[0].kind, result))
    return kinds


def _kind(source: str) -> str | None:
    import ast  # noqa: PLC0415

    try:
        value = ast.literal_eval(source)
    except (ValueError, SyntaxError):
        return None
    return type(value).__name__  # pyright: ignore[reportUnknownArgumentType]
