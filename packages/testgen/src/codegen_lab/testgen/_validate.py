"""The last check of generated tests: the module they make runs under pytest twice, and what fails is dropped."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from codegen_lab.testgen._render import RenderedTest, format_code, render_module
from codegen_lab.testgen._runner import Project
from codegen_lab.testgen._target import Target
from codegen_lab.testgen.errors import TestgenOperationError

__all__ = ["Validated", "own_version", "validate"]

_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Validated:
    """The tests that passed both runs, their module, and its coverage of the target."""

    tests: list[RenderedTest]
    code: str
    line_percent: float
    percent: float
    missing_lines: list[int]


def own_version() -> str:
    try:
        return version("codegen-lab-testgen")
    except PackageNotFoundError:  # pragma: no cover (running from a source tree)
        return "0"


def validate(
    project: Project,
    target: Target,
    workdir: Path,
    tests: Sequence[RenderedTest],
    *,
    deadline: float,
    min_seconds: float = 10.0,
) -> Validated:
    """Run the test module twice (different hash seeds, the second under coverage); drop the tests that fail.

    Each run gets the time left until `deadline`, and at least `min_seconds`.

    Raises:
        TestgenOperationError: When the generated module does not even collect.
    """
    kept: list[RenderedTest] = list(tests)
    folder = workdir / "generated"
    folder.mkdir(exist_ok=True)
    path = folder / f"test_{target.alias}_generated.py"
    for _attempt in range(_ATTEMPTS):
        code = format_code(render_module(target.module, target.alias, kept, version=own_version()))
        path.write_text(code, encoding="utf-8")
        if not kept:
            return Validated([], code, 0.0, 0.0, [])
        failing: set[str] = set()
        coverage = {
            "data_file": str(workdir / ".coverage"),
            "json": str(workdir / "coverage.json"),
            "include": [str(target.file)],
        }
        measured = None
        for seed in (0, 1):
            run = project.pytest(
                [str(path)],
                workdir=workdir,
                cwd=folder,
                pythonpath=[target.import_root],
                coverage=coverage if seed else None,
                hash_seed=seed,
                timeout=max(deadline - time.monotonic(), min_seconds),
            )
            for test in run.tests:
                if test.outcome not in {"passed", "xfailed"}:
                    if "::" not in test.nodeid:
                        raise TestgenOperationError(f"the generated tests do not collect: {test.message}\n{code}")
                    failing.add(test.nodeid.rpartition("::")[2].split("[", 1)[0])
            measured = run.coverage
        if not failing:
            files = measured.files if measured is not None else []
            file = files[0] if files else None
            return Validated(
                kept,
                code,
                round(file.line_percent, 2) if file else 0.0,
                file.percent if file else 0.0,
                file.missing_lines if file else [],
            )
        kept = [test for test in kept if test.name not in failing]
    raise TestgenOperationError(f"the generated tests kept failing after {_ATTEMPTS} attempts")
