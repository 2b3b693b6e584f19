"""The `testgen` commands: `codegen-lab testgen ...`, also installed as `codegen-lab-testgen`.

Every command that reports takes `--format json`; long work shows a progress bar on stderr.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Generator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click

if TYPE_CHECKING:
    from rich.progress import Progress

from codegen_lab.common.cli import HostContext, format_option, reported_errors, root_option

if TYPE_CHECKING:
    from codegen_lab.llm import Completer
    from codegen_lab.testgen._models import (
        CoverageReport,
        FunctionResult,
        GenerationReport,
        ModelTestsReport,
        MutationReport,
    )
    from codegen_lab.testgen._sandbox import Requested

    ModelOffer = Callable[[Path | None], AbstractContextManager[Completer | None]]

__all__ = ["cli", "main"]

_ISOLATION = click.Choice(["auto", "bubblewrap", "namespaces", "uid", "none"])


_reported_errors = reported_errors


def _common[F: Callable[..., Any]](fn: F) -> F:
    fn = format_option()(fn)
    fn = click.option(
        "--isolation",
        type=_ISOLATION,
        default="auto",
        show_default=True,
        help="The strongest that works here (none: only with CODEGEN_LAB_ALLOW_UNSANDBOXED=1).",
    )(fn)
    fn = click.option(
        "--python",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="The interpreter of the code under test (default: ROOT/.venv/bin/python, else this one).",
    )(fn)
    return root_option("The project root (default: the current directory).")(fn)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
def cli() -> None:
    """Generate, run and measure pytest tests for Python code, in a sandbox."""


@cli.command()
@click.argument("target")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("tests"),
    show_default=True,
    help="Folder (inside the root) to write test_<module>_generated.py in; an existing one is backed up (undo).",
)
@click.option("--budget", type=click.FloatRange(min=1), default=60.0, show_default=True, help="Wall-clock seconds.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the input choices.")
@click.option("--print", "print_code", is_flag=True, help="Print the tests instead of writing them.")
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
@click.option(
    "--llm",
    is_flag=True,
    help="Also have the LLM write tests for the uncovered lines (as `codegen-lab testgen`, with an LLM configured).",
)
@_common
def generate(
    target: str,
    out: Path,
    budget: float,
    seed: int,
    print_code: bool,
    quiet: bool,
    llm: bool,
    root: Path | None,
    python: Path | None,
    isolation: Requested,
    output_format: str,
) -> None:
    """Generate tests for TARGET, a module name or a .py file, keeping those that pass twice and add coverage."""
    from codegen_lab.testgen._generate import generate as run_generate  # noqa: PLC0415

    host = click.get_current_context().find_object(HostContext)
    offer: ModelOffer | None = host.model if host is not None else None
    with (
        _reported_errors(),
        offer(root) if llm and offer is not None else nullcontext() as completer,
        _progress(f"testgen {target}", budget, quiet=quiet) as advance,
    ):
        report = run_generate(
            target,
            root=root,
            python=python,
            out=None if print_code else out,
            budget=budget,
            isolation=isolation,
            progress=advance,
            seed=seed,
            completer=completer,
            llm=llm,
        )
        _keep(report, root)
    if output_format == "json":
        click.echo(report.model_dump_json(indent=2))
        return
    if print_code:
        click.echo(report.code, nl=False)
    summary = (
        f"{len(report.tests)} tests kept of {report.candidates} candidates in {report.rounds} rounds, "
        f"{report.seconds:.1f} s ({report.stopped}); {report.target}: {report.line_percent:.1f}% of lines, "
        f"{report.percent:.1f}% of lines and branches; isolation: {report.isolation}"
    )
    click.echo(summary, err=print_code)
    if report.note:
        click.echo(f"partial: {report.note}", err=print_code)
    if report.llm is not None:
        click.echo(_model_summary(report.llm), err=print_code)
    for function in report.functions:
        click.echo(f"  {_function_summary(function)}", err=print_code)
    if report.test_file:
        click.echo(
            f"written: {report.test_file}" + (f" (previous content in {report.backup})" if report.backup else "")
        )


def _function_summary(function: FunctionResult) -> str:
    """`parse: 12 tried, 3 kept; dropped: 5 raised, 4 no new line`, or why it was not called."""
    if function.skipped:
        return f"{function.function}: not called: {function.skipped}"
    text = f"{function.function}: {function.tried} tried, {function.kept} kept"
    if function.dropped:
        text += "; dropped: " + ", ".join(f"{count} {reason}" for reason, count in function.dropped.items())
    return text


class _Phases:
    """Progress as lines on stderr, one per phase, for output that is no terminal (a log, a CI job)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.last = ""

    def __call__(self, done: float, total: float, what: str) -> None:
        if what != self.last:
            self.last = what
            click.echo(f"{self.label}: {what} ({done:.0f} of {total:.0f} s)", err=True)


