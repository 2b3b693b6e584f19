"""What testgen reports: plain pydantic models, the same for the library, `--format json` and the MCP tools."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from codegen_lab.common.results import Result

__all__ = [
    "BenchReport",
    "CoverageReport",
    "DiffCoverage",
    "FileCoverage",
    "GeneratedTest",
    "GenerationReport",
    "ModelTestsReport",
    "Mutant",
    "MutationReport",
    "SkippedFunction",
    "TestOutcome",
    "TestRun",
    "Timing",
]

Outcome = Literal["passed", "failed", "skipped", "error", "xfailed", "xpassed"]
IsolationName = Literal["bubblewrap", "namespaces", "uid", "none"]


class TestOutcome(Result):
    """One test's result."""

    __test__ = False  # not a pytest test class, whatever its name

    nodeid: str
    """pytest's id of the test: `tests/test_x.py::test_name`."""
    outcome: Outcome
    """`passed`, `failed`, `skipped`, `error`, `xfailed` or `xpassed`."""
    message: str = ""
    """For a test that did not pass: the failure, short (the assertion or the exception)."""
    duration: float
    """Seconds the test took (setup, call and teardown)."""


class FileCoverage(Result):
    """Line and branch coverage of one file."""

    path: str
    """The file, relative to the project root."""
    statements: int
    """Executable lines."""
    covered_lines: int
    """Executable lines that ran."""
    missing_lines: list[int]
    """Executable lines that never ran."""
    executed_lines: list[int] = Field(default_factory=list[int], exclude=True, repr=False)
    """Lines that ran (kept for the tools that merge runs, not in the JSON)."""
    branches: int
    """Branches (each way out of a decision)."""
    covered_branches: int
    """Branches taken."""
    missing_branches: list[tuple[int, int]]
    """Branches never taken, as (from line, to line); a negative line is an exit from the function."""
    percent: float
    """Line and branch coverage together, as coverage.py counts it."""

    @property
    def line_percent(self) -> float:
        """Line coverage alone, in percent."""
        return 100.0 * self.covered_lines / self.statements if self.statements else 100.0


class DiffCoverage(Result):
    """Coverage of the lines changed since a git ref."""

    ref: str
    """The git ref the changes are counted from."""
    changed_lines: int
    """Changed executable lines."""
    covered_lines: int
    """Changed executable lines that ran."""
    percent: float
    """Changed executable lines that ran, in percent."""
    missing: dict[str, list[int]] = Field(default_factory=dict)
    """Per file, the changed lines that no test runs."""


class CoverageReport(Result):
    """Coverage of the measured files."""

    files: list[FileCoverage]
    """Each measured file."""
    percent: float
    """Line and branch coverage of all files together."""
    line_percent: float
    """Line coverage alone, of all files together."""
    html: str | None = None
    """Folder of coverage.py's HTML report, when one was asked for."""
    diff: DiffCoverage | None = None
    """Coverage of the lines changed since a git ref, when one was asked for."""


class TestRun(Result):
    """The result of running tests in the sandbox."""

    __test__ = False

    tests: list[TestOutcome]
    """Each test and its outcome."""
    passed: int
    """Tests that passed."""
    failed: int
    """Tests that failed or errored."""
    skipped: int
    """Tests skipped."""
    exit_code: int
    """pytest's exit code (0: all passed, 1: some failed, 5: no tests collected)."""
    isolation: IsolationName
    """Which sandbox ran: `bubblewrap` (namespaces, read-only file system, no network, another uid), `namespaces`
    (the same made with util-linux), `uid` (another uid only) or `none` (limits only, when the user allowed it)."""
    seconds: float
    """How long the run took."""
    output: str = ""
    """The end of pytest's output, for when the tests could not even be collected."""
    coverage: CoverageReport | None = None
    """Coverage of the measured files, when asked for."""


class SkippedFunction(Result):
    """A chosen function that was not benchmarked, and why."""

    function: str
    """The function or method."""
    reason: str
    """Why it was left out."""


class FunctionResult(Result):
    """What became of one function's candidates: how many were tried, kept, and dropped for which reason."""

    function: str
    """The function, method or class (`(module docstring)` for the module's own examples)."""
    tried: int
    """Candidate calls (and docstring examples) of it that ran in the sandbox or were left for lack of time."""
    kept: int
    """Tests of it in the generated module."""
    dropped: dict[str, int] = Field(default_factory=dict[str, int])
    """Candidates dropped, by reason: `raised`, `flaky or depends on the calls before it, HOME, the temp or working
    folder`, `no new line`, `timed out`, `side effect: ...`, `result not checkable`, `setup raised`, `doctest
    failed`, `failed under pytest`, `failed in reverse order`, `not re-checked in time`, `out of time` (not run:
    the budget was spent)."""
    skipped: str | None = None
    """Why it was never called (it reads the clock, ...; or no input could be built for it)."""


class GeneratedTest(Result):
    """One test testgen kept."""

    __test__ = False

    name: str
    """The test function."""
    kind: Literal["doctest", "example", "exception", "property", "model"]
    """`model`: written by the LLM (and kept, like the others, because it passed twice and added coverage)."""
    target: str
    """The function, class or method it tests (for a `model` test: its name as the model wrote it)."""
    new_lines: int = 0
    """Lines (and branches) it covered that no test kept before it did."""


