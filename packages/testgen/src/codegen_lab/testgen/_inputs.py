"""Candidate calls: inputs typed from hints, defaults and names, mined from the literals the code compares."""

from __future__ import annotations

import ast
import keyword
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from codegen_lab.testgen._analysis import OPERATORS, CallableInfo, ClassInfo, ModuleInfo, Parameter, Scalar
from codegen_lab.testgen._harvest import as_inputs, realistic

__all__ = [
    "STANDARD_MODULES",
    "Candidate",
    "Value",
    "candidates_for",
    "import_statement",
    "kind_of",
    "module_path",
    "snake",
    "standard_imports",
    "wanted_attributes",
]


@dataclass(frozen=True, slots=True)
class Value:
    """An input as source code, with its simple type (`str`, `int`, `list`, `callable`, ...)."""

    source: str
    kind: str
    parameter: str | None = None
    """The parameter it is passed to, when known."""


@dataclass(slots=True)
class Candidate:
    """A call to try: `setup` (may be None) then the expression `expr`."""

    id: str
    target: str
    """The qualified name of the function, method or class called."""
    expr: str
    setup: str | None = None
    args: list[Value] = field(default_factory=list[Value])
    doctest: str | None = None
    """For a doctest candidate: the qualified name whose docstring examples run ("" for the module's)."""
    statement: bool = False
    """Whether `expr` is a statement (an assignment to a property), run for its effect or its exception."""
    group: str | None = None
    """For an example taken from a docstring: the docstring's label. The examples of a docstring are kept
    together, as the documented behaviour, when any of them adds coverage."""
    label: str | None = None
    """What the test's name says it calls, when that is more than `target` (`Stack.push_then_pop`)."""
    misfit: bool = False
    """Whether an input is not of the type the parameter's hint or docstring gives (a string for a `list[str]`):
    such a call is kept only for code no fitting call runs."""
    watch: tuple[str, ...] = ()
    """Names the setup binds to collaborators of the call (a file it writes to, a double it calls): after the call,
    the observer reports what it did to them (`stream.getvalue()`, `double.mock_calls`) and the test checks it."""

    def job(self) -> dict[str, str | bool | list[str]]:
        """What the observer script reads."""
        if self.doctest is not None:
            return {"id": self.id, "doctest": self.doctest}
        job: dict[str, str | bool | list[str]] = {"id": self.id, "expr": self.expr, "statement": self.statement}
        if self.setup:
            job["setup"] = self.setup
        subject = self.subject()
        if subject:
            job["after"] = subject
        if self.watch:
            job["watch"] = list(self.watch)
        return job

    def subject(self) -> str | None:
        """What the call acts on, to look at once it raised: `v.major` for `v.major = 2`, `v` for `v.match('<')`.

        Only an object the setup made: the test can check that the failed call left it as it was.
        """
        if not self.setup:
            return None
        try:
            setup = ast.parse(self.setup)
            expr = ast.parse(self.expr)
        except SyntaxError:
            return None
        made = [
            target.id
            for statement in setup.body
            if isinstance(statement, ast.Assign)
            for target in statement.targets
            if isinstance(target, ast.Name) and target.id not in self.watch
        ]
        statement = expr.body[0] if len(expr.body) == 1 else None
        if self.statement and isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id in made:
                return ast.unparse(target)
            return None
        used = {node.id for node in ast.walk(expr) if isinstance(node, ast.Name)}
        return next((name for name in made if name in used), None)


