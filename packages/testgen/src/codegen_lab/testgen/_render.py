"""Writing kept candidates as a test module a careful person would keep.

One behaviour per test, names that say the behaviour, exact assertions on what the code returned,
ruff-formatted, with a header saying it was generated.
"""

from __future__ import annotations

import ast
import logging
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from codegen_lab.testgen._collaborators import named
from codegen_lab.testgen._inputs import STANDARD_MODULES, Candidate, import_statement, snake, standard_imports

__all__ = ["STATE_HELPER", "PropertyTest", "RenderedTest", "format_code", "import_line", "render_module", "render_test"]

logger = logging.getLogger(__name__)

_MAX_NAME = 90
_EXCEPTION_MESSAGE = 80


@dataclass(slots=True)
class RenderedTest:
    """One test function, with the imports it needs."""

    name: str
    kind: Literal["doctest", "example", "exception", "property", "model"]
    target: str
    lines: list[str]
    """The test's body; for `property` and `model` tests, the whole definition (decorators, helpers)."""
    imports: set[str] = field(default_factory=set[str])
    candidate_id: str = ""
    new_coverage: int = 0
    fixtures: list[str] = field(default_factory=list[str])
    """pytest fixtures the test takes (`tmp_path` and `monkeypatch` for code that writes files)."""


@dataclass(frozen=True, slots=True)
class PropertyTest:
    """A property found in the code: `round-trip` (decode(encode(x)) == x) or `idempotent` (f(f(x)) == f(x))."""

    kind: Literal["round-trip", "idempotent"]
    first: str
    second: str
    strategy: str
    """The Hypothesis strategy's source, such as `st.text()`."""


def describe(source: str) -> str:
    """A few words for an input or a result, fit for a test name: `''` is `empty_string`, `-1` is `minus_1`."""
    try:
        value: Any = ast.literal_eval(source)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return _slug(snake(source.split("(", 1)[0].rsplit(".", 1)[-1])) or "value"
    if value is None or isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        if value == 0:
            return "zero"
        text = str(value).replace(".", "_").replace("-", "minus_")
        return _slug(text)
    if isinstance(value, str):
        if not value:
            return "empty_string"
        if not value.strip():
            return "blank_string"
        return _slug("_".join(re.findall(r"[a-z0-9]+", value.lower())[:5])) or "symbols"
    if isinstance(value, bytes):
        return "empty_bytes" if not value else "bytes"
    names = {list: "list", tuple: "tuple", dict: "dict", set: "set", frozenset: "set"}
    noun = names.get(type(value), "value")  # pyright: ignore[reportUnknownArgumentType]
    if not value:
        return f"empty_{noun}"
    return f"{len(value)}_item_{noun}"  # pyright: ignore[reportUnknownArgumentType]


def _slug(text: str) -> str:
    return re.sub(r"_+", "_", re.sub(r"[^a-z0-9_]", "_", text.lower())).strip("_")


