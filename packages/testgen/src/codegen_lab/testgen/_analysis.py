"""Static analysis of the module under test: what it offers and which inputs open its branches.

Only the source is read here (with `ast`); nothing of the module is imported or run in this process.
"""

from __future__ import annotations

import ast
import doctest
import keyword
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from codegen_lab.testgen._effects import Effect, imports_of, propagate, side_effects
from codegen_lab.testgen._harvest import Harvest, harvest
from codegen_lab.testgen.errors import TestgenUsageError

__all__ = ["OPERATORS", "CallableInfo", "ClassInfo", "ModuleInfo", "Parameter", "analyze_source"]

Scalar = str | int | float | bytes | bool | None

OPERATORS = {
    "__eq__": "{self} == {0}",
    "__ne__": "{self} != {0}",
    "__lt__": "{self} < {0}",
    "__le__": "{self} <= {0}",
    "__gt__": "{self} > {0}",
    "__ge__": "{self} >= {0}",
    "__add__": "{self} + {0}",
    "__sub__": "{self} - {0}",
    "__mul__": "{self} * {0}",
    "__truediv__": "{self} / {0}",
    "__floordiv__": "{self} // {0}",
    "__mod__": "{self} % {0}",
    "__and__": "{self} & {0}",
    "__or__": "{self} | {0}",
    "__contains__": "{0} in {self}",
    "__getitem__": "{self}[{0}]",
    "__len__": "len({self})",
    "__iter__": "list({self})",
    "__str__": "str({self})",
    "__repr__": "repr({self})",
    "__bool__": "bool({self})",
    "__radd__": "{0} + {self}",
    "__rsub__": "{0} - {self}",
    "__rmul__": "{0} * {self}",
    "__neg__": "-{self}",
    "__abs__": "abs({self})",
    # the copy protocol: `copy.copy` calls the first of these the class defines (pickle does too)
    "__reduce__": "copy.copy({self})",
    "__reduce_ex__": "copy.copy({self})",
    "__copy__": "copy.copy({self})",
    "__getstate__": "copy.copy({self})",
    "__setstate__": "copy.copy({self})",
    "__deepcopy__": "copy.deepcopy({self})",
}
"""Special methods that tests exercise through their operator (or the public function that calls them), with the
expression that calls each; arguments the expression does not name are left to the function it calls."""


@dataclass(frozen=True, slots=True)
class Parameter:
    """One parameter of a function, as written."""

    name: str
    annotation: str | None
    default: str | None
    """The default's source, when it has one."""
    kind: Literal["positional", "keyword", "var_positional", "var_keyword"]
    in_kwargs: bool = False
    """A key the body reads from its `**kwargs` (see `CallableInfo.keywords`): a call may leave it out."""

    @property
    def required(self) -> bool:
        """Whether a call must pass it."""
        return self.default is None and self.kind in {"positional", "keyword"} and not self.in_kwargs


@dataclass(slots=True)
class CallableInfo:
    """A public function or method."""

    name: str
    qualname: str
    owner: str | None
    """The class, for a method."""
    kind: Literal["function", "method", "staticmethod", "classmethod", "property", "setter"]
    parameters: list[Parameter]
    """Without `self` and `cls`."""
    returns: str | None
    docstring: str | None
    has_doctest: bool
    raises: list[str]
    """Exception names raised explicitly in its body."""
    literals: list[tuple[int, Scalar]]
    """(line, value) of the constants in its body; compared constants also give their neighbours."""
    lineno: int
    end_lineno: int
    is_async: bool
    is_generator: bool
    effects: set[Effect] = field(default_factory=set[Effect])
    """Its side effects, with those of the module functions it calls (`_effects`)."""
    documented: dict[str, str] = field(default_factory=dict[str, str])
    """The types its docstring gives its parameters (Google, Sphinx or NumPy style), by parameter name."""
    checked: dict[str, list[str]] = field(default_factory=dict[str, list[str]])
    """The types the body checks each parameter against (`isinstance(other, (date, timedelta))`), by name."""
    shapes: dict[str, dict[str, Any]] = field(default_factory=dict[str, dict[str, Any]])
    """How the body reads each parameter: `{".response": {"[Error": {"[Code": {}}}}` for
    `error.response['Error'].get('Code')` (`.` an attribute, `[` a key, `(` a method called); a leaf is `{}`.
    `*2` is a loop that unpacks its items in two (`for ttype, value in tokensource`), `#0` and `#1` the parts."""
    writes_state: list[str] = field(default_factory=list[str])
    """The module's globals it changes (rebinds, stores into, or calls a mutating method of)."""
    reads_state: list[str] = field(default_factory=list[str])
    """The module's globals (not functions, classes or imports) a module function reads."""
    switches: dict[str, tuple[str | None, bool | None]] = field(
        default_factory=dict[str, tuple[str | None, bool | None]]
    )
    """Public attributes of its object it reads that the constructor sets to None or a bool (`self.translated =
    False`), state users set afterwards: by name, the annotation that gives their values (`bool` for a bool) and
    the value the constructor sets."""
    keywords: list[Parameter] = field(default_factory=list[Parameter])
    """The keys its body reads from its `**kwargs` (`options.get('linenos', False)`, `kwargs['mode']`,
    `get_int_opt(options, 'fontsize', 0)`), as keyword parameters with the default and type they are read with."""


