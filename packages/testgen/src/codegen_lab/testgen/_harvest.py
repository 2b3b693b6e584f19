"""Inputs taken from the code itself, and real-looking strings for parameters by their name.

Code that compares internal state (a lexer's current character, a parser's token, a table's keys) is not driven
by the types of its arguments: the strings it knows are in its literals, its character sets, its regular
expressions, its enums, its dict keys and its class constants. `harvest` collects them from the whole module
(private helpers and class bodies included), with strings that match each regular expression (made from the
parsed pattern, one per alternative, and checked against it), not the pattern's text.
"""

from __future__ import annotations

import ast
import importlib
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Harvest", "as_inputs", "harvest", "looks_like_regex", "realistic", "regex_samples"]

_PARSER: Any = importlib.import_module("re._parser")
"""The standard library's own regex parser (`sre_parse`): the patterns' structure, as `re` reads them."""
_MAX_STRING = 80
_MAX_SAMPLES = 8
"""Strings made from one regular expression, at most."""
_CHARSET = 64
"""A string constant tested with `in` and at most this long is a set of characters: each one is an input."""
_REGEX_FUNCTIONS = {"compile", "match", "fullmatch", "search", "sub", "subn", "split", "findall", "finditer"}
_REGEX_MODULES = {"re", "regex"}
_ENUM_BASES = {"Enum", "IntEnum", "StrEnum", "Flag", "IntFlag"}
_REGEX_SIGNS = re.compile(r"\\[dwsbDWSBZAz.]|\[[^\]]+\]|\(\?|[)\]][*+?]|\{\d+(,\d*)?\}|\([^()]*\||^\^.*\$$")
"""Signs that a string is a regular expression's text: an escape class, a character set, a group, a repeat."""

_REALISTIC: list[tuple[str, list[str]]] = [
    (r"(^|_)(url|uri|href|link|endpoint)s?$", ["https://example.com/docs/page?q=1#top", "http://localhost:8080/a/b"]),
    (r"(^|_)(e?mail|email_address)$", ["jane.doe@example.com", "not-an-email"]),
    (r"(^|_)(path|file|filename|fname|filepath|dir|directory|folder)$", ["docs/readme.txt", "a/b/c.py"]),
    (r"(^|_)(title|headline|heading|caption|subject)$", ["the lord of the rings", "A TALE OF TWO CITIES"]),
    (r"(^|_)(text|sentence|message|msg|body|content|paragraph|string)$", ["The quick brown fox jumps over it."]),
    (r"(^|_)(name|username|user|author|first_name|last_name)$", ["Ada Lovelace", "ada_lovelace"]),
    (r"(^|_)(version|ver|release)$", ["1.2.3", "2.0.0rc1"]),
    (r"(^|_)(date|day)$", ["2024-02-29"]),
    (r"(^|_)(time|clock)$", ["13:45:00"]),
    (r"(^|_)(datetime|timestamp|when)$", ["2024-02-29T13:45:00"]),
    (r"(^|_)(duration|period|interval|timedelta)$", ["P1Y2M10DT2H30M", "1:30:00"]),
    (r"(^|_)(host|hostname|domain|netloc)$", ["example.com"]),
    (r"(^|_)(ip|addr|address|ip_address)$", ["192.168.1.1", "::1"]),
    (
        r"(^|_)(expr|expression|query|selector|formula)$",
        # the constructs most expression languages share: paths, indexes and slices, calls, boolean and
        # comparison operators, list and object literals, a filter, a pipe
        ["foo.bar[0].baz", "a + b * 2", "a[1:3]", "f(a, 'b')", "a || !b && c", "{x: a, y: [b, c]}", "a[?b == 'c'] | d"],
    ),
    (r"(^|_)(json|payload|data_str)$", ['{"a": [1, 2], "b": null}']),
    (r"(^|_)(color|colour)$", ["#ff8800", "red"]),
    (r"(^|_)(uuid|guid)$", ["12345678-1234-5678-1234-567812345678"]),
    (r"(^|_)(lang|language|locale)$", ["en_US", "fr_FR", "de"]),
    (r"(^|_)(word|token|keyword)$", ["hello"]),
    (r"(^|_)(code|source|src|snippet)$", ["x = 1\n"]),
    (r"(^|_)(html|markup|markdown|md)$", ["<p>Hello <b>world</b></p>", "# Title\n\nSome *text*."]),
    (r"(^|_)(phone|telephone)$", ["+1 555 0100"]),
    (r"(^|_)(slug)$", ["hello-world"]),
    (r"(^|_)(encoding|charset|codec)$", ["utf-8"]),
    (r"(^|_)(key|field|attr|attribute)$", ["name"]),
]
"""Strings a real caller passes, by parameter name: a title for `title`, a URL for `url`."""