def render_test(
    candidate: Candidate, outcome: dict[str, Any], *, module: str, alias: str, taken: set[str]
) -> RenderedTest | None:
    """The test for a candidate whose outcome was observed, or None when it makes no good test."""
    function = snake((candidate.label or candidate.target).replace(".", "_"))
    watched: list[dict[str, str]] = outcome.get("watched") or []
    candidate = named(candidate, containers=any(entry["expr"].isidentifier() for entry in watched))
    if candidate.doctest is not None:
        return _doctest_test(candidate, candidate.doctest, function, module=module, alias=alias, taken=taken)
    arguments = "_and_".join(describe(value.source) for value in candidate.args[:3])
    subject = f"{function}_of_{arguments}" if arguments else function
    setup = [f"    {line}" for line in candidate.setup.splitlines()] if candidate.setup else []
    expr = candidate.expr if candidate.statement else _operand(candidate.expr)
    kind = outcome.get("kind")
    package = module.split(".", maxsplit=1)[0]
    imports = {
        import_statement(name) for name in standard_imports(alias, candidate.setup, candidate.expr, package=package)
    }
    if kind == "literal":
        value = str(outcome["repr"])
        check = _check(expr, value)
        name = f"test_{subject}_is_{describe(value)}"
        body = [f"    {check}"]
        after = outcome.get("after") if value == "None" and candidate.subject() is not None else None
        if value == "None" and (after or watched):  # called for its effect: the test checks it
            effect = f"leaves_{_described_after(after)}" if after else _described_watched(watched[0])
            name = f"test_{subject}_{effect}"
            body += _after(after)
        elif value == "None" and candidate.subject() is not None:
            return None
    elif kind == "iter":
        name = f"test_{subject}_yields_{describe(str(outcome['repr']))}"
        body = [f"    assert list({expr}) == {outcome['repr']}"]
    elif kind == "text":  # an object shown through its own __str__ or __repr__
        iterated = bool(outcome.get("iterated"))  # the items a generator yields, shown by their repr
        name = f"test_{subject}_{'yields' if iterated else 'is'}_{describe(repr(outcome['text']))}"
        result, bind = _result(expr, outcome, candidate.setup)
        body = [
            *bind,
            f"    assert {outcome['via']}({f'list({result})' if iterated else result}) == {outcome['text']!r}",
            *_state(result, outcome),
        ]
    elif kind == "raises":
        reference = _type_reference(str(outcome["type"]), module, alias, imports)
        if reference is None:
            return None
        imports.add("import pytest")
        message = str(outcome["message"]).splitlines()[0][:_EXCEPTION_MESSAGE] if outcome["message"] else ""
        match = f", match={_pattern(message)}" if message else ""
        call = f"list({expr})" if outcome.get("during") == "iteration" else expr
        name = f"test_{subject}_raises_{snake(reference.rsplit('.', 1)[-1])}"
        body = [f"    with pytest.raises({reference}{match}):", f"        {call}", *_after(outcome.get("after"))]
    elif kind == "type":
        if not str(outcome["type"]).startswith(f"{module}."):
            return None  # `isinstance(x, object)` says nothing; only the module's own classes are worth it
        reference = _type_reference(str(outcome["type"]), module, alias, imports)
        if reference is None:
            return None
        name = f"test_{subject}_is_a_{snake(reference.rsplit('.', 1)[-1])}"
        result, bind = _result(expr, outcome, candidate.setup)
        body = [*bind, f"    assert isinstance({result}, {reference})", *_state(result, outcome)]
    else:
        return None
    body += [line for line in _effects(outcome, watched) if line not in body]  # the result may be `len(double...)`
    return RenderedTest(
        name=_unique(_slug(name)[:_MAX_NAME].rstrip("_"), taken),
        kind="exception" if kind == "raises" else "example",
        target=candidate.target,
        lines=setup + body,
        imports=imports,
        candidate_id=candidate.id,
    )


def _doctest_test(
    candidate: Candidate, doctest: str, function: str, *, module: str, alias: str, taken: set[str]
) -> RenderedTest:
    """The test that runs the docstring examples of `doctest` (the module's when empty)."""
    name = _unique(f"test_{function or 'module'}_docstring_examples", taken)
    target = f"{alias}.{doctest}" if doctest else alias
    label = doctest or module
    return RenderedTest(
        name, "doctest", label, [f"    _run_docstring_examples({target}, {label!r})"], candidate_id=candidate.id
    )


def _check(expr: str, value: str) -> str:
    """`assert expr == value`, or `is` for None, True and False."""
    return f"assert {expr} is {value}" if value in {"None", "True", "False"} else f"assert {expr} == {value}"


def _result(expr: str, outcome: dict[str, Any], setup: str | None) -> tuple[str, list[str]]:
    """How the test refers to a returned object: bound to `result` when its state is checked too, else `expr`."""
    if not outcome.get("state"):
        return expr, []
    taken = set(re.findall(r"\w+", f"{setup or ''} {expr}"))
    name = next(name for name in ("result", "result_", "returned") if name not in taken)
    return name, [f"    {name} = {expr}"]


def _state(result: str, outcome: dict[str, Any]) -> list[str]:
    """Checks of the returned object's public properties and attributes, as observed."""
    state: dict[str, str] = outcome.get("state") or {}
    return [f"    {_check(f'{result}.{name}', value)}" for name, value in state.items()]


def _after(after: dict[str, Any] | None) -> list[str]:
    """The check that the object a call raised on is as it was observed after: the failed call left it so."""
    if not after:
        return []
    if after.get("kind") == "literal":
        return [f"    {_check(str(after['expr']), str(after['repr']))}"]
    if after.get("kind") == "state":
        state: dict[str, str] = after["state"]
        return [f"    {_check(f'{after["expr"]}.{name}', value)}" for name, value in state.items()]
    return [f"    assert str({after['expr']}) == {after['text']!r}"]


def _effects(outcome: dict[str, Any], watched: list[dict[str, str]]) -> list[str]:
    """The checks of what a call changed beside its result: its object's state, what its collaborators got."""
    return _after(outcome.get("changed")) + [f"    {_check(entry['expr'], entry['repr'])}" for entry in watched]


def _described_after(after: dict[str, Any]) -> str:
    """A few words for the state a call left an object in: `it_empty`, `it_as_a_b`, `its_size_0`."""
    if after.get("kind") == "literal":
        return f"it_{describe(str(after['repr']))}"
    if after.get("kind") == "state":
        name, value = next(iter(after["state"].items()))
        return f"its_{_slug(name)}_{describe(str(value))}"
    text = str(after.get("text", ""))
    return f"it_as_{describe(repr(text))}" if text else "it_empty"


