"""The `testgen` MCP toolkit: generate, run and measure tests from an AI assistant.

Registered under the entry-point group `codegen_lab.toolkits`; the server calls `create_toolkit(context)`.
Paths resolve against the workspace root and may not leave it. The work itself is imported when a tool is
first called, so that starting the server stays as cheap as a bare MCP server.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import anyio.to_thread
from mcp_types import ToolAnnotations
from pydantic import Field

from codegen_lab.common.exports import lazy_exports
from codegen_lab.mcp_core import Context, ServerContext, Toolkit
from codegen_lab.testgen.errors import TestgenUsageError

if TYPE_CHECKING:
    from codegen_lab.testgen._models import BenchReport, CoverageReport, GenerationReport, TestRun

__all__ = ["create_toolkit"]

# The result types are imported when mcp-core first builds the tools' schemas, not when the server starts.
__getattr__, __dir__ = lazy_exports(
    __name__,
    "codegen-lab-testgen",
    dict.fromkeys(("BenchReport", "CoverageReport", "GenerationReport", "TestRun"), "codegen_lab.testgen._models"),
    __all__,
)


Target = Annotated[
    str,
    Field(description="A module name the project's interpreter imports (`package.module`) or a .py file in the root."),
]
Python = Annotated[
    str | None,
    Field(description="The interpreter of the code under test, inside the root (default: .venv/bin/python)."),
]

_INSTRUCTIONS = (
    "Use testgen_generate to write pytest tests for a module (by module name or file path), testgen_run to run "
    "tests and get each outcome, testgen_coverage to see which lines no test runs, testgen_bench to time "
    "functions with pytest-benchmark. Code under test runs in a "
    "sandbox with the project's own interpreter (.venv/bin/python by default)."
)


async def _in_thread[T](work: Callable[[], T]) -> T:
    """Run `work` in a worker thread; cancelling the awaiting task kills the sandboxed processes it started.

    The sandbox sees the cancellation, kills the whole process group (and PID namespace) of its run, and the
    cancellation goes on once the thread has stopped.
    """
    from codegen_lab.testgen._sandbox import cancel_with  # noqa: PLC0415 (the server starts without the sandbox)

    cancel = threading.Event()
    finished = threading.Event()

    def call() -> T:
        try:
            with cancel_with(cancel):
                return work()
        finally:
            finished.set()

    try:
        return await anyio.to_thread.run_sync(call, abandon_on_cancel=True)
    except anyio.get_cancelled_exc_class():
        cancel.set()
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(finished.wait, 60.0)
        raise


def create_toolkit(context: ServerContext) -> Toolkit:
    """The `testgen` toolkit working in `context.root`.

    `testgen_generate(llm=True)` asks the server's model (`context.completer`); without one (as when the toolkit
    is loaded alone), the report says the offline strategies ran alone.
    """
    root = context.root
    toolkit = Toolkit(
        "testgen",
        description="Generate, run and measure pytest tests for Python code, in a sandbox.",
        instructions=_INSTRUCTIONS,
        package="codegen-lab-testgen",
        rate_class="tests",
    )

    def interpreter(python: str | None) -> Path | None:
        """The interpreter the call names, which must lie in the root (a virtual environment's link may not)."""
        if python is None:
            return None
        path = Path(os.path.normpath(root / python))
        if path != root and root not in path.parents:
            raise TestgenUsageError(
                f"python {python!r} is outside the root {root}",
                hint="Pass the interpreter of a virtual environment in the project, such as .venv/bin/python",
            )
        return path

    @toolkit.tool(
        title="Generate tests",
        annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False),
        paths=["target", "out"],
        programs=["python"],
    )
    async def generate(
        target: Target,
        ctx: Context,
        out: Annotated[
            str | None,
            Field(
                description="Folder, relative to the root, to write `test_<module>_generated.py` in; an existing "
                "file is backed up (`codegen-lab undo` restores it). Without it nothing is written and the code is in "
                "the result."
            ),
        ] = None,
        budget: Annotated[float, Field(description="Wall-clock seconds to spend, measuring included.")] = 60.0,
        python: Python = None,
        llm: Annotated[
            bool,
            Field(
                description="Also have the server's LLM write tests for the lines still uncovered (kept on the same "
                "terms); `llm` in the result says what came of it, or that no LLM was available."
            ),
        ] = False,
    ) -> GenerationReport:
        """Generate pytest tests for a module and keep only those that pass twice in a sandbox and add coverage."""
        import anyio.from_thread  # noqa: PLC0415

        from codegen_lab.testgen._generate import generate as run_generate  # noqa: PLC0415
        from codegen_lab.testgen._reports import save_report  # noqa: PLC0415

        def progress(done: float, total: float, what: str) -> None:
            anyio.from_thread.run(ctx.report_progress, round(done, 1), total, what)

        model = context.completer(ctx) if llm else None

        def work() -> GenerationReport:
            report = run_generate(
                target,
                root=root,
                python=interpreter(python),
                out=out,
                budget=budget,
                progress=progress,
                completer=model,
                llm=llm,
                state_dir=context.state_dir,
            )
            save_report(report, root=root, state_dir=context.state_dir)
            return report

        return await _in_thread(work)

    @toolkit.tool(
        title="Run tests",
        annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False),
        paths=["paths"],
        programs=["python"],
    )
    async def run(
        paths: Annotated[
            list[str],
            Field(
                description="Test files, folders or node ids (`tests/test_x.py::test_y`), relative to the root; files "
                "must be test files by pytest's rules (`test_*.py`, `*_test.py`, or the project's `python_files`)."
            ),
        ],
        coverage: Annotated[
            bool, Field(description="Also measure line and branch coverage of the root's code.")
        ] = False,
        python: Python = None,
        timeout: Annotated[  # noqa: ASYNC109 (the sandbox's wall-clock limit, which the runner enforces)
            float,
            Field(description="Wall-clock seconds (at most 3600) before the sandbox stops the run and its processes."),
        ] = 300.0,
    ) -> TestRun:
        """Run tests with pytest in a sandbox and report each test's outcome, message and duration."""
        from codegen_lab.testgen._runner import run_tests  # noqa: PLC0415

        return await _in_thread(
            lambda: run_tests(paths, root=root, python=interpreter(python), coverage=coverage, timeout=timeout)
        )

    @toolkit.tool(
        title="Measure coverage",
        annotations=ToolAnnotations(read_only_hint=False, idempotent_hint=True, open_world_hint=False),
        paths=["paths", "source", "html_dir"],
        programs=["python"],
        revisions=["diff_ref"],
    )
    async def coverage(
        paths: Annotated[list[str], Field(description="Test files or folders to run, relative to the root.")],
        source: Annotated[
            list[str] | None,
            Field(
                description="Files or folders to measure (default: the root, without tests and virtual environments)."
            ),
        ] = None,
        html_dir: Annotated[
            str | None,
            Field(
                description="A new or empty folder, relative to the root, for coverage.py's HTML report (a folder "
                "holding a report testgen wrote is refilled); never the root or a folder holding sources or tests."
            ),
        ] = None,
        diff_ref: Annotated[
            str | None, Field(description="A git ref: also report coverage of the lines changed since it.")
        ] = None,
        python: Python = None,
    ) -> CoverageReport:
        """Line and branch coverage per file, with the lines no test runs."""
        from codegen_lab.testgen._reports import save_report  # noqa: PLC0415
        from codegen_lab.testgen._runner import diff_coverage, measure_coverage  # noqa: PLC0415

        def work() -> CoverageReport:
            report = measure_coverage(
                paths,
                root=root,
                python=interpreter(python),
                source=source or [],
                html_dir=html_dir,
                state_dir=context.state_dir,
            )
            if diff_ref is not None:
                report.diff = diff_coverage(report, diff_ref, root=root)
            save_report(report, root=root, state_dir=context.state_dir)
            return report

        return await _in_thread(work)

    @toolkit.tool(
        title="Benchmark functions",
        annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False),
        paths=["target", "out"],
        programs=["python"],
    )
    async def bench(
        target: Target,
        functions: Annotated[
            list[str] | None,
            Field(description="Functions to time, as `name`, `Class.method` or `Class` (default: every public one)."),
        ] = None,
        out: Annotated[
            str | None,
            Field(
                description="Folder, relative to the root, to write `test_<module>_benchmarks.py` in; an existing "
                "file is kept as a `.bak` backup. Without it nothing is written and the code is in the result."
            ),
        ] = None,
        max_time: Annotated[float, Field(description="Seconds spent timing each function.")] = 0.5,
        python: Python = None,
    ) -> BenchReport:
        """Time functions of a module with generated pytest-benchmark tests, called with inputs known to work."""
        from codegen_lab.testgen._bench import benchmark_functions  # noqa: PLC0415

        def work() -> BenchReport:
            return benchmark_functions(
                target,
                functions=functions or [],
                root=root,
                python=interpreter(python),
                out=out,
                max_time=max_time,
                state_dir=context.state_dir,
            )

        return await _in_thread(work)

    return toolkit