@dataclass(slots=True)
class Harvest:
    """What the module itself says its inputs look like."""

    strings: list[str] = field(default_factory=list[str])
    """Literals, characters of character sets, strings matching its regular expressions, dict keys, constants."""
    numbers: list[int | float] = field(default_factory=list[int | float])
    enums: dict[str, list[str]] = field(default_factory=dict[str, list[str]])
    """The members of each enum class the module defines, by class name."""


def realistic(name: str) -> list[str]:
    """Real-looking strings for a parameter called `name` (none when the name says nothing)."""
    lowered = name.lower()
    # `datestring`, `date_str`, `url_text`: the word before the suffix says what the string holds
    names = dict.fromkeys([lowered, re.sub(r"_?(string|str|text|txt|s)$", "", lowered)])
    found = [
        value
        for each in names
        if each
        for pattern, values in _REALISTIC
        if re.search(pattern, each)
        for value in values
    ]
    return list(dict.fromkeys(found))


def looks_like_regex(text: str) -> bool:
    r"""Whether `text` reads as a regular expression (`[a-z]+`, `\d{2}`, `(?:x|y)`), for `re` or `regex`.

    Such a string is no input: only strings it matches are (none, when `re` cannot parse it).
    """
    return _REGEX_SIGNS.search(text) is not None


def as_inputs(text: str) -> list[str]:
    """The inputs a string of the code stands for: strings matching it when it is a regex's text, else itself."""
    return regex_samples(text) if looks_like_regex(text) else [text]