def _described_watched(entry: dict[str, str]) -> str:
    """A few words for what a call did to a collaborator: `writes_hello_to_stream`, `makes_2_calls_on_double`."""
    subject = entry["expr"].removeprefix("len(").partition(".")[0]
    if entry["expr"].endswith(".getvalue()"):
        return f"writes_{describe(entry['repr'])}_to_{subject}"
    if entry["expr"].startswith("len(") and entry["expr"].endswith(".getvalue())"):
        return f"writes_{entry['repr']}_characters_to_{subject}"
    if entry["expr"].isidentifier():
        return f"changes_{subject}_to_{describe(entry['repr'])}"
    try:
        count = len(ast.parse(entry["repr"], mode="eval").body.elts)  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType, reportUnknownArgumentType]
    except (SyntaxError, AttributeError):
        count = entry["repr"]
    return f"makes_{count}_call{'' if count == 1 else 's'}_on_{subject}"


def _operand(expr: str) -> str:
    """`expr`, parenthesised when it is an operation: `a == b is False` would chain, `(a == b) is False` not."""
    try:
        node = ast.parse(expr, mode="eval").body
    except SyntaxError:
        return expr
    simple = ast.Call | ast.Attribute | ast.Subscript | ast.Name | ast.Constant | ast.List | ast.Tuple | ast.Dict
    return expr if isinstance(node, simple) else f"({expr})"


def _pattern(message: str) -> str:
    """A `match=` argument for `message`: its regex specials escaped, as a raw string when that reads better."""
    escaped = re.sub(r"([.^$*+?{}\[\]\\|()])", r"\\\1", message)
    if "\\" not in escaped:
        return repr(escaped)
    for quote in ('"', "'"):
        if quote not in escaped and not escaped.endswith("\\"):
            return f"r{quote}{escaped}{quote}"
    return repr(escaped)


def _type_reference(qualified: str, module: str, alias: str, imports: set[str]) -> str | None:
    owner, _, name = qualified.rpartition(".")
    if owner == "builtins":
        return name
    if owner == module:
        return f"{alias}.{name}"
    if not owner or "<" in qualified or owner.startswith("_"):
        return None
    imports.add(f"import {owner}")
    return qualified


def _unique(name: str, taken: set[str]) -> str:
    candidate = name
    number = 2
    while candidate in taken:
        candidate = f"{name}_{number}"
        number += 1
    taken.add(candidate)
    return candidate


def render_property(prop: PropertyTest, alias: str, taken: set[str]) -> RenderedTest:
    """The Hypothesis test of a property."""
    imports = {"from hypothesis import given", "from hypothesis import strategies as st"}
    if prop.kind == "round-trip":
        name = _unique(f"test_{prop.second}_inverts_{prop.first}", taken)
        lines = [
            f"    assert {alias}.{prop.second}({alias}.{prop.first}(value)) == value",
        ]
    else:
        name = _unique(f"test_{prop.first}_is_idempotent", taken)
        lines = [f"    once = {alias}.{prop.first}(value)", f"    assert {alias}.{prop.first}(once) == once"]
    return RenderedTest(
        name=name,
        kind="property",
        target=prop.first,
        lines=[f"@given({prop.strategy})", f"def {name}(value):", *lines],
        imports=imports,
    )


_DOCTEST_HELPER = """

def _run_docstring_examples(obj, name):
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(obj, name, module={alias}, globs=dict(vars({alias}))):
        runner.run(test)
    assert runner.tries > 0
    assert runner.failures == 0
"""


STATE_HELPER = """
def _module_state(module):
    \"\"\"The module's globals, with copies of their containers, of their objects' and of its classes' attributes.\"\"\"
    saved = {}
    for name, value in vars(module).items():
        copied = None
        if name.startswith("__") or isinstance(value, type(module)):
            pass
        elif isinstance(value, type) and value.__module__ == module.__name__:
            copied = {key: (item, _contents(item)) for key, item in vars(value).items() if not key.startswith("__")}
        elif callable(value):
            pass
        elif isinstance(value, dict | list | set):
            copied = value.copy()
        elif isinstance(getattr(value, "__dict__", None), dict):
            copied = dict(vars(value))
        saved[name] = (value, copied)
    return saved


def _contents(value):
    return value.copy() if isinstance(value, dict | list | set) else None


def _refill(value, copied):
    if isinstance(value, dict | set):
        value.clear()
        value.update(copied)
    elif isinstance(value, list):
        value[:] = copied


def _restore_module_state(module, saved):
    \"\"\"The module's globals as `_module_state` saw them: names added since removed, containers refilled.\"\"\"
    for name in [name for name in vars(module) if name not in saved and not name.startswith("__")]:
        delattr(module, name)
    for name, (value, copied) in saved.items():
        setattr(module, name, value)
        if copied is None:
            continue
        if isinstance(value, type):  # a class: its attributes (a cache its objects share) as they were
            for key in [key for key in vars(value) if key not in copied and not key.startswith("__")]:
                delattr(value, key)
            for key, (item, contents) in copied.items():
                if vars(value).get(key) is not item:
                    setattr(value, key, item)
                if contents is not None:
                    _refill(item, contents)
        elif isinstance(value, dict | list | set):
            _refill(value, copied)
        else:
            vars(value).clear()
            vars(value).update(copied)
"""
"""Saving and restoring a module's state (its registries, its current settings, its classes' caches), in the
observer and in the tests of a module whose code changes it."""