@dataclass(slots=True)
class ClassInfo:
    """A public class."""

    name: str
    init: CallableInfo | None
    methods: list[CallableInfo]
    bases: list[str]
    lineno: int
    end_lineno: int
    has_doctest: bool
    is_exception: bool
    context_manager: bool = False
    """Whether it defines `__enter__` and `__exit__`: tests use its objects in `with` blocks."""


@dataclass(slots=True)
class ModuleInfo:
    """What the module under test offers."""

    path: Path
    functions: list[CallableInfo] = field(default_factory=list[CallableInfo])
    classes: list[ClassInfo] = field(default_factory=list[ClassInfo])
    constants: list[tuple[int, Scalar]] = field(default_factory=list[tuple[int, Scalar]])
    has_module_doctest: bool = False
    public_names: list[str] | None = None
    """`__all__`, when the module declares it as a literal list (its underscored names are tested too)."""
    raise_lines: set[int] = field(default_factory=set[int])
    """The lines of its `raise` statements and `sys.exit()` calls: an exception from there is meant."""
    docstrings: dict[str, str] = field(default_factory=dict[str, str])
    """Docstrings with examples, by what they document: `""` (the module), a class or a function's qualname."""
    names: set[str] = field(default_factory=set[str])
    """The names the module binds at its top level (definitions, assignments, imports)."""
    harvested: Harvest = field(default_factory=Harvest)
    """The inputs its own code names: literals, character sets, regex matches, enum members, keys, constants."""
    fitting: dict[str, list[str]] = field(default_factory=dict[str, list[str]])
    """Objects of the target's package with the attributes a parameter is read with (`ttype.parent`), found once
    the module was imported: by the attribute names, sorted and joined with commas, as expressions
    (`pygments.token.Keyword`). Not read from the source: `Loop` fills it in from the observer."""
    class_state: list[str] = field(default_factory=list[str])
    """Class attributes its methods change (`Parser._CACHE`, a cache every object shares), as `Class.name`."""

    @property
    def has_state(self) -> bool:
        """Whether its functions or methods change the module's globals or its classes' attributes.

        The tests then restore them after each, and the search before each call: a cache one test filled would
        otherwise change what the next one runs.
        """
        callables = [*self.callables(), *(cls.init for cls in self.classes if cls.init is not None)]
        return bool(self.class_state) or any(function.writes_state for function in callables)

    def callables(self) -> list[CallableInfo]:
        """Every public function and method, in source order."""
        found = list(self.functions)
        for cls in self.classes:
            found += cls.methods
        return sorted(found, key=lambda item: item.lineno)

    def find_class(self, name: str) -> ClassInfo | None:
        """The class called `name`, when the module defines it."""
        return next((cls for cls in self.classes if cls.name == name), None)

    def enclosing(self, line: int) -> CallableInfo | None:
        """The innermost public function or method whose lines hold `line`."""
        holders = [item for item in self.callables() if item.lineno <= line <= item.end_lineno]
        return max(holders, key=lambda item: item.lineno, default=None)


