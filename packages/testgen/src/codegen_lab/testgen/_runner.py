"""Running tests in the sandbox: per-test outcomes, line and branch coverage, coverage.py's HTML, diff coverage."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Generator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codegen_lab.testgen._collect import require_test_files
from codegen_lab.testgen._interpreter import TargetPython, default_python, probe_python
from codegen_lab.testgen._models import CoverageReport, DiffCoverage, FileCoverage, TestOutcome, TestRun
from codegen_lab.testgen._paths import inside_root, output_folder, replace_folder
from codegen_lab.testgen._sandbox import Limits, Requested, Sandbox
from codegen_lab.testgen.errors import TestgenOperationError, TestgenUsageError

__all__ = ["Project", "RunTimedOut", "diff_coverage", "measure_coverage", "resolve_node", "run_tests"]

logger = logging.getLogger(__name__)

SCRIPTS = Path(__file__).parent / "_scripts"
MAX_TIMEOUT = 3600.0
"""The longest wall-clock timeout a run may ask for, in seconds."""


@dataclass(frozen=True, slots=True)
class Project:
    """Where testgen works: the project root, the target interpreter and the sandbox around it."""

    root: Path
    python: TargetPython
    sandbox: Sandbox

    @classmethod
    def open(
        cls,
        root: Path | str | None = None,
        python: Path | str | None = None,
        *,
        isolation: Requested = "auto",
        limits: Limits | None = None,
        tools: Sequence[str] = ("pytest", "coverage"),
        allow_unsandboxed: bool | None = None,
    ) -> Project:
        """Check the root and the target interpreter (asked in the sandbox), and set up the sandbox.

        `allow_unsandboxed` lets code run with isolation `none` when nothing better works here (default:
        `CODEGEN_LAB_ALLOW_UNSANDBOXED=1`).

        Raises:
            TestgenUsageError: When the root is not a folder, the interpreter does not run or no sandbox may run.
            MissingToolsError: When the interpreter cannot import `tools`.
        """
        base = Path(root if root is not None else Path.cwd()).expanduser().resolve()
        if not base.is_dir():
            raise TestgenUsageError(f"root {str(root)!r} is not an existing folder")
        target = probe_python(
            python if python is not None else default_python(base), allow_unsandboxed=allow_unsandboxed
        )
        target.require(*tools)
        sandbox = Sandbox(
            target,
            read_only=[base],
            limits=limits or Limits(),
            isolation=isolation,
            allow_unsandboxed=allow_unsandboxed,
        )
        sandbox.mode  # noqa: B018 (refuses here, before any work, when no allowed isolation can run)
        return cls(root=base, python=target, sandbox=sandbox)

    @contextmanager
    def workdir(self) -> Generator[Path]:
        """A fresh folder the sandbox may write, removed afterwards."""
        folder = Path(tempfile.mkdtemp(prefix="testgen-"))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def pytest(
        self,
        args: Sequence[str],
        *,
        workdir: Path,
        cwd: Path | None = None,
        coverage: dict[str, Any] | None = None,
        pythonpath: Sequence[Path] = (),
        timeout: float | None = None,
        hash_seed: int = 0,
        first_path: Path | None = None,
        progress: Path | None = None,
    ) -> TestRun:
        """Run pytest with `args` in the sandbox; with `coverage` settings, under coverage.py too.

        `first_path` goes first on `sys.path`, before the working directory (a mutant shadows the original).
        With `progress`, each test's outcome is written there as it ends, and a run stopped by its timeout
        raises `RunTimedOut` with the outcomes of the tests that finished.

        Raises:
            RunTimedOut: When the timeout stopped a run that writes `progress`.
            TestgenOperationError: When a limit stopped the run or pytest did not report.
        """
        script = workdir / "_testgen_run_pytest.py"
        shutil.copyfile(SCRIPTS / "run_pytest.py", script)
        report = workdir / "_testgen_report.json"
        env = {"TESTGEN_REPORT": str(report), "PYTHONHASHSEED": str(hash_seed)}
        if coverage is not None:
            env["TESTGEN_COVERAGE"] = json.dumps(coverage)
        if pythonpath:
            env["PYTHONPATH"] = ":".join(str(path) for path in pythonpath)
        if first_path is not None:
            env["TESTGEN_FIRST_PATH"] = str(first_path)
        if progress is not None:
            progress.unlink(missing_ok=True)
            env["TESTGEN_PROGRESS"] = str(progress)
        pytest_args = ["-p", "no:cacheprovider", "-q", "--no-header", *args]
        result = self.sandbox.run_python(
            [str(script), *pytest_args], workdir=workdir, cwd=cwd or self.root, env=env, timeout=timeout
        )
        reason = result.stop_reason(self.sandbox.limits, self.sandbox.limits.timeout if timeout is None else timeout)
        if reason is not None and result.timed_out and progress is not None:
            raise RunTimedOut(f"the tests {reason}", finished=_finished(progress))
        if reason is not None:
            tail = result.stderr[-2000:].strip()
            raise TestgenOperationError(
                f"the tests {reason} (isolation {result.isolation})" + (f":\n{tail}" if tail else "")
            )
        try:
            data = json.loads(report.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            tail = (result.stderr or result.stdout)[-3000:]
            raise TestgenOperationError(
                f"pytest did not report (exit status {result.returncode}, isolation {result.isolation}):\n{tail}"
            ) from None
        tests = [TestOutcome.model_validate(entry) for entry in data["tests"]]
        measured = None
        if coverage is not None and data.get("measured"):
            measured = _read_coverage(Path(coverage["json"]), html=coverage.get("html"))
        return TestRun(
            tests=tests,
            passed=sum(test.outcome in {"passed", "xfailed"} for test in tests),
            failed=sum(test.outcome in {"failed", "error", "xpassed"} for test in tests),
            skipped=sum(test.outcome == "skipped" for test in tests),
            exit_code=int(data["exit_code"]),
            isolation=result.isolation,
            seconds=result.seconds,
            output=result.stdout[-4000:],
            coverage=measured,
        )


def run_tests(
    paths: Sequence[Path | str],
    *,
    root: Path | str | None = None,
    python: Path | str | None = None,
    coverage: bool = False,
    source: Sequence[Path | str] = (),
    html_dir: Path | str | None = None,
    isolation: Requested = "auto",
    timeout: float = 300.0,
    allow_unsandboxed: bool | None = None,
    state_dir: Path | None = None,
) -> TestRun:
    """Run the tests at `paths` with pytest in the sandbox, with the target interpreter.

    Args:
        paths: Test files or folders (pytest node ids work too), relative to `root` or absolute inside it; each
            file must be a test file by pytest's `python_files` rule (the project's, else `test_*.py`, `*_test.py`).
        root: The project root (default: the current directory); pytest runs there, read-only.
        python: The target interpreter (default: `root/.venv/bin/python`, else the current one).
        coverage: Also measure line and branch coverage of `source`.
        source: Files or folders to measure, those the tests never import included (default: the files under
            the root that the tests import, without the tests and virtual environments; pass the root itself to
            count every file of it).
        html_dir: Where to write coverage.py's HTML report (with `coverage`): a new or empty folder inside the
            root (or one holding a report testgen wrote), never the root or a folder holding sources or tests.
        isolation: `auto` (the strongest that works here), `bubblewrap`, `namespaces`, `uid` or `none`.
        timeout: Wall-clock seconds for the whole run.
        allow_unsandboxed: Whether isolation `none` may run (default: `CODEGEN_LAB_ALLOW_UNSANDBOXED=1`).
        state_dir: Where the journal of the HTML report's change lives (default: the user's state folder).

    Returns:
        Each test's outcome, message and duration, and the coverage when asked.

    Raises:
        TestgenUsageError: When a path is outside the root, missing or not a test file, `html_dir` is not a
            folder testgen may fill, the interpreter does not run, or no allowed sandbox can run here.
        MissingToolsError: When the target interpreter lacks pytest (or coverage, with `coverage`).
        TestgenOperationError: When pytest could not run or did not finish in time.
    """
    if not 0 < timeout <= MAX_TIMEOUT:
        raise TestgenUsageError(
            f"timeout {timeout} is out of range", hint=f"Pass a number of seconds above 0 and at most {MAX_TIMEOUT:.0f}"
        )
    if not paths:
        raise TestgenUsageError("no test paths given", hint="Pass test files or folders, such as `tests`")
    base = Path(root if root is not None else Path.cwd()).expanduser().resolve()
    if not base.is_dir():
        raise TestgenUsageError(f"root {str(root)!r} is not an existing folder")
    targets = [resolve_node(base, path) for path in paths]
    require_test_files(base, targets)
    destination = None
    if html_dir is not None:
        sources = [inside_root(base, item, "source") for item in source]
        tests = [Path(target.partition("::")[0]) for target in targets]
        destination = output_folder(base, html_dir, "html_dir", holds=[*sources, *tests], previous=_is_html_report)
    project = Project.open(
        base,
        python,
        isolation=isolation,
        limits=Limits(timeout=timeout, cpu_seconds=int(timeout) + 10),
        tools=("pytest", "coverage") if coverage or html_dir else ("pytest",),
        allow_unsandboxed=allow_unsandboxed,
    )
    with project.workdir() as workdir:
        settings = None
        if coverage or html_dir:
            settings = _coverage_settings(project.root, workdir, source, tests=targets, html=html_dir is not None)
        run = project.pytest(targets, workdir=workdir, coverage=settings, timeout=timeout)
        if destination is not None and run.coverage is not None and run.coverage.html is not None:
            purpose = f"testgen coverage {html_dir}"
            replace_folder(project.root, destination, Path(run.coverage.html), purpose=purpose, state_dir=state_dir)
            run.coverage.html = str(destination)
    return run


def measure_coverage(
    paths: Sequence[Path | str],
    *,
    root: Path | str | None = None,
    python: Path | str | None = None,
    source: Sequence[Path | str] = (),
    html_dir: Path | str | None = None,
    isolation: Requested = "auto",
    timeout: float = 300.0,
    allow_unsandboxed: bool | None = None,
    state_dir: Path | None = None,
) -> CoverageReport:
    """Line and branch coverage of `source` by the tests at `paths`, per file with the missing lines.

    Args: as `run_tests`.

    Returns:
        The coverage report (its `html` is the HTML report's folder when `html_dir` was given).

    Raises:
        TestgenOperationError: When no test ran, so nothing was measured.
    """
    run = run_tests(
        paths,
        root=root,
        python=python,
        coverage=True,
        source=source,
        html_dir=html_dir,
        isolation=isolation,
        timeout=timeout,
        allow_unsandboxed=allow_unsandboxed,
        state_dir=state_dir,
    )
    if run.coverage is None:
        raise TestgenOperationError(f"nothing was measured: pytest exited with {run.exit_code}\n{run.output}")
    return run.coverage


def diff_coverage(report: CoverageReport, ref: str, *, root: Path | str | None = None) -> DiffCoverage:
    """Coverage of the lines changed since the git `ref` (`git diff ref`), among the measured files.

    Raises:
        TestgenUsageError: When `root` is not in a git repository or `ref` is unknown.
    """
    base = Path(root if root is not None else Path.cwd()).resolve()
    if not ref or ref.startswith("-") or any(ord(character) < 32 for character in ref):
        raise TestgenUsageError(
            f"diff ref {ref!r} is not a git revision", hint="Pass a branch, tag or commit id; it never starts with '-'"
        )
    git = shutil.which("git")
    if git is None:
        raise TestgenUsageError("git is not installed", hint="Install git to measure diff coverage")
    completed = subprocess.run(  # noqa: S603 (git, with the ref as one argument after the options)
        [git, "diff", "--unified=0", "--no-color", "--relative", "--end-of-options", ref, "--", "."],
        cwd=base,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if completed.returncode != 0:
        raise TestgenUsageError(f"git diff against {ref!r} failed in {base}: {completed.stderr.strip()}")
    changed = _changed_lines(completed.stdout)
    total = covered = 0
    missing: dict[str, list[int]] = {}
    for file in report.files:
        relative = _relative(Path(file.path), base)
        lines = changed.get(relative, set())
        if not lines:
            continue
        not_run = set(file.missing_lines)
        executable = lines & (not_run | set(file.executed_lines))
        total += len(executable)
        missed = sorted(executable & not_run)
        covered += len(executable) - len(missed)
        if missed:
            missing[relative] = missed
    percent = round(100.0 * covered / total, 2) if total else 100.0
    return DiffCoverage(ref=ref, changed_lines=total, covered_lines=covered, percent=percent, missing=missing)


def _changed_lines(diff: str) -> dict[str, set[int]]:
    changed: dict[str, set[int]] = {}
    current: str | None = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            target = line[4:]
            current = target[2:] if target.startswith("b/") else None
        elif line.startswith("@@") and current is not None:
            match = re.match(r"@@ -\S+ \+(\d+)(?:,(\d+))? @@", line)
            if match:
                start, count = int(match.group(1)), int(match.group(2) or "1")
                changed.setdefault(current, set()).update(range(start, start + count))
    return changed


def _relative(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base))
    except ValueError:
        return str(path)


class RunTimedOut(TestgenOperationError):
    """A pytest run its timeout stopped: `finished` holds the outcomes of the tests that ended before."""

    def __init__(self, message: str, *, finished: list[TestOutcome]) -> None:
        super().__init__(message)
        self.finished = finished


def _finished(progress: Path) -> list[TestOutcome]:
    """The outcomes `run_pytest.py` wrote line by line; a line cut short by the kill is left out."""
    found: list[TestOutcome] = []
    try:
        lines = progress.read_text(encoding="utf-8").splitlines()
    except OSError:
        return found
    for line in lines:
        try:
            found.append(TestOutcome.model_validate_json(line))
        except ValueError:
            continue
    return found


def resolve_node(root: Path, path: Path | str) -> str:
    """A test path or pytest node id, its file part resolved inside the root."""
    text = str(path)
    file_part, separator, rest = text.partition("::")
    return str(inside_root(root, file_part, "path")) + separator + rest


def _coverage_settings(
    root: Path, workdir: Path, source: Sequence[Path | str], *, tests: Sequence[str], html: bool
) -> dict[str, Any]:
    sources = [str(inside_root(root, item, "source")) for item in source]
    omit = ["*/site-packages/*", "**/site-packages/**", "*/.venv/*", "**/.venv/**", "*/_testgen_*", "**/_testgen_*"]
    for test in tests:
        path = test.partition("::")[0]
        omit += [path, f"{path}/*", f"{path}/**/*"]
    return {
        "data_file": str(workdir / ".coverage"),
        "json": str(workdir / "coverage.json"),
        "html": str(workdir / "htmlcov") if html else None,
        "source": sources or None,
        # No source named: the files under the root that the tests import, not every file of the root at 0%.
        "include": None if sources else [os.path.join(root, "*")],
        "omit": omit,
    }


def _is_html_report(folder: Path) -> bool:
    """Whether `folder` holds only an HTML report of coverage.py (which writes a `.gitignore` saying so)."""
    marker = folder / ".gitignore"
    try:
        if "coverage.py" not in marker.read_text(encoding="utf-8", errors="replace"):
            return False
    except OSError:
        return False
    return all(entry.is_file() and entry.suffix in _REPORT_SUFFIXES for entry in folder.iterdir())


_REPORT_SUFFIXES = frozenset({"", ".html", ".js", ".css", ".png", ".svg", ".json", ".ico"})


def _read_coverage(path: Path, *, html: str | None) -> CoverageReport:
    data = json.loads(path.read_text(encoding="utf-8"))
    files: list[FileCoverage] = []
    for name, entry in sorted(data["files"].items()):
        summary = entry["summary"]
        files.append(
            FileCoverage(
                path=name,
                statements=int(summary["num_statements"]),
                covered_lines=int(summary["covered_lines"]),
                missing_lines=[int(line) for line in entry["missing_lines"]],
                executed_lines=[int(line) for line in entry["executed_lines"]],
                branches=int(summary.get("num_branches", 0)),
                covered_branches=int(summary.get("covered_branches", 0)),
                missing_branches=[(int(a), int(b)) for a, b in entry.get("missing_branches", [])],
                percent=round(float(summary["percent_covered"]), 2),
            )
        )
    totals = data["totals"]
    statements = int(totals["num_statements"])
    line_percent = 100.0 * int(totals["covered_lines"]) / statements if statements else 100.0
    return CoverageReport(
        files=files, percent=round(float(totals["percent_covered"]), 2), line_percent=round(line_percent, 2), html=html
    )
