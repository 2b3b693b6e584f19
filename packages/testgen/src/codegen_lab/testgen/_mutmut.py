"""Mutation testing with mutmut, in a temporary copy of the module and its tests, inside the sandbox.

mutmut (3.x) wants a project: a `[tool.mutmut]` table naming the code to mutate, tests it runs with pytest
itself, and a `mutants/` folder it writes next to them. testgen lays out such a project in the work folder
(the module's top-level package or the module alone, the tests and the `conftest.py` files above them), so
the user's tree is never touched, and runs `python -m mutmut run` there in two steps: the first mutant of
each function (which makes mutmut generate them all), then up to `max_mutants` spread over the module.
"""

from __future__ import annotations

import ast
import difflib
import json
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from codegen_lab.testgen._models import Mutant
from codegen_lab.testgen._runner import SCRIPTS, Project
from codegen_lab.testgen._target import Target
from codegen_lab.testgen.errors import TestgenOperationError, TestgenUsageError

__all__ = ["MutmutResult", "copied_package", "run_mutmut", "spread"]

STATUS_BY_EXIT_CODE: dict[int | None, str] = {
    1: "killed",
    3: "killed",
    0: "survived",
    5: "no tests",
    33: "no tests",
    34: "skipped",
    35: "suspicious",
    36: "timeout",
    37: "killed",  # caught by the type checker
    -24: "timeout",
    24: "timeout",
    152: "timeout",
    255: "timeout",
    -11: "segfault",
    -9: "segfault",
    2: "interrupted",
    None: "not checked",
}
"""mutmut's meaning of each exit code of a mutant's test run (mutmut's `status_by_exit_code`)."""

_NAME = re.compile(r"^(?P<mangled>.+)__mutmut_(?P<number>\d+)$")


@dataclass(frozen=True, slots=True)
class MutmutResult:
    """The mutants mutmut ran and what it said about each."""

    mutants: list[Mutant]
    generated: int
    """Mutants mutmut made in all (of which `mutants` were run)."""


def spread[T](items: Sequence[T], count: int) -> list[T]:
    """`count` of `items`, evenly spread over them (every one when there are fewer)."""
    if len(items) <= count:
        return list(items)
    step = len(items) / count
    return [items[int(number * step)] for number in range(count)]


def copied_package(target: Target) -> tuple[Path | None, Path]:
    """The top-level package folder to copy for `target` (None for a lone module), and the target's file in it.

    A package's own code (`ordered_set/__init__.py`) is the package: the folder is copied, and the file to
    mutate is its `__init__.py`, never a lone `__init__.py` that nothing imports.
    """
    parts = target.module.split(".")
    package = target.file.name == "__init__.py"
    levels = len(parts) if package else len(parts) - 1
    if levels == 0:
        return None, Path(target.file.name)
    top = target.file.parent
    for _ in range(levels - 1):
        top = top.parent
    return top, Path(*parts, "__init__.py") if package else Path(*parts).with_suffix(".py")


def _layout(project: Project, target: Target, tests: Sequence[str], folder: Path) -> tuple[str, list[str]]:
    """Copy the module (with its top-level package) and the tests into `folder`; return their relative paths."""
    parts = target.module.split(".")
    top, relative = copied_package(target)
    if top is not None:
        shutil.copytree(top, folder / top.name, ignore=shutil.ignore_patterns("__pycache__"))
    else:
        shutil.copy2(target.file, folder / relative)
    source = str(relative)
    selection: list[str] = []
    for node in tests:
        file_part, separator, rest = node.partition("::")
        path = Path(file_part)
        relative = path.relative_to(project.root)
        destination = folder / relative
        if relative.parts and relative.parts[0] == parts[0] and top is not None:
            raise TestgenUsageError(
                f"tests {relative}: inside the package under test", hint="Pass tests that live outside the package"
            )
        destination.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            shutil.copytree(path, destination, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, destination)
        parent = path.parent
        while parent != project.root and project.root in parent.parents:  # the conftest.py files above the tests
            if (parent / "conftest.py").is_file():
                shutil.copy2(parent / "conftest.py", folder / parent.relative_to(project.root) / "conftest.py")
            parent = parent.parent
        selection.append(str(relative) + separator + rest)
    if (project.root / "conftest.py").is_file():
        shutil.copy2(project.root / "conftest.py", folder / "conftest.py")
    return source, selection