def analyze_source(path: Path) -> ModuleInfo:
    """Read the module at `path` and list its public functions, classes and methods with what can be mined.

    Raises:
        TestgenUsageError: When the file cannot be read or is not valid Python.
    """
    try:
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source, filename=str(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise TestgenUsageError(f"target {path}: cannot be read ({exc})") from None
    except SyntaxError as exc:
        raise TestgenUsageError(f"target {path}:{exc.lineno}: not valid Python: {exc.msg}") from None
    info = ModuleInfo(path=path, has_module_doctest=_has_doctest(ast.get_docstring(tree)))
    info.public_names = _declared_all(tree)
    info.raise_lines = {  # `raise`, and `sys.exit(...)`: a command line's way to say its input was wrong
        line
        for node in ast.walk(tree)
        if isinstance(node, ast.Raise)
        or (isinstance(node, ast.Call) and ast.unparse(node.func) in {"sys.exit", "exit", "quit"})
        for line in range(node.lineno, (node.end_lineno or node.lineno) + 1)
    }
    referenced = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _public(node.name, info.public_names):
            info.functions.append(_callable(node, owner=None))
        elif isinstance(node, ast.ClassDef) and _public(node.name, info.public_names):
            info.classes.append(_class(node, referenced, classes))
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            info.constants += _constants(node)
    _add_effects(tree, info)
    _add_names(tree, info)
    _add_state(tree, info)
    info.harvested = harvest(tree)
    for neighbour in _neighbours(tree, path):  # a parser's inputs are the characters its lexer compares
        strings = harvest(neighbour).strings
        info.harvested.strings += [text for text in strings if text not in info.harvested.strings]
    return info


_NEIGHBOURS = 4
"""At most this many modules of the target's own package, imported by it, whose strings are harvested too."""


def _neighbours(tree: ast.Module, path: Path) -> list[ast.Module]:
    """The modules of the target's own package that it imports (`from jmespath import lexer`), parsed."""
    top = path.parent
    if not (top / "__init__.py").is_file():
        return []
    while (top.parent / "__init__.py").is_file():
        top = top.parent
    wanted: list[Path] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = path.parent
            for _ in range(node.level - 1):
                base = base.parent
            parts = node.module.split(".") if node.module else []
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == top.name:
            base, parts = top.parent, node.module.split(".")
        else:
            continue
        wanted += [base.joinpath(*parts, *tail) for tail in ([], *([alias.name] for alias in node.names))]
    found: list[ast.Module] = []
    for module in dict.fromkeys(wanted):
        file = module.with_suffix(".py") if not module.is_dir() else module / "__init__.py"
        if file.is_file() and file != path and top in file.parents and len(found) < _NEIGHBOURS:
            try:
                found.append(ast.parse(file.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError, SyntaxError):
                continue
    return found


_MUTATING = {
    "append", "extend", "insert", "remove", "pop", "popitem", "clear", "update", "setdefault", "add", "discard",
    "appendleft", "register",
}  # fmt: skip
"""Methods that change the container (or registry) they are called on."""


def _add_state(tree: ast.Module, info: ModuleInfo) -> None:
    """Which functions and methods change the module's globals and which read them; the class attributes changed.

    Globals: a registry, a current setting. Class attributes: a cache every object of the class shares.
    """
    state: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            state |= {target.id for target in targets if isinstance(target, ast.Name)}
    functions = {(function.owner, function.name): function for function in info.callables()}
    functions |= {(cls.name, "__init__"): cls.init for cls in info.classes if cls.init is not None}
    nodes = [(None, node) for node in tree.body]
    for cls in tree.body:
        if isinstance(cls, ast.ClassDef):
            nodes += [(cls.name, item) for item in cls.body]
            info.class_state += [f"{cls.name}.{name}" for name in _class_state(cls)]
    for owner, node in nodes:
        function = functions.get((owner, node.name)) if isinstance(node, ast.FunctionDef) else None
        if function is None or not isinstance(node, ast.FunctionDef):
            continue
        local = {parameter.name for parameter in function.parameters}
        writes: set[str] = set()
        reads: set[str] = set()
        declared: set[str] = set()
        for child in _own_nodes(node):
            if isinstance(child, ast.Global):
                declared |= set(child.names)
            elif isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                local.add(child.id)
            elif isinstance(child, ast.Name):
                reads.add(child.id)
            elif isinstance(child, ast.Subscript | ast.Attribute) and not isinstance(child.ctx, ast.Load):
                writes.add(_root(child))
            elif isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute) and child.func.attr in _MUTATING:
                writes.add(_root(child.func.value))
        local -= declared
        function.writes_state = sorted(((writes - local) | declared) & state)
        function.reads_state = sorted((reads - local) & state)


_CONTAINERS = {"dict", "list", "set", "OrderedDict", "defaultdict", "deque", "Counter", "WeakValueDictionary"}
"""Calls that make a mutable container: a class attribute bound to one is shared by every object of the class."""


def _class_state(node: ast.ClassDef) -> list[str]:
    """The class attributes of `node` its methods change.

    They rebind one through the class (`cls.count += 1`), or change in place one that holds a container no method
    shadows on its object (`self._CACHE[key] = value`).
    """
    containers: set[str] = set()
    for item in node.body:
        if isinstance(item, ast.Assign | ast.AnnAssign) and item.value is not None:
            value = item.value
            mutable = isinstance(value, ast.Dict | ast.List | ast.Set | ast.DictComp | ast.ListComp | ast.SetComp) or (
                isinstance(value, ast.Call) and ast.unparse(value.func).rpartition(".")[2] in _CONTAINERS
            )
            targets = item.targets if isinstance(item, ast.Assign) else [item.target]
            if mutable:
                containers |= {target.id for target in targets if isinstance(target, ast.Name)}
    methods = [item for item in node.body if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)]
    shadowed = {
        target.attr
        for method in methods
        for target in ast.walk(method)
        if isinstance(target, ast.Attribute)
        and isinstance(target.ctx, ast.Store)
        and isinstance(target.value, ast.Name)
        and target.value.id == "self"
    }
    through_class = {"cls", node.name, "type(self)", "self.__class__"}
    changed: set[str] = set()
    for method in methods:
        for child in _own_nodes(method):
            if isinstance(child, ast.Attribute) and not isinstance(child.ctx, ast.Load):
                if ast.unparse(child.value) in through_class:
                    changed.add(child.attr)
                continue
            if isinstance(child, ast.Subscript) and not isinstance(child.ctx, ast.Load):
                holder = child.value
            elif isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute) and child.func.attr in _MUTATING:
                holder = child.func.value
            else:
                continue
            if not isinstance(holder, ast.Attribute) or holder.attr not in containers:
                continue
            owner = ast.unparse(holder.value)
            if owner in through_class or (owner == "self" and holder.attr not in shadowed):
                changed.add(holder.attr)
    return sorted(changed)


