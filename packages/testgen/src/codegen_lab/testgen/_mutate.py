"""Mutation testing: small changes to the code under test, each run against the tests in the sandbox.

A mutant is the module with one operator, constant or returned value changed. The tests kill it when some
test fails with the change in place; a suite whose tests only run code without checking it kills few.
mutmut makes and runs the mutants when the target interpreter has it (`_mutmut`); otherwise testgen's own
AST mutator does, and the report says why. Each built-in mutant is a copy of the module's top-level package
(or of the module alone) in the work folder, put first on `sys.path`, so the project itself is never changed.
"""

from __future__ import annotations

import ast
import copy
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from codegen_lab.testgen._models import Mutant, MutationReport
from codegen_lab.testgen._mutmut import copied_package, run_mutmut, spread
from codegen_lab.testgen._runner import Project, resolve_node
from codegen_lab.testgen._sandbox import Limits, Requested
from codegen_lab.testgen._target import Target, resolve_target
from codegen_lab.testgen.errors import TestgenOperationError, TestgenUsageError

__all__ = ["mutation_score"]

_COMPARISONS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Lt: ast.GtE,
    ast.GtE: ast.Lt,
    ast.Gt: ast.LtE,
    ast.LtE: ast.Gt,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
_OPERATORS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.FloorDiv,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult,
    ast.Mod: ast.FloorDiv,
}
_SYMBOLS: dict[type[ast.AST], str] = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.GtE: ">=", ast.Gt: ">", ast.LtE: "<=", ast.In: "in",
    ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not", ast.Add: "+", ast.Sub: "-", ast.Mult: "*",
    ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.And: "and", ast.Or: "or",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Mutation:
    line: int
    change: str
    apply: Callable[[ast.Module], None]


