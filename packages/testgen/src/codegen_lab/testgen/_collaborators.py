"""Collaborators a call is given, named so that a test can check what the call did to them.

A method that returns None and writes to a file it was given, or calls a double its object holds, is checked by
that effect: `stream = io.StringIO()` then `formatter.format(tokens, stream)` then
`assert stream.getvalue() == '...'`. The candidates keep their collaborators inline (`f(io.StringIO())`), as the
strategies that vary them read them; the observer's job and the rendered test use `named(candidate)`.
"""

from __future__ import annotations

import ast
import dataclasses

from codegen_lab.testgen._effects import dotted
from codegen_lab.testgen._inputs import Candidate

__all__ = ["named"]

_MADE = {"io.StringIO": "stream", "io.BytesIO": "stream", "mock.MagicMock": "double", "mock.Mock": "double"}
"""Constructors of collaborators whose effects a test can read back, and the name each gets when its parameter's
is not known."""


def named(candidate: Candidate, *, containers: bool = True) -> Candidate:
    """`candidate` with each collaborator built inline as an argument bound to a name first, and watched.

    The name is the keyword's or the parameter's (`outfile`), else `stream` or `double`; a collaborator the setup
    already binds to a name is watched too, and so is a list, dict or set it binds (the observer reports it when
    the call changed it in place). With `containers`, a list, dict or set display passed as an argument is bound
    to a name and watched too (the observer's job has them all; a test only when the call changed one, as the
    names are the same either way). A candidate with none is returned as it is.
    """
    if candidate.doctest is not None or candidate.watch:
        return candidate
    try:
        setup = ast.parse(candidate.setup or "")
        expr = ast.parse(candidate.expr)
    except SyntaxError:
        return candidate
    taken = {node.id for tree in (setup, expr) for node in ast.walk(tree) if isinstance(node, ast.Name)}
    parameters = {value.source: value.parameter for value in candidate.args if value.parameter}
    hoisted: list[str] = []
    watch = [  # collaborators the setup names, and the lists, dicts and sets it builds: the call may change them
        target.id
        for statement in setup.body
        if isinstance(statement, ast.Assign)
        and (_made(statement.value) is not None or isinstance(statement.value, ast.List | ast.Dict | ast.Set))
        for target in statement.targets
        if isinstance(target, ast.Name)
    ]

    def bound(node: ast.expr, keyword: str | None) -> ast.expr:
        default = _made(node)
        if default is None and containers and isinstance(node, ast.List | ast.Dict | ast.Set):
            default = "value"
        if default is None:
            return node
        source = ast.unparse(node)
        wanted = keyword or parameters.get(source) or default
        name = wanted if wanted.isidentifier() else default
        number = 2
        while name in taken:
            name = f"{wanted}_{number}"
            number += 1
        taken.add(name)
        hoisted.append(f"{name} = {source}")
        watch.append(name)
        return ast.Name(id=name, ctx=ast.Load())

    for tree in (setup, expr):
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _made(node) is None:
                node.args = [bound(argument, None) for argument in node.args]
                for keyword in node.keywords:
                    keyword.value = bound(keyword.value, keyword.arg)
    if not watch:
        return candidate
    if not hoisted:
        return dataclasses.replace(candidate, watch=tuple(watch))
    lines = [*hoisted, ast.unparse(setup)] if candidate.setup else hoisted
    return dataclasses.replace(candidate, setup="\n".join(lines), expr=ast.unparse(expr), watch=tuple(watch))


def _made(node: ast.expr) -> str | None:
    """The name a collaborator `node` constructs gets by default, or None when it is no such construction."""
    if isinstance(node, ast.Call):
        return _MADE.get(dotted(node.func) or "")
    return None