def _root(node: ast.expr) -> str:
    """The name an attribute or subscript chain starts from (`_REGISTRY` for `_REGISTRY[key].items`), or ""."""
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else ""


def _add_names(tree: ast.Module, info: ModuleInfo) -> None:
    """The module's top-level names, and its docstrings that hold examples."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            info.names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            info.names |= {alias.asname or alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            info.names |= {name.id for target in targets for name in ast.walk(target) if isinstance(name, ast.Name)}
    documented: list[tuple[str, str | None]] = [("", ast.get_docstring(tree))]
    documented += [(item.qualname, item.docstring) for item in info.callables()]
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and info.find_class(node.name) is not None:
            documented.append((node.name, ast.get_docstring(node)))
    info.docstrings = {label: text for label, text in documented if text and _has_doctest(text)}


def _add_effects(tree: ast.Module, info: ModuleInfo) -> None:
    """Each public function's and method's side effects, with those of the module functions it calls."""
    imports = imports_of(tree)
    direct = {
        node.name: side_effects(node, _own_nodes(node), imports)
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    module_effects = propagate(direct)
    nodes = {
        (owner, item.name): item
        for owner, body in [(None, tree.body)]
        + [(cls.name, cls.body) for cls in tree.body if isinstance(cls, ast.ClassDef)]
        for item in body
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    for function in [*info.callables(), *(cls.init for cls in info.classes if cls.init is not None)]:
        node = nodes.get((function.owner, function.name))
        if node is None:
            continue
        if function.owner is None:
            function.effects = module_effects.get(function.name, set())
            continue
        own, called = side_effects(node, _own_nodes(node), imports)
        function.effects = own.union(
            *(module_effects[name] - {"mutates-arguments"} for name in called & module_effects.keys())
        )


def _public(name: str, declared: list[str] | None) -> bool:
    """Whether a test calls `name`: any name without a leading underscore, and those `__all__` lists.

    `__all__` says what `import *` takes, not what callers may use: `fsspec.registry` lists three names, and its
    `register_implementation` is documented API.
    """
    return not name.startswith("_") or (declared is not None and name in declared)


_NO_HOOKS = {"object", "ABC", "abc.ABC", "Generic", "typing.Generic", "Protocol", "typing.Protocol"}
"""Bases that call no method of their subclasses: a class with only these has no hooks."""


def _hook(name: str, node: ast.ClassDef, referenced: set[str], classes: dict[str, ast.ClassDef]) -> bool:
    """Whether the method `name` overrides a base class's hook: underscored, not special, not called in the module.

    Only a base defined elsewhere can call it (`Parser(object)`'s `_token_nud_*` methods are its own, called
    through `getattr`): a test then calls it directly. A base defined in the module would be seen to call it.
    """
    return _outside_base(node, classes, set()) and not name.startswith("__") and name not in referenced


def _outside_base(node: ast.ClassDef, classes: dict[str, ast.ClassDef], seen: set[str]) -> bool:
    """Whether `node` has a base class (at any depth) defined outside the module, other than `object` and the like."""
    seen.add(node.name)
    for base in node.bases:
        name = ast.unparse(base).split("[", 1)[0]
        if name in classes and name not in seen:
            if _outside_base(classes[name], classes, seen):
                return True
        elif name not in _NO_HOOKS and name not in seen:
            return True
    return False


def _declared_all(tree: ast.Module) -> list[str] | None:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets
        ):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                return None
            if isinstance(value, list | tuple):
                return [str(item) for item in value]  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
    return None


def _class(node: ast.ClassDef, referenced: set[str], classes: dict[str, ast.ClassDef]) -> ClassInfo:
    """The class's constructor and the methods a test calls: the public ones, the operators, and the hooks.

    A hook is an underscored method nothing in the module calls (`_buffer_encode`): the base class it overrides,
    defined elsewhere, calls it, so a test can call it only directly.
    """
    methods: list[CallableInfo] = []
    init: CallableInfo | None = None
    for item in node.body:
        if not isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if item.name == "__init__":
            init = _callable(item, owner=node.name)
        elif not item.name.startswith("_") or item.name in OPERATORS or _hook(item.name, node, referenced, classes):
            methods.append(_callable(item, owner=node.name))
    if init is not None:
        _switches(node, methods)
        _field_shapes(node, init, classes)
        mined = [(init.lineno, value) for value in _doctest_literals(ast.get_docstring(node))]
        init.literals = sorted(set(init.literals + mined), key=lambda item: (item[0], repr(item[1])))
    bases = [ast.unparse(base) for base in node.bases]
    return ClassInfo(
        name=node.name,
        init=init,
        methods=methods,
        bases=bases,
        lineno=node.lineno,
        end_lineno=node.end_lineno or node.lineno,
        has_doctest=_has_doctest(ast.get_docstring(node)),
        is_exception=any(base.endswith(("Error", "Exception", "Warning")) for base in bases),
        context_manager={"__enter__", "__exit__"}
        <= {item.name for item in node.body if isinstance(item, ast.FunctionDef)},
    )


def _switches(node: ast.ClassDef, methods: list[CallableInfo]) -> None:
    """Give each method the public attributes it reads that `__init__` sets to None or a bool, not from a parameter."""
    switches: dict[str, tuple[str | None, bool | None]] = {}
    for item in node.body:
        if isinstance(item, ast.FunctionDef) and item.name == "__init__":
            for statement in ast.walk(item):
                target, value, annotation = None, None, None
                if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                    target, value = statement.targets[0], statement.value
                elif isinstance(statement, ast.AnnAssign):
                    target, value, annotation = statement.target, statement.value, ast.unparse(statement.annotation)
                if (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == "self"
                    and not target.attr.startswith("_")
                    and isinstance(value, ast.Constant)
                    and (value.value is None or isinstance(value.value, bool))
                ):
                    initial: bool | None = value.value
                    switches[target.attr] = ("bool" if initial is not None else annotation, initial)
    if not switches:
        return
    bodies = {item.name: item for item in node.body if isinstance(item, ast.FunctionDef)}
    for method in methods:
        body = bodies.get(method.name)
        if body is None or method.kind not in {"method", "property"}:
            continue
        read = {
            child.attr
            for child in ast.walk(body)
            if isinstance(child, ast.Attribute)
            and isinstance(child.ctx, ast.Load)
            and isinstance(child.value, ast.Name)
            and child.value.id == "self"
        }
        method.switches = {name: switches[name] for name in switches if name in read}


def _callable(node: ast.FunctionDef | ast.AsyncFunctionDef, *, owner: str | None) -> CallableInfo:
    decorators = {ast.unparse(decorator) for decorator in node.decorator_list}
    kind: Literal["function", "method", "staticmethod", "classmethod", "property", "setter"] = "function"
    if owner is not None:
        kind = "method"
        if any(decorator.endswith(".setter") for decorator in decorators):
            kind = "setter"
        elif "staticmethod" in decorators:
            kind = "staticmethod"
        elif "classmethod" in decorators:
            kind = "classmethod"
        elif "property" in decorators or "cached_property" in decorators:
            kind = "property"
    parameters = _parameters(node.args)
    if kind in {"method", "classmethod", "property", "setter"} and parameters:
        parameters = parameters[1:]
    docstring = ast.get_docstring(node)
    literals = _literals(node) + [(node.lineno, value) for value in _doctest_literals(docstring)]
    return CallableInfo(
        name=node.name,
        qualname=f"{owner}.{node.name}" if owner else node.name,
        owner=owner,
        kind=kind,
        parameters=parameters,
        returns=ast.unparse(node.returns) if node.returns is not None else None,
        docstring=docstring,
        has_doctest=_has_doctest(docstring),
        raises=_raised(node),
        literals=sorted(set(literals), key=lambda item: (item[0], repr(item[1]))),
        lineno=node.lineno,
        end_lineno=node.end_lineno or node.lineno,
        is_async=isinstance(node, ast.AsyncFunctionDef),
        is_generator=any(isinstance(child, ast.Yield | ast.YieldFrom) for child in _own_nodes(node)),
        documented=documented_types(docstring),
        checked=_checked_types(node),
        shapes=_shapes(node, {parameter.name for parameter in parameters}),
        keywords=_keywords(node),
    )


_OPTION_TYPES = ("bool", "int", "float", "list", "str")
"""Types a helper reading an option names (`get_bool_opt(options, 'linenos', False)`)."""


def _keywords(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[Parameter]:
    """The keys the body reads from the function's `**kwargs`, with their defaults and the types their readers name.

    `kwargs['key']`, `'key' in kwargs`, `kwargs.get('key', default)` (also `pop`, `setdefault`), and a call that
    passes `kwargs` then the key (`get_bool_opt(options, 'linenos', False)`: a bool, False by default).
    """
    if node.args.kwarg is None:
        return []
    name = node.args.kwarg.arg
    arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
    taken = {argument.arg for argument in arguments}  # a key of the same name would be bound to that parameter
    found: dict[str, Parameter] = {}

    def read(key: ast.expr, default: ast.expr | None, annotation: str | None = None) -> None:
        if not isinstance(key, ast.Constant) or not isinstance(key.value, str) or not key.value.isidentifier():
            return
        if keyword.iskeyword(key.value) or key.value in found or key.value in taken:
            return
        try:  # a default that is a value (not `self.fontsize`) types the key's inputs
            source = repr(ast.literal_eval(default)) if default is not None else None
        except (ValueError, TypeError, SyntaxError, RecursionError):
            source = None
        default_source = source if source != "None" else None
        found[key.value] = Parameter(key.value, annotation, default_source, "keyword", in_kwargs=True)

    def named(node: ast.expr) -> bool:
        return isinstance(node, ast.Name) and node.id == name

    for child in _own_nodes(node):
        if isinstance(child, ast.Subscript) and named(child.value):
            read(child.slice, None)
        elif isinstance(child, ast.Compare) and len(child.comparators) == 1 and named(child.comparators[0]):
            read(child.left, None)
        elif isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute) and named(child.func.value):
            if child.func.attr in {"get", "pop", "setdefault"} and child.args:
                read(child.args[0], child.args[1] if len(child.args) > 1 else None)
        elif isinstance(child, ast.Call):
            for index, argument in enumerate(child.args[:-1]):
                if named(argument):
                    reader = ast.unparse(child.func).lower()
                    typed = next((kind for kind in _OPTION_TYPES if kind in reader), None)
                    rest = child.args[index + 2 :]
                    read(child.args[index + 1], rest[0] if rest else None, typed)
    return list(found.values())


def _shapes(
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    names: set[str],
    fields: dict[str, str] | None = None,
    *,
    depth: int = 0,
) -> dict[str, dict[str, Any]]:
    """The attributes, string keys and methods the body uses of each parameter, as nested dicts (see `shapes`).

    `fields`: the attributes of `self` the constructor set from its parameters (`self.doc = doc`), whose uses in
    a method are uses of that parameter.
    """
    called = {id(child.func) for child in _own_nodes(node) if isinstance(child, ast.Call)}
    found: dict[str, dict[str, Any]] = {}
    for child in _own_nodes(node):
        chain = _chain(child, called)
        if chain is None:
            continue
        root, path = chain
        if root == "self" and fields and path and path[0][1:] in fields:
            root, path = fields[path[0][1:]], path[1:]
        if (root in names or root in (fields or {}).values()) and path:
            tree = found.setdefault(root, {})
            for step in path:
                tree = tree.setdefault(step, {})
    if depth < _UNPACKED_DEPTH:
        _unpacked(node, names, found, depth)
    return found


_UNPACKED_DEPTH = 2
"""Loops over a parameter's items that unpack them, nested at most this deep (`for key, (a, b) in ...` is one)."""