def _settings(source: str, selection: Sequence[str], copied: Sequence[str]) -> str:
    def array(items: Sequence[str]) -> str:
        return "[" + ", ".join(json.dumps(item) for item in items) + "]"

    # A module of a package: mutmut copies the whole package (a lone module would be shadowed by the
    # project's own package on PYTHONPATH) and mutates only the module.
    top = Path(source).parts[0]
    return (
        "[tool.mutmut]\n"
        f"source_paths = {array([top])}\n"
        f"only_mutate = {array([source])}\n"
        f"pytest_add_cli_args_test_selection = {array(selection)}\n"
        f"also_copy = {array(copied)}\n"
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q"]\n'
        "use_setproctitle = false\n"
        "use_git_change_detection = false\n"
    )


def run_mutmut(
    project: Project,
    target: Target,
    tests: Sequence[str],
    workdir: Path,
    *,
    max_mutants: int,
    timeout: float,
    progress: Callable[[int, int], None] | None = None,
) -> MutmutResult:
    """Run mutmut on a copy of `target` with the `tests` (resolved node ids) and read what it found.

    Raises:
        TestgenUsageError: When the tests fail (or none runs) on the unchanged module.
        TestgenOperationError: When mutmut does not run or does not finish in time.
    """
    folder = workdir / "mutmut-project"
    folder.mkdir()
    source, selection = _layout(project, target, tests, folder)
    # mutmut copies files without making their folders: name the top-level folders (and top-level files).
    copied = {Path(item.partition("::")[0]).parts[0] for item in selection} | {"conftest.py"}
    copied = {item for item in copied if (folder / item).exists() and item != source.split("/")[0]}
    (folder / "pyproject.toml").write_text(_settings(source, selection, sorted(copied)), encoding="utf-8")
    meta = folder / "mutants" / f"{source}.meta"
    first = _mutmut(project, folder, workdir, ["*__mutmut_1"], timeout=timeout)
    codes = _exit_codes(meta, first)
    names = sorted(codes, key=_order)
    chosen = spread(names, max_mutants)
    pending = [name for name in chosen if codes.get(name) is None]
    if progress is not None:
        progress(len(chosen) - len(pending), len(chosen))
    if pending:
        codes = _exit_codes(meta, _mutmut(project, folder, workdir, pending, timeout=timeout))
    if progress is not None:
        progress(len(chosen), len(chosen))
    changes = _changes(folder / "mutants", source, target.file)
    mutants = [
        Mutant(
            line=changes.get(name, (0, ""))[0],
            change=changes.get(name, (0, name))[1],
            killed=STATUS_BY_EXIT_CODE.get(codes.get(name), "suspicious") in {"killed", "timeout", "segfault"},
            status=STATUS_BY_EXIT_CODE.get(codes.get(name), "suspicious"),
            name=name,
        )
        for name in chosen
    ]
    return MutmutResult(mutants=mutants, generated=len(names))


def _order(name: str) -> tuple[str, int]:
    match = _NAME.match(name)
    return (match.group("mangled"), int(match.group("number"))) if match else (name, 0)


def _mutmut(project: Project, folder: Path, workdir: Path, names: Sequence[str], *, timeout: float) -> str:
    """Run `mutmut run NAMES` in `folder` in the sandbox; return its output."""
    script = workdir / "_testgen_run_mutmut.py"
    shutil.copyfile(SCRIPTS / "run_mutmut.py", script)
    result = project.sandbox.run_python(
        [str(script), "run", "--max-children", "2", *names],
        workdir=workdir,
        cwd=folder,
        env={"PYTHONPATH": str(project.root), "TERM": "dumb"},
        timeout=timeout,
    )
    output = result.stdout + result.stderr
    if result.timed_out:
        raise TestgenOperationError(f"mutmut did not finish within {result.seconds:.0f} s and was stopped")
    if "Failed to run clean test" in output:
        failed = [line.removeprefix("FAILED ").strip() for line in output.splitlines() if line.startswith("FAILED ")]
        raise TestgenUsageError(
            "the tests fail (or none runs) on the unchanged module under mutmut"
            + (f" (failed: {', '.join(failed[:3])})" if failed else ""),
            hint="Mutation testing needs a suite that passes first",
        )
    return output