_POOLS: dict[str, list[str]] = {
    "int": ["2", "0", "1", "-1", "10", "3", "100"],
    "float": ["1.5", "0.0", "-2.5", "100.0", "0.001"],
    "str": [
        "'hello world'",
        "''",
        "'a'",
        "'Hello, World!'",
        "'  padded  '",
        "'123'",
        "'1.2.3'",
        "'a.1'",
        "'a-b_c'",
        "'ünïcödé'",
    ],
    "bytes": ["b'abc'", "b''", "b'\\x00\\xff'"],
    "bool": ["True", "False"],
    "none": ["None"],
    "list": ["[1, 2, 3]", "[]", "['a', 'b', 'c']", "[3, 1, 2, 1]", "[[1, 2], [3]]"],
    "dict": ["{'a': 1, 'b': 2}", "{}", "{'x': {'y': 1}}"],
    "tuple": ["(1, 2)", "()", "('a', 1)"],
    "set": ["{1, 2, 3}", "set()"],
    "callable": ["str", "len", "abs", "bool", "str.upper"],
}
_STANDARD: dict[str, list[str]] = {
    "date": ["datetime.date(2024, 2, 29)", "datetime.date(1999, 12, 31)"],
    "datetime": [
        "datetime.datetime(2024, 2, 29, 13, 45, 30)",
        "datetime.datetime(2024, 1, 31, 23, 59, 59, 500, tzinfo=datetime.timezone.utc)",
    ],
    "time": ["datetime.time(13, 45, 30)", "datetime.time(0, 0, tzinfo=datetime.timezone.utc)"],
    "timedelta": ["datetime.timedelta(days=1, hours=2)", "datetime.timedelta(0)", "datetime.timedelta(seconds=-90)"],
    "tzinfo": ["datetime.timezone.utc", "datetime.timezone(datetime.timedelta(hours=-5))"],
    "timezone": ["datetime.timezone.utc", "datetime.timezone(datetime.timedelta(hours=5, minutes=30))"],
    "Decimal": ["decimal.Decimal('1.5')", "decimal.Decimal('-3')", "decimal.Decimal('0')"],
    "Fraction": ["fractions.Fraction(3, 4)", "fractions.Fraction(-1, 2)"],
    "PurePath": ["pathlib.PurePosixPath('docs/readme.txt')"],
    "Path": ["pathlib.PurePosixPath('docs/readme.txt')"],
    "Pattern": ["re.compile('a+b')"],
    "OrderedDict": ["collections.OrderedDict([('a', 1), ('b', 2)])"],
    "deque": ["collections.deque([1, 2, 3])"],
    "Counter": ["collections.Counter('abca')"],
    "UUID": ["uuid.UUID('12345678-1234-5678-1234-567812345678')"],
    "IPv4Address": ["ipaddress.IPv4Address('192.168.1.1')"],
    "IPv6Address": ["ipaddress.IPv6Address('::1')"],
}
"""Instances of standard-library types, for parameters hinted or checked (`isinstance`) as one. The tests and the
observer import the modules they name (`STANDARD_MODULES`)."""
STANDARD_MODULES = frozenset(
    {
        "copy",
        "datetime",
        "decimal",
        "fractions",
        "pathlib",
        "re",
        "collections",
        "uuid",
        "ipaddress",
        "types",
        "io",
        "mock",
    }
)
_FILE_METHODS = frozenset({"write", "writelines", "flush", "read", "readline", "readlines", "seek", "tell", "getvalue"})
"""Methods an `io.StringIO` has: a parameter only these are called on is a text file."""
_PLAIN = frozenset(name for kind in (str, list, dict) for name in dir(kind) if not name.startswith("_"))
"""Methods of a string, a list or a dict: a parameter only these are called on gets the plain pools."""


def import_statement(name: str) -> str:
    """The import that binds the standard module `name` (of `STANDARD_MODULES`) in a test."""
    return "from unittest import mock" if name == "mock" else f"import {name}"


def module_path(name: str) -> str:
    """The module `import_statement(name)` imports."""
    return "unittest.mock" if name == "mock" else name


_SHAPED = 4
"""Objects built from how the body reads a parameter (`error.response['Error'].get('Code')`), at most."""
_ITEMS = 3
"""Items of a list built for a loop that unpacks them."""
_BUILTIN = {"int": "int", "float": "float", "str": "str", "bytes": "bytes", "bool": "bool", "list": "list",
            "dict": "dict", "tuple": "tuple", "set": "set", "frozenset": "set"}  # fmt: skip