@contextmanager
def _progress(label: str, total: float, *, quiet: bool) -> Generator[Callable[[float, float, str], None]]:
    """A progress callback: a bar on a terminal (moving with the clock between reports), lines otherwise."""
    if quiet:
        yield lambda _done, _total, _what: None
        return
    if not sys.stderr.isatty():
        yield _Phases(label)
        return
    from rich.console import Console  # noqa: PLC0415
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: PLC0415

    started = time.monotonic()
    stop = threading.Event()
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=Console(stderr=True), transient=True
    ) as bar:
        task = bar.add_task(label, total=total)

        def tick() -> None:  # the bar follows the clock while a long step (analysis, a run) reports nothing
            while not stop.wait(0.5):
                bar.update(task, completed=min(time.monotonic() - started, total))

        ticker = threading.Thread(target=tick, daemon=True)
        ticker.start()
        try:
            yield lambda done, _total, what: bar.update(task, completed=min(done, total), description=what)
        finally:
            stop.set()
            ticker.join(timeout=5)


def _model_summary(model: ModelTestsReport) -> str:
    if not model.used:
        return f"llm: {model.note}"
    text = (
        f"llm: {model.proposed} tests proposed in {model.prompts} prompts; dropped: {model.malformed} malformed, "
        f"{model.failed} failed ({model.retried} sent back), {model.no_gain} added nothing; {model.kept} kept"
    )
    return f"{text} ({model.note})" if model.note else text


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--coverage", "with_coverage", is_flag=True, help="Also measure line and branch coverage.")
@click.option("--timeout", type=click.FloatRange(min=1), default=300.0, show_default=True, help="Wall-clock seconds.")
@click.option("--verbose", "-v", is_flag=True, help="List every test, not only those that did not pass.")
@_common
def run(
    paths: tuple[str, ...],
    with_coverage: bool,
    timeout: float,
    verbose: bool,
    root: Path | None,
    python: Path | None,
    isolation: Requested,
    output_format: str,
) -> None:
    """Run the tests at PATHS in the sandbox and report each test's outcome (exit 1 when any fails)."""
    from codegen_lab.testgen._runner import run_tests  # noqa: PLC0415

    with _reported_errors():
        result = run_tests(
            list(paths), root=root, python=python, coverage=with_coverage, isolation=isolation, timeout=timeout
        )
    if output_format == "json":
        click.echo(result.model_dump_json(indent=2))
    else:
        for test in result.tests:  # the tests that did not pass; --verbose: every test
            if verbose or test.outcome not in {"passed", "xfailed"}:
                line = f"{test.outcome.upper():8} {test.nodeid} ({test.duration:.3f} s)"
                message = test.message.splitlines()[0] if test.message and test.outcome != "passed" else ""
                click.echo(line + (f"\n         {message}" if message else ""))
        click.echo(
            f"{result.passed} passed, {result.failed} failed, {result.skipped} skipped in {result.seconds:.1f} s "
            f"(isolation: {result.isolation})"
        )
        if result.coverage is not None:
            _print_coverage(result.coverage.model_dump())
    if result.failed or result.exit_code not in {0, 5}:
        sys.exit(1)


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--source",
    multiple=True,
    help="File or folder to measure, unimported files too; repeat for several (default: what the tests import).",
)
@click.option("--html", "html_dir", default=None, help="Folder (inside the root) for coverage.py's HTML report.")
@click.option("--diff", "diff_ref", default=None, help="Also report coverage of the lines changed since this git ref.")
@_common
def coverage(
    paths: tuple[str, ...],
    source: tuple[str, ...],
    html_dir: str | None,
    diff_ref: str | None,
    root: Path | None,
    python: Path | None,
    isolation: Requested,
    output_format: str,
) -> None:
    """Line and branch coverage of the code by the tests at PATHS, per file with the missing lines."""
    from codegen_lab.testgen._runner import diff_coverage, measure_coverage  # noqa: PLC0415

    with _reported_errors():
        report = measure_coverage(
            list(paths), root=root, python=python, source=list(source), html_dir=html_dir, isolation=isolation
        )
        if diff_ref is not None:
            report.diff = diff_coverage(report, diff_ref, root=root)
        _keep(report, root)
    if output_format == "json":
        click.echo(report.model_dump_json(indent=2))
        return
    _print_coverage(report.model_dump())