def _exit_codes(meta: Path, output: str) -> dict[str, int | None]:
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        tail = re.sub(r"[^\n]*\r", "", output)[-3000:]
        raise TestgenOperationError(f"mutmut made no mutants or did not run:\n{tail}") from None
    codes: dict[str, int | None] = {}
    for key, value in dict(data.get("exit_code_by_key") or {}).items():
        codes[str(key)] = int(value) if isinstance(value, int) else None
    return codes


def _changes(mutants: Path, source: str, original: Path) -> dict[str, tuple[int, str]]:
    """Per mutant name, the line of the original it changes and the change, as `old -> new` (code, trimmed)."""
    parts = Path(source).with_suffix("").parts
    prefix = ".".join(parts[:-1] if parts[-1] == "__init__" else parts) + "."  # mutmut names a package's own
    try:
        text = (mutants / source).read_text(encoding="utf-8")
        tree = ast.parse(text)
        lines = text.splitlines()
        starts = _definitions(ast.parse(original.read_text(encoding="utf-8")))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return {}
    functions: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and "__mutmut_" in node.name:
            functions[node.name] = lines[node.lineno - 1 : node.end_lineno]
    found: dict[str, tuple[int, str]] = {}
    for name, body in functions.items():
        match = _NAME.match(name)
        if match is None:
            continue
        orig = functions.get(f"{match.group('mangled')}__mutmut_orig")
        if orig is None:
            continue
        start = starts.get(_plain(match.group("mangled")), 0)
        for offset, (old, new) in enumerate(zip(orig, body, strict=False)):
            if offset and old != new:
                found[f"{prefix}{name}"] = (start + offset if start else 0, _change(old, new))
                break
    return found


def _plain(mangled: str) -> str:
    """`x_grade` as `grade`; `xǁSquareǁarea` as `Square.area`."""
    if mangled.startswith("xǁ"):
        return ".".join(part for part in mangled[2:].split("ǁ") if part)
    return mangled.removeprefix("x_")


def _definitions(tree: ast.Module) -> dict[str, int]:
    found: dict[str, int] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found[node.name] = node.lineno
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    found[f"{node.name}.{item.name}"] = item.lineno
    return found


def _change(old: str, new: str) -> str:
    """The differing middle of two lines: `score >= 90` and `score > 90` give `>= -> >`."""
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    blocks = [block for block in matcher.get_opcodes() if block[0] != "equal"]
    if not blocks:
        return f"{old.strip()} -> {new.strip()}"
    start_a, end_a = blocks[0][1], blocks[-1][2]
    start_b, end_b = blocks[0][3], blocks[-1][4]
    removed, added = old[start_a:end_a].strip(), new[start_b:end_b].strip()
    if len(removed) < 2 or len(added) < 2:  # widen a one-character change to the token around it
        removed, added = _token(old, start_a, end_a), _token(new, start_b, end_b)
    return f"{removed[:40] or '(nothing)'} -> {added[:40] or '(nothing)'}"


def _token(line: str, start: int, end: int) -> str:
    """The word or operator around `line[start:end]`: `>=` for the `=` that `>` lost."""
    near = line[start:end] or line[max(start - 1, 0) : start + 1]
    group = "<>=!+-*/%&|^~" if near and not any(char.isalnum() for char in near) else "_.'\""

    def inside(char: str) -> bool:
        return char in group or (group == "_.'\"" and char.isalnum())

    while start > 0 and inside(line[start - 1]):
        start -= 1
    while end < len(line) and inside(line[end]):
        end += 1
    return line[start:end].strip()