def _points(tree: ast.Module) -> Iterator[_Mutation]:
    """Every one-change mutation of the module, in source order (docstrings and annotations left alone)."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for index, node in enumerate(ast.walk(tree)):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Compare):
            for position, op in enumerate(node.ops):
                if type(op) in _COMPARISONS:
                    swap = _COMPARISONS[type(op)]
                    yield _Mutation(line, f"{_SYMBOLS[type(op)]} -> {_SYMBOLS[swap]}", _set_op(index, position, swap))
        elif isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            swap = _OPERATORS[type(node.op)]
            yield _Mutation(line, f"{_SYMBOLS[type(node.op)]} -> {_SYMBOLS[swap]}", _set_op(index, None, swap))
        elif isinstance(node, ast.BoolOp):
            swap = ast.Or if isinstance(node.op, ast.And) else ast.And
            yield _Mutation(line, f"{_SYMBOLS[type(node.op)]} -> {_SYMBOLS[swap]}", _set_op(index, None, swap))
        elif isinstance(node, ast.Constant) and id(node) not in docstrings:
            value = node.value
            if isinstance(value, bool):
                yield _Mutation(line, f"{value} -> {not value}", _set_constant(index, not value))
            elif isinstance(value, int):
                yield _Mutation(line, f"{value} -> {value + 1}", _set_constant(index, value + 1))
            elif isinstance(value, str) and value:
                yield _Mutation(line, f"{value[:20]!r} -> 'XX{value[:20]}XX'", _set_constant(index, f"XX{value}XX"))
        elif isinstance(node, ast.Return) and node.value is not None and not _is_none(node.value):
            yield _Mutation(line, "return value -> return None", _set_constant(index, None, field="value"))


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _nth(tree: ast.Module, index: int) -> ast.AST:
    for number, node in enumerate(ast.walk(tree)):
        if number == index:
            return node
    raise IndexError(index)


def _set_op(index: int, position: int | None, swap: type[ast.AST]) -> Callable[[ast.Module], None]:
    def apply(tree: ast.Module) -> None:
        node = _nth(tree, index)
        if isinstance(node, ast.Compare) and position is not None:
            node.ops[position] = swap()  # pyright: ignore[reportArgumentType, reportCallIssue]
        elif isinstance(node, ast.BinOp | ast.BoolOp):
            node.op = swap()  # pyright: ignore[reportAttributeAccessIssue, reportCallIssue]

    return apply


def _set_constant(index: int, value: object, *, field: str = "constant") -> Callable[[ast.Module], None]:
    def apply(tree: ast.Module) -> None:
        node = _nth(tree, index)
        if field == "value" and isinstance(node, ast.Return):
            node.value = ast.Constant(None)
        elif isinstance(node, ast.Constant):
            node.value = value  # pyright: ignore[reportAttributeAccessIssue]

    return apply


def _layout(target: Target, workdir: Path) -> tuple[Path, Path]:
    """The folder to put first on `sys.path` for mutants, and the file in it that each mutant replaces."""
    first = workdir / "mutant"
    top, relative = copied_package(target)
    if top is None:
        first.mkdir()
    else:
        shutil.copytree(top, first / top.name, ignore=shutil.ignore_patterns("__pycache__"))
    return first, first / relative


def mutation_score(
    tests: Sequence[Path | str],
    target: str,
    *,
    root: Path | str | None = None,
    python: Path | str | None = None,
    max_mutants: int = 40,
    engine: Literal["mutmut", "builtin"] = "mutmut",
    isolation: Requested = "auto",
    timeout: float = 900.0,
    progress: Callable[[int, int], None] | None = None,
) -> MutationReport:
    """Mutation score of the tests at `tests` on the module `target`: the share of mutants some test kills.

    Args:
        tests: Test files or folders, relative to the root.
        target: The module (name or `.py` file) to mutate; the project is never changed.
        root: The project root (default: the current directory).
        python: The target interpreter (default: `root/.venv/bin/python`, else the current one).
        max_mutants: At most this many mutants, spread evenly over the module.
        engine: `mutmut` (run in a temporary copy of the module and the tests; when the target interpreter
            cannot import mutmut, testgen's own mutator runs instead and `note` says why) or `builtin`.
        isolation: `auto` (the strongest that works here), `bubblewrap`, `namespaces`, `uid` or `none`.
        timeout: Wall-clock seconds for mutmut's run (the built-in engine gives each mutant 60 s).
        progress: Called with (mutants done, mutants in all).

    Returns:
        Each mutant with whether it was killed, the counts and the score.

    Raises:
        TestgenUsageError: When the tests do not pass on the unchanged code (nothing could be measured).
        TestgenOperationError: When mutmut fails or does not finish within `timeout`.
    """
    started = time.monotonic()
    project = Project.open(root, python, isolation=isolation, limits=Limits(timeout=timeout, cpu_seconds=int(timeout)))
    resolved = resolve_target(project, target)
    nodes = [resolve_node(project.root, path) for path in tests]
    note: str | None = None
    if engine == "mutmut" and not project.python.found.get("mutmut", False):
        note = (
            f"mutmut is not installed in {project.python.executable}; testgen's own mutator ran instead "
            f"(install it with: uv pip install --python {project.python.executable} mutmut)"
        )
        engine = "builtin"
    with project.workdir() as workdir:
        if engine == "mutmut":
            _require_passing(project, resolved, nodes, workdir, None)
            result = run_mutmut(
                project, resolved, nodes, workdir, max_mutants=max_mutants, timeout=timeout, progress=progress
            )
            mutants, generated = result.mutants, result.generated
        else:
            mutants, generated = _builtin(project, resolved, nodes, workdir, max_mutants, progress)
    killed = sum(mutant.killed for mutant in mutants)
    survived = sum(mutant.status == "survived" for mutant in mutants)
    if mutants and not killed + survived:
        raise TestgenOperationError(
            f"no mutant of {resolved.module} was checked: {len(mutants)} made, none run by a test "
            f"({', '.join(sorted({mutant.status for mutant in mutants}))}); pass tests that import and call it"
        )
    return MutationReport(
        target=resolved.module,
        engine=engine,
        note=note,
        mutants=mutants,
        generated=generated,
        killed=killed,
        survived=survived,
        unchecked=len(mutants) - killed - survived,
        timeout=sum(mutant.status == "timeout" for mutant in mutants),
        score=round(100.0 * killed / (killed + survived), 1) if mutants else 0.0,
        isolation=project.sandbox.mode,
        seconds=round(time.monotonic() - started, 2),
    )


def _builtin(
    project: Project,
    resolved: Target,
    nodes: Sequence[str],
    workdir: Path,
    max_mutants: int,
    progress: Callable[[int, int], None] | None,
) -> tuple[list[Mutant], int]:
    """The built-in mutants, each run in the sandbox: the mutants run, and how many could be made."""
    tree = ast.parse(resolved.file.read_text(encoding="utf-8"))
    points = list(_points(tree))
    chosen = spread(points, max_mutants)
    mutants: list[Mutant] = []
    first, replaced = _layout(resolved, workdir)
    ran = _require_passing(project, resolved, nodes, workdir, first, measure=replaced)
    for number, mutation in enumerate(chosen):
        if mutation.line not in ran:  # no test runs the line: the mutant would survive unseen, not checked
            mutants.append(Mutant(line=mutation.line, change=mutation.change, killed=False, status="no tests"))
            continue
        mutated = copy.deepcopy(tree)
        mutation.apply(mutated)
        replaced.write_text(ast.unparse(ast.fix_missing_locations(mutated)), encoding="utf-8")
        status = "killed"
        try:
            run = project.pytest([*nodes, "-x"], workdir=workdir, pythonpath=[first], first_path=first, timeout=60)
            if run.failed == 0 and run.exit_code == 0:
                status = "survived"
        except TestgenOperationError:  # timed out or crashed: the change was noticed
            status = "timeout"
        mutants.append(Mutant(line=mutation.line, change=mutation.change, killed=status != "survived", status=status))
        if progress is not None:
            progress(number + 1, len(chosen))
    return mutants, len(points)


def _require_passing(
    project: Project,
    resolved: Target,
    nodes: Sequence[str],
    workdir: Path,
    first: Path | None,
    *,
    measure: Path | None = None,
) -> set[int]:
    """Check that the tests pass on the unchanged module (`first`: the folder of its copy, put first on the path).

    With `measure` (the copy's file), the lines of it the tests run, from coverage; else an empty set.

    Raises:
        TestgenUsageError: When some test fails, or none runs.
    """
    paths = [first] if first is not None else []
    coverage: dict[str, Any] | None = None
    if measure is not None:
        coverage = {"data_file": str(workdir / ".coverage"), "json": str(workdir / "coverage.json")}
        coverage["include"] = [str(measure)]
    baseline = project.pytest([*nodes, "-x"], workdir=workdir, pythonpath=paths, first_path=first, coverage=coverage)
    if baseline.failed or baseline.passed == 0:
        raise TestgenUsageError(
            f"the tests fail (or none runs) on the unchanged {resolved.module}: {baseline.failed} failed, "
            f"{baseline.passed} passed",
            hint="Mutation testing needs a suite that passes first",
        )
    files = baseline.coverage.files if baseline.coverage is not None else []
    return {line for file in files for line in file.executed_lines}
