"""The last check of generated tests: the module they make runs under pytest twice, and what fails is dropped.

The second run has the tests in reverse order.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from codegen_lab.testgen._models import CoverageReport, FileCoverage
from codegen_lab.testgen._render import RenderedTest, format_code
from codegen_lab.testgen._runner import Project, RunTimedOut
from codegen_lab.testgen._target import Target
from codegen_lab.testgen.errors import TestgenOperationError

__all__ = ["Estimate", "Validated", "own_version", "validate"]

logger = logging.getLogger(__name__)

_ATTEMPTS = 3
_LEAST = 1.0
"""Seconds a run still gets when `limit` is (nearly) past: a run that cannot finish is then stopped early."""


Estimate = Callable[[Sequence[RenderedTest]], tuple[float, float, list[int]]]
"""The coverage of the target by some tests, from what the search measured: line %, line and branch %, missing."""


@dataclass(frozen=True, slots=True)
class Validated:
    """The tests that passed both runs, their module, and its coverage of the target."""

    tests: list[RenderedTest]
    code: str
    line_percent: float
    percent: float
    missing_lines: list[int]
    dropped: dict[str, str] = field(default_factory=dict[str, str])
    """Tests dropped by the check, by name: why (`failed under pytest`, `failed in reverse order`, `not re-checked
    in time`)."""
    note: str | None = None
    """When the check ran out of time: what was kept, what was dropped, and where the coverage comes from."""


def own_version() -> str:
    try:
        return version("codegen-lab-testgen")
    except PackageNotFoundError:  # pragma: no cover (running from a source tree)
        return "0"


@dataclass(slots=True)
class _Check:
    """One attempt: the tests that failed, finished and were left unrun, and the coverage measured."""

    failing: set[str] = field(default_factory=set[str])
    reordered: set[str] = field(default_factory=set[str])
    """Those of `failing` that passed the first run and failed with the tests in reverse order: they depend on
    what the tests before them did (or left undone)."""
    passed: set[str] = field(default_factory=set[str])
    stopped: bool = False
    measured: CoverageReport | None = None


def validate(
    project: Project,
    target: Target,
    workdir: Path,
    tests: Sequence[RenderedTest],
    *,
    deadline: float,
    min_seconds: float = 10.0,
    limit: float | None = None,
    estimate: Estimate | None = None,
    render: Callable[[Sequence[RenderedTest]], str],
) -> Validated:
    """Run the test module twice (different hash seeds, the first under coverage); drop the tests that fail.

    The second run has the tests in reverse order: a test that passes in one order and fails in the other depends
    on what the tests before it left behind (a cache, a registry), and a user running it alone, or a subset with
    `-k`, would see it fail.

    Each run gets the time left until `deadline`, at least `min_seconds`, but never past `limit` (a monotonic
    time). A run its time-out stops is no failure: the tests that passed under pytest before it stopped are kept,
    those it never reached are dropped (they could not be re-checked), and the coverage is `estimate`'s (what
    the search measured for the tests kept), as the note says.

    Raises:
        TestgenOperationError: When the generated module does not even collect, or the target file was not
            measured by tests that passed.
    """
    kept: list[RenderedTest] = list(tests)
    dropped: dict[str, str] = {}
    folder = workdir / "generated"
    folder.mkdir(exist_ok=True)
    path = folder / f"test_{target.alias}_generated.py"
    backwards = folder / f"test_{target.alias}_generated_reversed.py"
    for _attempt in range(_ATTEMPTS):
        code = format_code(render(kept))
        path.write_text(code, encoding="utf-8")
        if not kept:
            return Validated([], code, *(estimate([]) if estimate else (0.0, 0.0, [])), dropped=dropped)
        backwards.write_text(render(kept[::-1]), encoding="utf-8")
        check = _check(
            project, target, workdir, (path, backwards), code, deadline=deadline, min_seconds=min_seconds, limit=limit
        )
        for name in check.failing:
            dropped[name] = "failed in reverse order" if name in check.reordered else "failed under pytest"
        if check.stopped and not check.failing and check.measured is not None:
            file = _target_file(check.measured, target)
            note = (
                f"the second run under pytest did not fit in the time left: the {len(kept)} tests passed the "
                "first, which measured the coverage"
            )
            return Validated(kept, code, round(file.line_percent, 2), file.percent, file.missing_lines, dropped, note)
        if check.stopped:
            return _partial(kept, check, dropped, render, estimate)
        if not check.failing:
            file = _target_file(check.measured, target)
            return Validated(
                kept,
                code,
                round(file.line_percent, 2),
                file.percent,
                file.missing_lines,
                dropped=dropped,
            )
        kept = [test for test in kept if test.name not in check.failing]
    raise TestgenOperationError(f"the generated tests kept failing after {_ATTEMPTS} attempts")


def _check(
    project: Project,
    target: Target,
    workdir: Path,
    paths: tuple[Path, Path],
    code: str,
    *,
    deadline: float,
    min_seconds: float,
    limit: float | None,
) -> _Check:
    """Both runs of the module; the second is skipped when the first was stopped.

    `paths` holds the module, then the module with its tests in reverse order.
    """
    check = _Check()
    coverage = {
        "data_file": str(workdir / ".coverage"),
        "json": str(workdir / "coverage.json"),
        "include": [str(target.file)],
    }
    took = 0.0
    for seed, path in enumerate(paths):
        begun = time.monotonic()
        timeout = max(deadline - begun, min_seconds)
        if limit is not None:
            if seed and limit - begun < took:  # the second run cannot finish in time: it is not started
                check.stopped = True
                break
            timeout = min(timeout, max(limit - begun, _LEAST))
        try:
            run = project.pytest(
                [str(path)],
                workdir=workdir,
                cwd=path.parent,
                pythonpath=[target.import_root],
                coverage=None if seed else coverage,
                hash_seed=seed,
                timeout=timeout,
                progress=workdir / "_testgen_progress.jsonl",
                plugins=False,  # generated tests need pytest alone (and hypothesis, imported): a faster start
            )
            outcomes, took = run.tests, time.monotonic() - begun
            if run.coverage is not None:
                check.measured = run.coverage
        except RunTimedOut as stopped:
            logger.info("the final check of the tests ran out of time after %.1f s", timeout)
            outcomes, check.stopped = stopped.finished, True
        passed: set[str] = set()
        for test in outcomes:
            if "::" not in test.nodeid:
                if test.outcome not in {"passed", "xfailed"}:
                    raise TestgenOperationError(f"the generated tests do not collect: {test.message}\n{code}")
                continue
            name = test.nodeid.rpartition("::")[2].split("[", 1)[0]
            if test.outcome in {"passed", "xfailed"}:
                passed.add(name)
            else:
                check.failing.add(name)
                if seed and name in check.passed:
                    check.reordered.add(name)
        check.passed |= passed
        if check.stopped:
            break
    return check


def _partial(
    kept: list[RenderedTest],
    check: _Check,
    dropped: dict[str, str],
    make: Callable[[Sequence[RenderedTest]], str],
    estimate: Estimate | None,
) -> Validated:
    """What a check stopped by its time-out leaves: the tests that passed under pytest, coverage as estimated."""
    verified = [test for test in kept if test.name in check.passed and test.name not in check.failing]
    unchecked = [test.name for test in kept if test.name not in check.passed and test.name not in check.failing]
    for name in unchecked:
        dropped[name] = "not re-checked in time"
    line_percent, percent, missing = estimate(verified) if estimate else (0.0, 0.0, [])
    note = (
        f"the final check under pytest ran out of time: {len(verified)} tests that passed it are kept, "
        f"{len(unchecked)} it did not reach are dropped; coverage is as the search measured it for the tests kept"
    )
    return Validated(verified, format_code(make(verified)), line_percent, percent, missing, dropped=dropped, note=note)


def _target_file(measured: CoverageReport | None, target: Target) -> FileCoverage:
    """The coverage of the target's file; an error when it was not measured (tests that never imported it)."""
    files = measured.files if measured is not None else []
    for file in files:
        if Path(file.path).resolve() == target.file.resolve():
            return file
    if len(files) == 1:
        return files[0]
    raise TestgenOperationError(
        f"coverage of {target.file} was not measured: the generated tests passed without running it "
        f"(was `{target.module}` imported as another object of the same name?)"
    )