def harvest(tree: ast.Module) -> Harvest:
    """The inputs the module's own code names, in the order it names them, without repeats."""
    found = Harvest()
    strings: dict[str, None] = {}
    numbers: dict[int | float, None] = {}
    docstrings = _docstrings(tree)
    constants = _string_constants(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and id(node) not in docstrings:
            value: Any = node.value
            if isinstance(value, str) and len(value) <= _MAX_STRING * 2:
                strings.update(dict.fromkeys(text for text in as_inputs(value) if len(text) <= _MAX_STRING))
            elif isinstance(value, int | float) and not isinstance(value, bool):
                numbers[value] = None
        elif isinstance(node, ast.Compare):
            for operator, right in zip(node.ops, node.comparators, strict=True):
                if isinstance(operator, ast.In | ast.NotIn):
                    text = _string_of(right, constants)
                    if text is not None and len(text) <= _CHARSET:
                        strings.update(dict.fromkeys(text))
        elif isinstance(node, ast.Call):
            pattern = _regex_of(node, constants)
            if pattern is not None:
                strings.update(dict.fromkeys(regex_samples(*pattern)))
        elif isinstance(node, ast.ClassDef) and any(_base_name(base) in _ENUM_BASES for base in node.bases):
            found.enums[node.name] = [
                target.id
                for statement in node.body
                if isinstance(statement, ast.Assign)
                for target in statement.targets
                if isinstance(target, ast.Name) and not target.id.startswith("_")
            ]
    found.strings = list(strings)
    found.numbers = list(numbers)
    return found


def regex_samples(pattern: str, flags: int = 0) -> list[str]:
    """Strings that `pattern` matches: one for each alternative of its branches, shortest repeats first.

    Made from the parsed pattern, not its text, and each checked with `re.search`; a pattern that does not
    parse gives none.
    """
    try:
        compiled = re.compile(pattern, flags)
        parsed = _PARSER.parse(pattern, flags)
    except (re.error, TypeError, ValueError, RecursionError, OverflowError):
        return []
    samples: dict[str, None] = {}
    for variant in range(_MAX_SAMPLES * 3):
        try:
            text = _sample(parsed, variant, {})
        except (RecursionError, ValueError, OverflowError):
            continue
        if len(text) <= _MAX_STRING * 2 and text not in samples and compiled.search(text) is not None:
            samples[text] = None
        if len(samples) >= _MAX_SAMPLES:
            break
    return list(samples)


_REPEATS = {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}
_CATEGORY = {
    "CATEGORY_DIGIT": "7",
    "CATEGORY_NOT_DIGIT": "a",
    "CATEGORY_SPACE": " ",
    "CATEGORY_NOT_SPACE": "x",
    "CATEGORY_WORD": "w",
    "CATEGORY_NOT_WORD": "-",
    "CATEGORY_LINEBREAK": "\n",
    "CATEGORY_NOT_LINEBREAK": "z",
}


def _sample(parsed: Any, variant: int, groups: dict[int, str]) -> str:
    """One string `parsed` matches; `variant` picks the alternative of each branch and set, and repeat counts."""
    out: list[str] = []
    for op, av in parsed:
        if str(op) == "LITERAL":
            out.append(chr(av))
        elif str(op) == "NOT_LITERAL":
            out.append("a" if av != ord("a") else "b")
        elif str(op) == "ANY":
            out.append("a")
        elif str(op) == "IN":
            out.append(_from_set(av, variant))
        elif str(op) == "BRANCH":
            branches = av[1]
            out.append(_sample(branches[variant % len(branches)], variant // len(branches), groups))
        elif str(op) == "SUBPATTERN":
            text = _sample(av[3], variant, groups)
            if av[0] is not None:
                groups[av[0]] = text
            out.append(text)
        elif str(op) == "ATOMIC_GROUP":
            out.append(_sample(av, variant, groups))
        elif str(op) in _REPEATS:
            low, high, inner = av
            count = [max(low, 1), low, low + 2][variant % 3]
            count = min(count, high if high != _PARSER.MAXREPEAT else low + 2, low + 3)
            out.extend(_sample(inner, variant // 3 + index, groups) for index in range(count))
        elif str(op) == "GROUPREF":
            out.append(groups.get(av, ""))
        elif str(op) == "GROUPREF_EXISTS":
            out.append(_sample(av[1], variant, groups))
        # AT (anchors), ASSERT and ASSERT_NOT (lookarounds) match no text of their own
    return "".join(out)


def _from_set(items: Any, variant: int) -> str:
    r"""A character of a character set (`[a-z_]`, `[^"]`, `\d`)."""
    negated = bool(items) and str(items[0][0]) == "NEGATE"
    if negated:
        excluded = "".join(_set_members(items[1:]))
        return next((char for char in "a0 -_Z!" if char not in excluded), "~")
    members = _set_members(items)
    return members[variant % len(members)] if members else "a"


def _set_members(items: Any) -> list[str]:
    members: list[str] = []
    for op, av in items:
        if str(op) == "LITERAL":
            members.append(chr(av))
        elif str(op) == "RANGE":
            low, high = av
            members += [chr(low), chr(high)] if high > low else [chr(low)]
        elif str(op) == "CATEGORY":
            members.append(_CATEGORY.get(str(av), "a"))
    return members


def _docstrings(tree: ast.Module) -> set[int]:
    """The ids of the docstring constants: documentation, not inputs."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _string_constants(tree: ast.Module) -> dict[str, str]:
    """Names bound to a string literal at the module's or a class's top level (`WHITESPACE = ' '`)."""
    found: dict[str, str] = {}
    bodies = [tree.body, *(node.body for node in tree.body if isinstance(node, ast.ClassDef))]
    for body in bodies:
        for statement in body:
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                target = statement.targets[0]
                if isinstance(target, ast.Name):
                    text = _string_of(statement.value, found)
                    if text is not None:
                        found[target.id] = text
    return found


def _string_of(node: ast.expr, constants: dict[str, str]) -> str | None:
    """The string an expression is, when it is a literal, a known constant, or a sum or f-less join of them."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in {"self", "cls"}:
        return constants.get(node.attr)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _string_of(node.left, constants), _string_of(node.right, constants)
        return left + right if left is not None and right is not None else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):  # r'^(%s)$' % SMALL
        template = _string_of(node.left, constants)
        parts = node.right.elts if isinstance(node.right, ast.Tuple) else [node.right]
        values = [_string_of(part, constants) for part in parts]
        if template is None or any(value is None for value in values):
            return None
        try:
            return template % tuple(values)
        except (TypeError, ValueError):
            return None
    return None


def _regex_of(node: ast.Call, constants: dict[str, str]) -> tuple[str, int] | None:
    """The pattern and flags of `re.compile(pattern, flags)` (`re.match`, `regex.sub`, ...), when literal."""
    func = node.func
    if not (
        isinstance(func, ast.Attribute)
        and func.attr in _REGEX_FUNCTIONS
        and isinstance(func.value, ast.Name)
        and func.value.id in _REGEX_MODULES
        and node.args
    ):
        return None
    pattern = _string_of(node.args[0], constants)
    if pattern is None:
        return None
    flags = 0
    flag_nodes = [keyword.value for keyword in node.keywords if keyword.arg == "flags"]
    if func.attr == "compile" and len(node.args) > 1:
        flag_nodes.append(node.args[1])
    for flag_node in flag_nodes:
        for part in ast.walk(flag_node):
            if (
                isinstance(part, ast.Attribute)
                and isinstance(part.value, ast.Name)
                and part.value.id in {"re", "regex"}
            ):
                flags |= int(getattr(re, part.attr, 0))
    return pattern, flags


def _base_name(base: ast.expr) -> str:
    return base.attr if isinstance(base, ast.Attribute) else base.id if isinstance(base, ast.Name) else ""