_ELEMENTS: dict[str, dict[str, list[str]]] = {
    "list": {
        "int": ["[1, 2, 3]", "[]", "[3, 1, 2, 1]", "[-1, 0]"],
        "str": ["['a', 'b', 'c']", "[]", "['hello', 'world']"],
        "float": ["[1.5, 2.5]", "[]"],
    },
}
_NAME_HINTS: list[tuple[str, str]] = [
    (
        r"^(s|text|string|name|word|prefix|suffix|sep|separator|delim|char|chars|line|title|label|path|url|pattern)$",
        "str",
    ),
    (r"(_str|_text|_name|string)$", "str"),
    (r"^(n|k|i|j|count|size|width|height|index|idx|num|number|length|start|stop|step|limit|depth|level|pos)$", "int"),
    (r"(_count|_size|_len|_num|_index)$", "int"),
    (r"^(seq|seqs|items|iterable|xs|lst|values|coll|elements|data|sequence|iterables|it)$", "list"),
    (r"^(d|dct|dict|mapping|kwargs_dict|params|options|config)$", "dict"),
    (r"^(f|fn|func|function|key|pred|predicate|binop|callback|transform|op)$", "callable"),
    (r"^(flag|strict|verbose|reverse|enabled|force)$|^(is|has|use)_", "bool"),
    (r"^(x|y|a|b|value|val|obj|item|other)$", "any"),
]
_ALIAS_HINTS = [
    (r"(?i)str|text", "str"),
    (r"(?i)bytes|buffer", "bytes"),
    (r"(?i)float|real|number", "float"),
    (r"(?i)int|index", "int"),
]
"""Guesses for type names testgen cannot resolve (aliases such as `String`, protocols such as `SupportsInt`)."""
_DOCUMENTED = {
    "string": "str", "text": "str", "integer": "int", "number": "float", "boolean": "bool", "sequence": "list",
    "iterable": "list", "mapping": "dict", "function": "Callable", "callable": "Callable", "dictionary": "dict",
}  # fmt: skip
"""Docstring words for types, as the hint they stand for (`list of str` is read by its first word)."""
_HARVESTED = 32
"""At most this many of the module's own strings added to a string parameter's inputs."""
_HARVESTED_NUMBERS = 8
_GENERIC = ["2", "'hello world'", "[1, 2, 3]", "0", "''", "None", "-1", "'a'", "[]", "1.5", "{'a': 1}"]