class ModelTestsReport(Result):
    """What the model's tests came to, when one was asked for (`llm`)."""

    used: bool
    """Whether a model was there to ask; when not, the offline strategies ran alone and `note` says so."""
    note: str = ""
    """Why the model was not asked, or stopped being asked, when it was."""
    prompts: int = 0
    """Prompts sent, retries included."""
    proposed: int = 0
    """Test functions the model wrote (and pieces of its answers that held none)."""
    malformed: int = 0
    """Dropped without running: did not parse, defined no test, or imported or called what is not allowed."""
    failed: int = 0
    """Failed in the sandbox (in either of the two runs, or in the last check of the whole module)."""
    retried: int = 0
    """Failing tests sent back to the model once, with their failure."""
    no_gain: int = 0
    """Passed twice but ran nothing that the tests kept before them did not."""
    kept: int = 0
    """In the generated module."""


class GenerationReport(Result):
    """The result of `generate`."""

    target: str
    """The module tested."""
    source: str
    """Its file."""
    test_file: str | None
    """Where the tests were written (None: not written, see `code`)."""
    backup: str | None = None
    """When `test_file` existed before: where its previous content is kept (`codegen-lab undo` restores it)."""
    tests: list[GeneratedTest]
    """The tests kept, in the order they were kept."""
    candidates: int
    """Candidate tests tried."""
    rounds: int
    """Rounds of the coverage-guided loop."""
    line_percent: float
    """Line coverage of the target by the kept tests."""
    percent: float
    """Line and branch coverage of the target by the kept tests, measured by running them under pytest."""
    missing_lines: list[int]
    """Lines of the target no kept test runs."""
    isolation: IsolationName
    """Which sandbox ran the tests."""
    seconds: float
    """How long the generation took."""
    stopped: Literal["budget", "no-improvement", "complete"]
    """Why the loop ended: the budget was spent, a round added nothing, or every line is covered."""
    code: str
    """The generated test module."""
    llm: ModelTestsReport | None = None
    """When tests from a model were asked for: how many it proposed, how many were dropped and why, kept."""
    avoided: list[SkippedFunction] = Field(default_factory=list[SkippedFunction])
    """Functions no example test calls, because a test of them would depend on the clock or randomness (found
    statically, see the side effects of the analysis). Calls that use the network,
    run other programs or write outside their folders are stopped as they try, and dropped (see `functions`)."""
    functions: list[FunctionResult] = Field(default_factory=list[FunctionResult])
    """Per function: candidates tried, tests kept, and why the others were dropped or the function skipped."""
    note: str | None = None
    """When the result is partial (the final check ran out of time): what was kept and what was dropped."""


class Mutant(Result):
    """One small change to the code under test."""

    line: int
    """The line of the original module it changes (0 when it could not be told)."""
    change: str
    """What was changed, such as `== -> !=`."""
    killed: bool
    """Whether some test failed with the change in place (or it timed out or crashed), as it should."""
    status: str = ""
    """mutmut's word for it (`killed`, `survived`, `timeout`, `no tests`, `suspicious`, ...); the built-in
    engine says `killed` or `survived`."""
    name: str | None = None
    """mutmut's name of the mutant (`mutmut show NAME` shows its diff), with the mutmut engine."""


class MutationReport(Result):
    """How many small changes to the code the tests notice: a suite that asserts real behaviour kills most."""

    target: str
    """The module mutated."""
    engine: Literal["mutmut", "builtin"]
    """Which mutator made the mutants: mutmut, or testgen's own AST mutator."""
    note: str | None = None
    """Why the engine asked for did not run, when testgen fell back to its own mutator."""
    mutants: list[Mutant]
    """The mutants run (at most `max_mutants`, spread over the module)."""
    generated: int = 0
    """Mutants the engine could make in all."""
    killed: int
    """Mutants detected: some test failed, or the run timed out or crashed."""
    survived: int = 0
    """Mutants the tests ran and did not notice."""
    unchecked: int = 0
    """Mutants no test ran (`no tests`: in code no test runs; `not checked`, ...): outside the score."""
    timeout: int = 0
    """Of the killed, those detected by a timeout."""
    score: float
    """Killed (timeouts included) over killed and survived, in percent: mutants no test ran do not count."""
    isolation: IsolationName
    """Which sandbox ran the tests."""
    seconds: float
    """How long the mutation run took."""


class Timing(Result):
    """How long one call of a function took, as pytest-benchmark measured it (seconds)."""

    function: str
    """The function or method, as `name` or `Class.method`."""
    call: str
    """The call that was timed, as the benchmark test writes it."""
    test: str
    """The benchmark test's name."""
    min: float
    """The fastest call."""
    median: float
    """The median call."""
    mean: float
    """The mean call."""
    stddev: float
    """The standard deviation of the calls."""
    rounds: int
    """Rounds measured (each of `iterations` calls)."""
    iterations: int
    """Calls per round."""


class BenchReport(Result):
    """The result of `benchmark_functions`: per function, the timings of calls known to work."""

    target: str
    """The module benchmarked."""
    timings: list[Timing]
    """Each timed call."""
    skipped: list[SkippedFunction] = Field(default_factory=list[SkippedFunction])
    """Functions not benchmarked, and why."""
    test_file: str | None
    """Where the benchmark tests were written (None: not written, see `code`)."""
    backup: str | None = None
    """When `test_file` existed before: where its previous content was moved."""
    code: str
    """The benchmark test module."""
    isolation: IsolationName
    """Which sandbox ran the benchmarks."""
    seconds: float
    """How long the benchmarking took."""