_STATE_FIXTURE = """

@pytest.fixture(autouse=True)
def _module_state_restored():
    \"\"\"Each test starts from the module's state as it was imported: the functions it calls change it.\"\"\"
    saved = _module_state({alias})
    yield
    _restore_module_state({alias}, saved)
"""


def render_module(
    module: str,
    alias: str,
    tests: Sequence[RenderedTest],
    *,
    version: str,
    shadowed: bool = False,
    command: str | None = None,
    state: bool = False,
) -> str:
    """The whole test module: header, imports, the doctest helper when needed, then each test.

    `shadowed`: the package binds another object to the module's name (see `import_line`); `command`: the
    command that regenerates the module, with its options (default: `codegen-lab testgen generate MODULE`);
    `state`: the module's code changes its globals or its classes' attributes, and each test restores them (an
    autouse fixture).
    """
    models = (
        "Tests marked `# Written by the model` were written by an LLM; their expected values are the model's.\n"
        if any(test.kind == "model" for test in tests)
        else ""
    )
    header = (
        f'"""Tests of `{module}`, generated by codegen-lab-testgen {version}.\n\n'
        f"Each test passed twice in a sandbox and ran code of `{module}` that no test before it did, or checks a\n"
        "value the others do not (another result, a documented example). The expected values were observed by\n"
        "running the code as it is: they pin its current behaviour, so review them.\n"
        f"{models}"
        f'Regenerate with `{command or f"codegen-lab testgen generate {module}"}`.\n"""\n'
    )
    imports: set[str] = {"import pytest"} if state else set()
    for test in tests:
        imports |= test.imports
    standard = ["import doctest"] if any(test.kind == "doctest" for test in tests) else []
    if shadowed:
        standard.append("import importlib")
    standard_lines = {import_statement(name) for name in STANDARD_MODULES}
    standard = sorted(
        [*standard, *(line for line in imports if line in standard_lines or line.split()[1] in STANDARD_MODULES)]
    )
    third_party = sorted(line for line in imports if line.split()[1].split(".")[0] in {"pytest", "hypothesis"})
    others = sorted(imports - set(third_party) - set(standard))
    blocks = [
        block for block in (standard, third_party, [*others, import_line(module, alias, shadowed=shadowed)]) if block
    ]
    parts = [header, "\n\n".join("\n".join(block) for block in blocks), "\n"]
    if "import doctest" in standard:
        parts.append(_DOCTEST_HELPER.format(alias=alias))
    if state:
        parts += ["\n", STATE_HELPER, _STATE_FIXTURE.format(alias=alias)]
    for test in tests:
        body = (
            test.lines
            if test.kind in {"property", "model"}
            else [f"def {test.name}({', '.join(test.fixtures)}):", *test.lines]
        )
        parts.append("\n\n" + "\n".join(body) + "\n")
    return "".join(parts)


def import_line(module: str, alias: str, *, shadowed: bool = False) -> str:
    """The import that binds the module under test to `alias`: `from semver import version`.

    When the package binds another object to the module's name (`validators` does `from .url import url`), both
    `from validators import url` and `import validators.url as url` give that object: the module is then
    `importlib.import_module("validators.url")` (the caller imports `importlib`).
    """
    if shadowed:
        return f"{alias} = importlib.import_module({module!r})"
    owner, _, name = module.rpartition(".")
    line = f"from {owner} import {name}" if owner else f"import {module}"
    return f"{line} as {alias}" if alias != name else line


def format_code(code: str) -> str:
    """`code` formatted by ruff (line length 120), or as it is when ruff cannot be found or fails."""
    try:
        from ruff import find_ruff_bin  # noqa: PLC0415

        ruff = find_ruff_bin()
    except (ImportError, FileNotFoundError):
        logger.warning("ruff is not installed; the generated tests are written unformatted")
        return code
    completed = subprocess.run(  # noqa: S603 (ruff, formatting text given on stdin)
        [ruff, "format", "--isolated", "--line-length", "120", "-"],
        input=code,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if completed.returncode != 0:
        logger.warning("ruff could not format the generated tests: %s", completed.stderr.strip())
        return code
    return completed.stdout