def _unpacked(node: ast.FunctionDef | ast.AsyncFunctionDef, names: set[str], found: dict[str, Any], depth: int) -> None:
    """Loops that unpack a parameter's items (`for ttype, value in tokensource`), as the step `*2` of its shape.

    Under `*2`, `#0` and `#1` hold how the body reads each part, so that the items are built to fit.
    """
    for child in _own_nodes(node):
        if not isinstance(child, ast.For | ast.comprehension):
            continue
        iterated, target = child.iter, child.target
        if not isinstance(iterated, ast.Name) or iterated.id not in names or not isinstance(target, ast.Tuple):
            continue
        parts = [element.id if isinstance(element, ast.Name) else "" for element in target.elts]
        inner = _shapes(node, {part for part in parts if part}, depth=depth + 1)
        step = found.setdefault(iterated.id, {}).setdefault(f"*{len(parts)}", {})
        for index, part in enumerate(parts):
            _merged(step.setdefault(f"#{index}", {}), inner.get(part, {}))


def _chain(child: ast.AST, called: set[int]) -> tuple[str, list[str]] | None:
    """The name a use starts from and its steps: `("error", [".response", "[Error", "[Code"])`, or None."""
    path: list[str] = []
    current: ast.AST = child
    if (
        isinstance(child, ast.Call)
        and isinstance(child.func, ast.Attribute)
        and child.func.attr == "get"
        and child.args
        and isinstance(child.args[0], ast.Constant)
        and isinstance(child.args[0].value, str)
    ):
        path, current = ["[" + child.args[0].value], child.func.value
    elif isinstance(child, ast.Attribute) and id(child) in called and child.attr != "get":
        path, current = ["(" + child.attr], child.value  # a method called on it
    elif not isinstance(child, ast.Attribute | ast.Subscript) or id(child) in called:
        return None
    while isinstance(current, ast.Attribute | ast.Subscript):
        if isinstance(current, ast.Attribute):
            if id(current) in called:  # a method: the shape cannot say what it returns
                return None
            path.insert(0, "." + current.attr)
        elif isinstance(current.slice, ast.Constant) and isinstance(current.slice.value, str):
            path.insert(0, "[" + current.slice.value)
        else:
            return None
        current = current.value
    return (current.id, path) if isinstance(current, ast.Name) else None