def snake(name: str) -> str:
    """`CamelCase` as `camel_case`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def kind_of(source: str) -> str:
    try:
        value = ast.literal_eval(source)
    except (ValueError, SyntaxError):
        return "callable" if source in _POOLS["callable"] else "other"
    if value is None:
        return "none"
    return type(value).__name__  # pyright: ignore[reportUnknownArgumentType]


def _from_annotation(annotation: str, module: ModuleInfo, alias: str) -> list[str]:
    try:
        node = ast.parse(annotation, mode="eval").body
    except SyntaxError:
        return []
    return _annotation_pool(node, module, alias)


def _annotation_pool(node: ast.expr, module: ModuleInfo, alias: str) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _from_annotation(node.value, module, alias)
    if isinstance(node, ast.Constant) and node.value is None:
        return ["None"]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _annotation_pool(node.left, module, alias) + _annotation_pool(node.right, module, alias)
    name = ast.unparse(node.value if isinstance(node, ast.Subscript) else node).rsplit(".", 1)[-1]
    inner = node.slice if isinstance(node, ast.Subscript) else None
    if name in {"Optional", "Union"} and inner is not None:
        parts = inner.elts if isinstance(inner, ast.Tuple) else [inner]
        return [*[value for part in parts for value in _annotation_pool(part, module, alias)], "None"]
    if name == "Literal" and inner is not None:
        parts = inner.elts if isinstance(inner, ast.Tuple) else [inner]
        return [ast.unparse(part) for part in parts]
    simple = {
        "int": "int", "float": "float", "str": "str", "bytes": "bytes", "bool": "bool", "None": "none",
        "list": "list", "List": "list", "Sequence": "list", "Iterable": "list", "Collection": "list",
        "MutableSequence": "list", "Iterator": "list", "dict": "dict", "Dict": "dict", "Mapping": "dict",
        "MutableMapping": "dict", "tuple": "tuple", "Tuple": "tuple", "set": "set", "Set": "set",
        "frozenset": "set", "AbstractSet": "set", "Callable": "callable",
    }  # fmt: skip
    kind = simple.get(name)
    if kind == "list" and inner is not None:
        element = ast.unparse(inner).rsplit(".", 1)[-1]
        return list(_ELEMENTS["list"].get(element, _POOLS["list"]))
    if kind is not None:
        return list(_POOLS[kind])
    members = module.harvested.enums.get(name)
    if members:
        return [f"{alias}.{name}.{member}" for member in members]
    if name in _STANDARD and alias not in STANDARD_MODULES:
        return list(_STANDARD[name])
    cls = module.find_class(name)
    if cls is not None and not cls.is_exception:
        instance = _construct(cls, module, alias)
        return [instance] if instance is not None else []
    for pattern, guess in _ALIAS_HINTS:
        if re.search(pattern, name):
            return list(_POOLS[guess])
    return []


def _construct(cls: ClassInfo, module: ModuleInfo, alias: str) -> str | None:
    """Source that makes an instance of `cls` from the first typical value of each required parameter."""
    members = module.harvested.enums.get(cls.name)
    if members:
        return f"{alias}.{cls.name}.{members[0]}"
    if cls.init is None:
        return f"{alias}.{cls.name}()"
    values: list[str] = []
    for parameter in cls.init.parameters:
        if not parameter.required or parameter.kind != "positional":
            continue
        pool = _pool(parameter, cls.init, module, alias, focus=(), nested=True)
        if not pool:
            return None
        values.append(pool[0])
    return f"{alias}.{cls.name}({', '.join(values)})"


def _pool(
    parameter: Parameter,
    function: CallableInfo,
    module: ModuleInfo,
    alias: str,
    *,
    focus: Sequence[Scalar],
    nested: bool = False,
) -> list[str]:
    """Inputs for one parameter, the most promising first: mined near uncovered lines, typed, then generic."""
    typed = _typed(parameter, function, module, alias, nested=nested)
    hinted = bool(typed)
    named = [repr(text) for text in realistic(parameter.name)]
    if not typed:
        for pattern, kind in _NAME_HINTS:
            if re.search(pattern, parameter.name):
                typed = list(_GENERIC if kind == "any" else _POOLS[kind])
                break
    if named and (not typed or "str" in {kind_of(value) for value in typed}):
        typed = [*named, *typed]
    else:
        named = []
    if parameter.name == "other" and function.owner is not None and not nested:
        typed = list(dict.fromkeys([*_same_class(function.owner, module, alias), *typed]))
    kinds = {kind_of(value) for value in typed} - {"other"}
    mined: list[str] = []
    for value in [*focus, *(value for _, value in function.literals)]:
        for each in as_inputs(value) if isinstance(value, str) else [value]:
            source = repr(each)
            if (not kinds or kind_of(source) in kinds) and source not in mined:
                mined.append(source)
    # No type testgen can make: an object shaped as the body reads the parameter.
    shaped = _shaped(function.shapes.get(parameter.name), module, alias) if not nested and not hinted else []
    pool = [*shaped, *mined[:1], *named, *mined[1:12]]  # a real-looking input early: a title for `title`
    pool += [value for value in typed if value not in named] if typed else _GENERIC
    harvested = _harvested(module, kinds, alias) if kinds or not typed else []  # not for a class's instances
    return list(dict.fromkeys([*pool, *harvested]))


def _typed(parameter: Parameter, function: CallableInfo, module: ModuleInfo, alias: str, *, nested: bool) -> list[str]:
    """Inputs of the parameter's type: from its hint, else the type its docstring gives, else its default's."""
    typed: list[str] = []
    if parameter.annotation and not nested:
        typed = _from_annotation(parameter.annotation, module, alias)
    elif parameter.annotation:
        typed = [value for value in _from_annotation(parameter.annotation, module, alias) if alias not in value]
    documented = function.documented.get(parameter.name)
    if not typed and documented and not nested:  # no hint: the type the docstring gives it, in its words
        typed = _from_annotation(_DOCUMENTED.get(documented.split()[0].lower(), documented), module, alias)
    if not typed and parameter.default is not None:
        typed = [parameter.default, *_POOLS.get(kind_of(parameter.default), [])]
    checked = [] if nested else function.checked.get(parameter.name, [])
    checked = [value for name in checked for value in _of_type(name, module, alias)]
    return list(dict.fromkeys([*typed, *checked]))


def _of_type(name: str, module: ModuleInfo, alias: str) -> list[str]:
    """A few inputs of the type called `name` (as an `isinstance` check names it), when testgen can make one."""
    if name in _BUILTIN:
        return _POOLS[_BUILTIN[name]][:3]
    if name in _STANDARD:
        return list(_STANDARD[name]) if alias not in STANDARD_MODULES else []
    cls = module.find_class(name)
    if cls is None or cls.is_exception:
        return []
    instance = _construct(cls, module, alias)
    return [instance] if instance is not None else []


def _shaped(shape: dict[str, Any] | None, module: ModuleInfo, alias: str) -> list[str]:
    """Objects with the attributes and keys the body reads (`types.SimpleNamespace(response={'Error': ...})`).

    The leaves are strings of the module (the keys of its tables), a different mix in each object.
    """
    methods = {step[1:] for step in shape or {} if step.startswith("(")}
    if not shape or alias in STANDARD_MODULES or (len(methods) == len(shape) and methods <= _PLAIN):
        return []  # a string or a list by the methods called on it: the plain pools have those
    leaves = [repr(text) for text in module.harvested.strings[:_HARVESTED]] + ["'hello world'"]
    counter = iter(range(1_000_000))
    turns = iter(range(1_000_000))
    made_up = False

    def built(node: dict[str, Any], number: int) -> str:
        if not node:
            return leaves[(number * 7 + next(counter)) % len(leaves)]
        unpacked = next((step for step in node if step.startswith("*")), None)
        if unpacked is not None:  # items unpacked in a loop: tuples of parts built to fit
            parts = [node[unpacked].get(f"#{index}", {}) for index in range(int(unpacked[1:]))]
            items = ("(" + ", ".join(built(part, number + item) for part in parts) + ")" for item in range(_ITEMS))
            return "[" + ", ".join(items) + "]"
        methods = {step[1:] for step in node if step.startswith("(")}
        if methods and len(methods) == len(node) and methods <= _PLAIN:  # a string by the methods called on it
            return leaves[(number * 7 + next(counter)) % len(leaves)]
        if methods and methods <= _FILE_METHODS:
            return "io.StringIO()" if number % 2 == 0 else f"io.StringIO({built({}, number)})"
        if methods:  # an object whose methods are called: a double that accepts every call
            return "mock.MagicMock()"
        keys = {step[1:]: child for step, child in node.items() if step.startswith("[")}
        if keys:
            return "{" + ", ".join(f"{key!r}: {built(child, number)}" for key, child in keys.items()) + "}"
        attributes = {
            step[1:]: child
            for step, child in node.items()
            if step[1:].isidentifier() and not keyword.iskeyword(step[1:])
        }
        fits = module.fitting.get(",".join(sorted(step[1:] for step in node)), [])
        if fits and not made_up:  # objects of the package itself, each in turn
            return fits[next(turns) % len(fits)]
        return (
            "types.SimpleNamespace("
            + ", ".join(f"{name}={built(child, number)}" for name, child in attributes.items())
            + ")"
        )

    found: list[str] = []
    for number in range(_SHAPED):
        made_up = number == _SHAPED - 1  # the last object is made up even where the package has real ones
        found.append(built(shape, number))
    return list(dict.fromkeys(found))


def standard_imports(alias: str, *sources: str | None, package: str | None = None) -> list[str]:
    """The modules the code in `sources` refers to, but `alias`.

    The standard ones (of `STANDARD_MODULES`), and with `package` (the target's top-level package) the modules of
    that package it names objects of (`pygments.token.Keyword` -> `pygments.token`).
    """
    found: set[str] = set()
    for source in sources:
        if not source:
            continue
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute):
                continue
            if isinstance(node.value, ast.Name) and node.value.id in STANDARD_MODULES:
                found.add(node.value.id)
            elif package is not None and package != alias and _rooted(node.value, package):
                found.add(ast.unparse(node.value))
    found = {name for name in found if not any(other.startswith(name + ".") for other in found)}  # the longest
    return sorted(name for name in found if name != alias and name.split(".")[0] != alias)


def _rooted(node: ast.expr, package: str) -> bool:
    """Whether `node` is a dotted name that starts with `package`: `pygments.token` for `package` `pygments`."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name) and node.id == package


def wanted_attributes(module: ModuleInfo) -> list[list[str]]:
    """The sets of attributes parameters are read with and no other step (`ttype.parent`), each sorted.

    Objects of the target's package that have them (`pygments.token.Keyword`) are real inputs where a
    `types.SimpleNamespace` is a guess: the observer looks for them once the module is imported.
    """
    found: list[list[str]] = []

    def walk(node: dict[str, Any]) -> None:
        names = sorted(step[1:] for step in node if step.startswith("."))
        if names and len(names) == len(node) and names not in found:
            found.append(names)
        for child in node.values():
            walk(child)

    callables = [*module.callables(), *(cls.init for cls in module.classes if cls.init is not None)]
    for function in callables:
        for shape in function.shapes.values():
            walk(shape)
    return found


def _same_class(owner: str, module: ModuleInfo, alias: str) -> list[str]:
    """Instances of the class `owner`, for a parameter called `other` of its methods (`__eq__`, `union`, ...)."""
    cls = module.find_class(owner)
    instance = _construct(cls, module, alias) if cls is not None else None
    if cls is None or instance is None:
        return []
    same = [instance]
    if cls.init is not None:
        same += [
            candidate.expr
            for candidate in candidates_for(cls.init, module, alias, count=4, rng=random.Random(0), prefix="o")  # noqa: S311
        ]
    return same


def _harvested(module: ModuleInfo, kinds: set[str], alias: str) -> list[str]:
    """Inputs the module's own code names, for a parameter of these kinds (any, when none is known)."""
    found: list[str] = []
    if not kinds or "str" in kinds:
        found += [repr(text) for text in module.harvested.strings[:_HARVESTED]]
    if not kinds or kinds & {"int", "float"}:
        found += [repr(number) for number in module.harvested.numbers[:_HARVESTED_NUMBERS]]
    if not kinds:
        found += [f"{alias}.{name}.{member}" for name, members in module.harvested.enums.items() for member in members]
    return found


def _mined_count(parameter: Parameter, function: CallableInfo, focus: Sequence[Scalar]) -> int:
    return min(len({repr(value) for value in focus} | {repr(value) for _, value in function.literals}), 12)


def _draw(pool: list[str], mined: int, number: int, rng: random.Random, *, single: bool) -> str:
    """The input for the `number`th candidate: in order for a one-parameter call, else mined ones more often."""
    if number == 0:
        return pool[0]
    if single and number < len(pool):
        return pool[number]
    if mined and rng.random() < 0.6:
        return rng.choice(pool[:mined])
    return rng.choice(pool)


def candidates_for(
    function: CallableInfo,
    module: ModuleInfo,
    alias: str,
    *,
    count: int,
    rng: random.Random,
    focus: Sequence[Scalar] = (),
    prefix: str,
    explore: bool = False,
    made: Sequence[str] = (),
) -> list[Candidate]:
    """Up to `count` candidate calls of `function` (a function, method, or a class's `__init__`).

    The first candidate takes the first (most typical) input of each pool; the others draw at random from the
    pools, with `focus` (constants mined near uncovered lines) first in each pool. With `explore`, every input
    is drawn at random, so that asking again finds other calls. `made`: calls of the method's class that were
    seen to construct an instance, the first ways to make the object the method is called on.
    """
    # The keys the body reads from its `**kwargs` are keyword parameters too (after it: passed by name).
    parameters = [*function.parameters, *function.keywords]
    pools = [(parameter, _pool(parameter, function, module, alias, focus=focus)) for parameter in parameters]
    mined = [_mined_count(parameter, function, focus) for parameter in parameters]
    single = sum(parameter.required for parameter in function.parameters) == 1
    call = _callee(function, module, alias)
    if call is None:
        return []
    declared = _declared_kinds(function, module, alias)
    instances = _instances(function, module, alias, rng)
    if instances and made:
        instances = list(dict.fromkeys([*made, *instances]))
    switches = _switch_pools(function, module, alias, focus) if instances else {}
    found: list[Candidate] = []
    seen: set[tuple[str, str]] = set()
    for number in range(count * 3):
        if len(found) >= count:
            break
        values, sources = _arguments(
            pools, mined, number + 1 if explore else number, rng, single=single and not explore
        )
        setup: str | None = None
        switched = ""
        callee = call
        if instances:
            variable = call.split(".", 1)[0]
            setup = f"{variable} = {instances[0] if number == 0 and not explore else rng.choice(instances)}"
            switched = _switched(variable, switches, rng) if number or explore else ""
            setup += switched
        if function.name in OPERATORS:
            if "{0}" in OPERATORS[function.name] and not sources:
                continue
            expr = OPERATORS[function.name].format(*sources, self=callee.split(".", 1)[0])
        elif function.kind == "property":
            expr = callee
        elif function.kind == "setter":
            if not sources:
                continue
            expr = f"{callee} = {sources[0]}"
        else:
            expr = f"{callee}({', '.join(sources)})"
        if (switched, expr) in seen:
            continue
        seen.add((switched, expr))
        found.append(
            Candidate(
                id=f"{prefix}{len(found)}",
                target=function.qualname,
                expr=expr,
                setup=setup,
                args=values,
                statement=function.kind == "setter",
                misfit=any(
                    value.parameter in declared and value.kind not in {"other", *declared[value.parameter]}
                    for value in values
                ),
            )
        )
    return found


def _switched(variable: str, switches: dict[str, list[str]], rng: random.Random) -> str:
    """Lines that set some of the object's state its constructor does not take (the first call leaves it as made)."""
    return "".join(f"\n{variable}.{name} = {rng.choice(pool)}" for name, pool in switches.items() if rng.random() < 0.5)


def _switch_pools(
    function: CallableInfo, module: ModuleInfo, alias: str, focus: Sequence[Scalar]
) -> dict[str, list[str]]:
    """Values for the state `function` reads that its object's constructor does not take (`CallableInfo.switches`)."""
    pools: dict[str, list[str]] = {}
    for name, (annotation, initial) in function.switches.items():
        parameter = Parameter(name=name, annotation=annotation, default=None, kind="keyword")
        pool = [value for value in _pool(parameter, function, module, alias, focus=focus) if value != repr(initial)]
        if pool:
            pools[name] = pool
    return pools


def _declared_kinds(function: CallableInfo, module: ModuleInfo, alias: str) -> dict[str, set[str]]:
    """The simple types (`str`, `list`, ...) each parameter with a hint or a documented type takes."""
    found: dict[str, set[str]] = {}
    for parameter in function.parameters:
        if parameter.annotation or parameter.name in function.documented:
            typed = _typed(parameter, function, module, alias, nested=False)
            kinds = {kind_of(value) for value in typed}
            if typed and "other" not in kinds:  # a type testgen cannot tell by its value is no ground to drop
                found[parameter.name] = kinds | ({"int"} if "float" in kinds else set())  # an int is a float
    return found


def _arguments(
    pools: list[tuple[Parameter, list[str]]], mined: list[int], number: int, rng: random.Random, *, single: bool
) -> tuple[list[Value], list[str]]:
    """The inputs of the `number`th candidate, and the argument list's parts (keyword ones as `name=value`)."""
    values: list[Value] = []
    sources: list[str] = []
    skipped = False
    for index, (parameter, pool) in enumerate(pools):
        if not pool or parameter.kind == "var_keyword" or (parameter.kind == "var_positional" and skipped):
            continue
        if parameter.kind == "var_positional":
            extra = rng.randint(0, 2) if number else 1
            chosen = [Value(source, kind_of(source)) for source in rng.sample(pool, min(extra, len(pool)))]
            values += chosen
            sources += [value.source for value in chosen]
            continue
        if not parameter.required and (number == 0 or rng.random() < 0.6):
            skipped = skipped or parameter.kind == "positional"
            continue
        source = _draw(pool, min(mined[index], len(pool)), number, rng, single=single and parameter.required)
        values.append(Value(source, kind_of(source), parameter.name))
        sources.append(f"{parameter.name}={source}" if parameter.kind == "keyword" or skipped else source)
    return values, sources


def _callee(function: CallableInfo, module: ModuleInfo, alias: str) -> str | None:
    """What to call for `function`: a module function, a class (its `__init__`), or `variable.method`."""
    if function.owner is None:
        return f"{alias}.{function.name}"
    cls = module.find_class(function.owner)
    if cls is None:
        return None
    if function.name == "__init__":
        return f"{alias}.{cls.name}"
    if function.kind in {"staticmethod", "classmethod"}:
        return f"{alias}.{cls.name}.{function.name}"
    variable = snake(cls.name)
    if variable == alias:
        variable = f"{variable}_"
    return f"{variable}.{function.name}"


def _instances(function: CallableInfo, module: ModuleInfo, alias: str, rng: random.Random) -> list[str]:
    """Ways to make the instance a method is called on: the most typical first, then a few drawn at random."""
    if function.owner is None or function.name == "__init__" or function.kind in {"staticmethod", "classmethod"}:
        return []
    cls = module.find_class(function.owner)
    if cls is None:
        return []
    first = _construct(cls, module, alias)
    if first is None:
        return []
    found = [first]
    if cls.init is not None:
        for candidate in candidates_for(cls.init, module, alias, count=4, rng=rng, prefix="instance"):
            if candidate.expr not in found and alias not in candidate.expr.split("(", 1)[1]:
                found.append(candidate.expr)
    return found