@cli.command()
@click.argument("target")
@click.argument("tests", nargs=-1, required=True)
@click.option(
    "--max-mutants", type=click.IntRange(min=1), default=40, show_default=True, help="Spread over the module."
)
@click.option(
    "--engine",
    type=click.Choice(["mutmut", "builtin"]),
    default="mutmut",
    show_default=True,
    help="mutmut (testgen's own mutator when the interpreter lacks it), or testgen's own.",
)
@_common
def mutate(
    target: str,
    tests: tuple[str, ...],
    max_mutants: int,
    engine: Literal["mutmut", "builtin"],
    root: Path | None,
    python: Path | None,
    isolation: Requested,
    output_format: str,
) -> None:
    """Mutation score of the TESTS on TARGET: the share of small changes to the code that some test notices."""
    from codegen_lab.testgen._mutate import mutation_score  # noqa: PLC0415

    with _reported_errors(), _spinner() as bar:
        task = bar.add_task(f"mutating {target}", total=None)
        report = mutation_score(
            list(tests),
            target,
            root=root,
            python=python,
            max_mutants=max_mutants,
            engine=engine,
            isolation=isolation,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
        _keep(report, root)
    if output_format == "json":
        click.echo(report.model_dump_json(indent=2))
        return
    if report.note:
        click.echo(f"note: {report.note}", err=True)
    for mutant in report.mutants:
        if not mutant.killed:
            named = f" ({mutant.name})" if mutant.name else ""
            click.echo(f"{mutant.status or 'survived'}: line {mutant.line}: {mutant.change}{named}")
    click.echo(
        f"{report.target}: {report.killed} of {report.killed + report.survived} mutants checked killed "
        f"({report.timeout} by timeout; {report.unchecked} no test ran; {report.generated} made), "
        f"score {report.score:.1f}% ({report.engine}, {report.seconds:.1f} s, "
        f"isolation: {report.isolation})"
    )


@cli.command()
@click.argument("target")
@click.option(
    "--function",
    "functions",
    multiple=True,
    help="Function to time: NAME, Class.method or Class; repeat for several (default: every public one).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("benchmarks"),
    show_default=True,
    help="Folder (inside the root) to write test_<module>_benchmarks.py in; an existing file is kept as .bak.",
)
@click.option("--print", "print_code", is_flag=True, help="Print the benchmark tests instead of writing them.")
@click.option(
    "--max-time", type=click.FloatRange(min=0.01), default=0.5, show_default=True, help="Seconds per function."
)
@_common
def bench(
    target: str,
    functions: tuple[str, ...],
    out: Path,
    print_code: bool,
    max_time: float,
    root: Path | None,
    python: Path | None,
    isolation: Requested,
    output_format: str,
) -> None:
    """Time functions of TARGET with generated pytest-benchmark tests, called with inputs known to work."""
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    from codegen_lab.testgen._bench import benchmark_functions  # noqa: PLC0415

    with _reported_errors(), _spinner() as bar:
        bar.add_task(f"benchmarking {target}", total=None)
        report = benchmark_functions(
            target,
            functions=list(functions),
            root=root,
            python=python,
            out=None if print_code else out,
            max_time=max_time,
            isolation=isolation,
        )
    if output_format == "json":
        click.echo(report.model_dump_json(indent=2))
        return
    if print_code:
        click.echo(report.code, nl=False)
    table = Table(title_justify="left")
    for column in ("function", "call", "min", "median", "mean", "stddev", "rounds"):
        table.add_column(column, justify="left" if column in {"function", "call"} else "right")
    for timing in report.timings:
        seconds = (timing.min, timing.median, timing.mean, timing.stddev)
        table.add_row(timing.function, timing.call, *(_duration(value) for value in seconds), str(timing.rounds))
    console = Console(stderr=print_code)
    console.print(table)
    for skipped in report.skipped:
        console.print(f"not timed: {skipped.function}: {skipped.reason}")
    console.print(f"{len(report.timings)} functions timed in {report.seconds:.1f} s (isolation: {report.isolation})")
    if report.test_file:
        console.print(
            f"written: {report.test_file}" + (f" (previous content in {report.backup})" if report.backup else "")
        )


def _keep(report: GenerationReport | CoverageReport | MutationReport, root: Path | None) -> None:
    """Keep `report` as the project's latest of its kind (the dashboard's Tests view reads it)."""
    from codegen_lab.testgen._reports import save_report  # noqa: PLC0415

    save_report(report, root=root, state_dir=None)


def _spinner() -> Progress:
    """A progress display on stderr that goes away when done."""
    from rich.console import Console  # noqa: PLC0415
    from rich.progress import Progress  # noqa: PLC0415

    return Progress(console=Console(stderr=True), transient=True)


def _duration(seconds: float) -> str:
    """Seconds in the unit that reads best: `1.23 µs`, `4.56 ms`."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _print_coverage(report: dict[str, Any]) -> None:
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    table = Table(title_justify="left")
    for column in ("file", "statements", "missed", "branches", "partial", "cover", "missing lines"):
        table.add_column(column, justify="left" if column in {"file", "missing lines"} else "right")
    for file in report["files"]:
        table.add_row(
            file["path"],
            str(file["statements"]),
            str(len(file["missing_lines"])),
            str(file["branches"]),
            str(file["branches"] - file["covered_branches"]),
            f"{file['percent']:.1f}%",
            _ranges(file["missing_lines"]),
        )
    console = Console()
    console.print(table)
    console.print(f"total: {report['percent']:.1f}% of lines and branches, {report['line_percent']:.1f}% of lines")
    if report.get("html"):
        console.print(f"HTML report: {report['html']}")
    diff = report.get("diff")
    if diff:
        console.print(
            f"changed since {diff['ref']}: {diff['covered_lines']} of {diff['changed_lines']} lines run "
            f"({diff['percent']:.1f}%)"
        )
        for path, lines in diff["missing"].items():
            console.print(f"  not run: {path} {_ranges(lines)}")


def _ranges(lines: list[int]) -> str:
    """`[1, 2, 3, 7]` as `1-3, 7`."""
    parts: list[str] = []
    start = previous = None
    for line in [*sorted(lines), None]:
        if line is not None and previous is not None and line == previous + 1:
            previous = line
            continue
        if start is not None:
            parts.append(str(start) if start == previous else f"{start}-{previous}")
        start = previous = line
    return ", ".join(parts)


def main() -> None:
    """Run the `codegen-lab-testgen` command."""
    cli(prog_name="codegen-lab-testgen")