def _merged(into: dict[str, Any], other: dict[str, Any]) -> None:
    """`other`'s paths added to the nested dict `into`."""
    for step, child in other.items():
        _merged(into.setdefault(step, {}), child)


def _field_shapes(node: ast.ClassDef, init: CallableInfo, classes: dict[str, ast.ClassDef]) -> None:
    """The constructor's parameters as the class's methods use them through `self` (`self.doc.write(...)`).

    The module's own base classes count: their constructor, given the same names, sets the same attributes.
    """
    names = {parameter.name for parameter in init.parameters}
    family = [node]
    while (
        base := next((classes.get(ast.unparse(b)) for b in family[-1].bases if ast.unparse(b) in classes), None)
    ) and (base not in family):
        family.append(base)
    fields = {
        target.attr: child.value.id
        for member in family
        for child in ast.walk(member)
        if isinstance(child, ast.Assign) and isinstance(child.value, ast.Name) and child.value.id in names
        for target in child.targets
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self"
    }
    if not fields:
        return
    for item in (item for member in family for item in member.body):
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
            for name, shape in _shapes(item, set(), fields).items():
                _merged(init.shapes.setdefault(name, {}), shape)


def _checked_types(node: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, list[str]]:
    """The type names `isinstance(parameter, T)` names, per parameter (a tuple of types: each one)."""
    found: dict[str, list[str]] = {}
    calls = sorted((child for child in _own_nodes(node) if isinstance(child, ast.Call)), key=lambda call: call.lineno)
    for child in calls:  # in source order
        if not (isinstance(child.func, ast.Name) and child.func.id == "isinstance"):
            continue
        if len(child.args) != 2 or not isinstance(child.args[0], ast.Name):
            continue
        kinds = child.args[1].elts if isinstance(child.args[1], ast.Tuple) else [child.args[1]]
        names = found.setdefault(child.args[0].id, [])
        for kind in kinds:
            name = ast.unparse(kind).rsplit(".", 1)[-1]
            if name not in names:
                names.append(name)
    return found


