"""Docstring examples as plain calls: each `>>> expression` becomes a candidate whose result is asserted.

`>>> Square(3).area()` / `9` becomes `assert shapes.Square(3).area() == 9` rather than a run of the doctest:
the test then checks the value the code returned, and says which call it was. Names the module defines are
reached through its alias, also when the example spells them through the package (`semver.Version` in
`semver.version`, which the package re-exports); names bound by earlier examples (`>>> v = Version(1)`)
become the setup. A docstring whose examples do not all convert (loops, prints, imports of other modules)
stays a doctest.
"""

from __future__ import annotations

import ast
import builtins
import doctest

from codegen_lab.testgen._analysis import ModuleInfo
from codegen_lab.testgen._effects import dotted
from codegen_lab.testgen._inputs import Candidate, Value, kind_of

__all__ = ["example_candidates"]

_BUILTINS = set(dir(builtins))


class _Qualify(ast.NodeTransformer):
    """Module names to `alias.name`; refuses (sets `unknown`) a name neither the module nor the examples bind."""

    def __init__(self, module: set[str], local: set[str], alias: str, packages: set[str]) -> None:
        self.module = module
        self.local = local
        self.alias = alias
        self.packages = packages
        """The dotted paths that lead to the module's names: `semver` and `semver.version` for `semver.version`."""
        self.unknown = False

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        path = dotted(node.value) or ""
        if path in self.packages and node.attr in self.module and path.partition(".")[0] not in self.local:
            return ast.copy_location(ast.Attribute(ast.Name(self.alias, ast.Load()), node.attr, node.ctx), node)
        return self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.local or isinstance(node.ctx, ast.Store):
            return node
        if node.id in self.module:
            return ast.copy_location(ast.Attribute(ast.Name(self.alias, ast.Load()), node.id, node.ctx), node)
        if node.id not in _BUILTINS:
            self.unknown = True
        return node


def example_candidates(
    label: str, info: ModuleInfo, alias: str, prefix: str, *, module: str = ""
) -> list[Candidate] | None:
    """The examples of the docstring of `label` as candidates, or None when some example does not convert.

    `module` is the module's dotted name: an example may reach its names through it or a package above it.
    """
    text = info.docstrings.get(label)
    if not text:
        return None
    setup: list[str] = []
    local: set[str] = set()
    classes: dict[str, str] = {}
    """The class of each name an example bound to a new instance: `v` is a `Version`."""
    parts = module.split(".") if module else []
    packages = {".".join(parts[:end]) for end in range(1, len(parts) + 1)} - set(info.names)
    found: list[Candidate] = []
    for example in doctest.DocTestParser().get_examples(text):
        try:
            tree = ast.parse(example.source)
        except SyntaxError:
            return None
        if len(tree.body) != 1:
            return None
        statement = tree.body[0]
        qualify = _Qualify(info.names, local, alias, packages)
        if isinstance(statement, ast.Assign) and all(isinstance(target, ast.Name) for target in statement.targets):
            converted = qualify.visit(statement)
            names = [target.id for target in statement.targets if isinstance(target, ast.Name)]
            local |= set(names)
            made = _dotted_text(statement.value.func) if isinstance(statement.value, ast.Call) else ""
            if made.startswith(f"{alias}.") and made.count(".") == 1:
                classes.update(dict.fromkeys(names, made.partition(".")[2]))
            setup.append(ast.unparse(converted))
        elif isinstance(statement, ast.Expr):
            if _prints(statement.value) or qualify.unknown:
                return None
            expr: ast.expr = qualify.visit(statement.value)
            source = ast.unparse(expr)
            if not example.want and not example.exc_msg:  # run for its effect: part of what follows
                setup.append(source)
            else:
                found.append(
                    Candidate(
                        id=f"{prefix}{len(found)}",
                        target=_target(expr, alias, label, classes),
                        expr=source,
                        setup="\n".join(_needed(setup, expr)) or None,
                        args=_arguments(expr),
                        group=label or "<module>",
                    )
                )
        else:
            return None
        if qualify.unknown:
            return None
    return found or None


def _needed(setup: list[str], expr: ast.expr) -> list[str]:
    """The setup lines `expr` depends on: those binding or acting on names it uses, or that they use."""
    names = _names(expr)
    kept: list[str] = []
    for line in reversed(setup):
        statement = ast.parse(line).body[0]
        bound = {t.id for t in getattr(statement, "targets", []) if isinstance(t, ast.Name)}
        used = _names(statement.value) if isinstance(statement, ast.Assign | ast.Expr) else set[str]()
        if bound & names or (not bound and used & names):
            kept.append(line)
            names |= used
    return kept[::-1]


def _names(node: ast.AST) -> set[str]:
    return {child.id for child in ast.walk(node) if isinstance(child, ast.Name)}


def _prints(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in {"print", "pprint"}


def _target(expr: ast.expr, alias: str, label: str, classes: dict[str, str]) -> str:
    """What the example calls: `Version.parse` for `version.Version.parse(...)`.

    `Version.bump` for `v.bump()` when an earlier example made `v = version.Version(...)`; inside `str(...)`
    and such, what they wrap. The docstring's own function when the example calls it, as in
    `Version.parse('1.0.0').compare('2.0.0')` in the docstring of `Version.compare`.
    """
    method = label.rpartition(".")[2]
    for node in ast.walk(expr):
        if method and isinstance(node, ast.Call):
            called = (
                _dotted_text(node.func).rpartition(".")[2]
                if not isinstance(node.func, ast.Attribute)
                else node.func.attr
            )
            if called == method:
                return label
    for node in ast.walk(expr):
        if not isinstance(node, ast.Call):
            continue
        dotted = _dotted_text(node.func)
        head, _, rest = dotted.partition(".")
        if head == alias and rest:
            return rest
        if head in classes and rest:
            return f"{classes[head]}.{rest}"
    return label or "module"


def _dotted_text(node: ast.expr) -> str:
    return dotted(node) or ""


def _arguments(expr: ast.expr) -> list[Value]:
    if not isinstance(expr, ast.Call):
        return []
    return [Value(ast.unparse(arg), kind_of(ast.unparse(arg))) for arg in expr.args]