_GOOGLE = re.compile(r"^\s+\**(\w+)\s*\(([^)]+)\)\s*:", re.MULTILINE)
_SPHINX_PARAM = re.compile(r":param\s+([^:]+?)\s+(\w+)\s*:")
_SPHINX_TYPE = re.compile(r":type\s+(\w+)\s*:\s*([^\n]+)")
_NUMPY = re.compile(r"^\s*(\w+)\s+:\s+([^\n]+)$", re.MULTILINE)


def documented_types(docstring: str | None) -> dict[str, str]:
    """The parameter types a docstring states: `name (str): ...`, `:type name: str`, `:param str name:`, `name : str`.

    ", optional" and the like are left out: `{"keys": "list"}` for `keys (list, optional): ...`.
    """
    if not docstring:
        return {}
    found: dict[str, str] = {}
    for name, kind in _GOOGLE.findall(docstring):
        found.setdefault(name, kind)
    for kind, name in _SPHINX_PARAM.findall(docstring):
        found.setdefault(name, kind)
    for name, kind in [*_SPHINX_TYPE.findall(docstring), *_NUMPY.findall(docstring)]:
        found.setdefault(name, kind)
    return {name: re.split(r",\s*(optional|default)", kind.strip())[0].strip() for name, kind in found.items()}


def _parameters(args: ast.arguments) -> list[Parameter]:
    found: list[Parameter] = []
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    for arg, default in zip(positional, defaults, strict=True):
        found.append(_parameter(arg, default, "positional"))
    if args.vararg is not None:
        found.append(_parameter(args.vararg, None, "var_positional"))
    for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        found.append(_parameter(arg, default, "keyword"))
    if args.kwarg is not None:
        found.append(_parameter(args.kwarg, None, "var_keyword"))
    return found


def _parameter(
    arg: ast.arg, default: ast.expr | None, kind: Literal["positional", "keyword", "var_positional", "var_keyword"]
) -> Parameter:
    return Parameter(
        name=arg.arg,
        annotation=ast.unparse(arg.annotation) if arg.annotation is not None else None,
        default=ast.unparse(default) if default is not None else None,
        kind=kind,
    )


def _own_nodes(node: ast.AST) -> list[ast.AST]:
    """The nodes of a function's body, without those of functions and classes nested in it."""
    found: list[ast.AST] = []
    pending = list(ast.iter_child_nodes(node))
    while pending:
        child = pending.pop()
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        found.append(child)
        pending.extend(ast.iter_child_nodes(child))
    return found


def _raised(node: ast.AST) -> list[str]:
    names: list[str] = []
    for child in _own_nodes(node):
        if isinstance(child, ast.Raise) and child.exc is not None:
            target = child.exc.func if isinstance(child.exc, ast.Call) else child.exc
            name = ast.unparse(target)
            if name not in names:
                names.append(name)
    return names


def _literals(node: ast.AST) -> list[tuple[int, Scalar]]:
    found: list[tuple[int, Scalar]] = []
    docstring = ast.get_docstring(node) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else None
    for child in _own_nodes(node):
        if isinstance(child, ast.Compare):
            for operand in [child.left, *child.comparators]:
                for value in _constant_values(operand):
                    found.append((child.lineno, value))
                    if isinstance(value, int) and not isinstance(value, bool):
                        found += [(child.lineno, value - 1), (child.lineno, value + 1)]
        elif isinstance(child, ast.Constant) and not isinstance(child.value, complex | type(...)):
            value: Scalar = child.value  # pyright: ignore[reportAssignmentType]
            if value != docstring and not (isinstance(value, str) and len(value) > 80):
                found.append((child.lineno, value))
    return sorted(set(found), key=lambda item: (item[0], repr(item[1])))


def _constant_values(node: ast.expr) -> list[Scalar]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float | bytes | bool | None):
        return [node.value]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [value for element in node.elts for value in _constant_values(element)]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        value = node.operand.value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return [-value]
    return []


def _constants(node: ast.Assign | ast.AnnAssign) -> list[tuple[int, Scalar]]:
    value = node.value
    if value is None:
        return []
    return [(node.lineno, found) for found in _constant_values(value)]


def _has_doctest(docstring: str | None) -> bool:
    if not docstring or ">>>" not in docstring:
        return False
    return bool(doctest.DocTestParser().get_examples(docstring))


def _doctest_literals(docstring: str | None) -> list[Scalar]:
    """The constants in a docstring's examples: often the best inputs there are, such as a valid version."""
    if not docstring or ">>>" not in docstring:
        return []
    found: list[Scalar] = []
    for example in doctest.DocTestParser().get_examples(docstring):
        try:
            tree = ast.parse(example.source)
        except SyntaxError:
            continue
        found += [
            child.value
            for child in ast.walk(tree)
            if isinstance(child, ast.Constant) and isinstance(child.value, str | int | float | bytes)
        ]
    return found
