"""testgen: generate, run and measure pytest tests for real Python code, in a sandbox.

The code under test runs in the user's interpreter (`python=`), inside a sandbox (bubblewrap when it is
installed, else resource limits), never in the caller's process. `generate` writes tests that pass twice and
add coverage; `run_tests` reports each test's outcome; `measure_coverage` and `diff_coverage` measure.

Names are imported when first used, so that importing this package stays cheap.
"""

from typing import TYPE_CHECKING

from codegen_lab.common.exports import declared_exports as _declared_exports

if TYPE_CHECKING:
    from codegen_lab.testgen._bench import benchmark_functions as benchmark_functions
    from codegen_lab.testgen._generate import generate as generate
    from codegen_lab.testgen._interpreter import TargetPython as TargetPython, probe_python as probe_python
    from codegen_lab.testgen._models import (
        BenchReport as BenchReport,
        CoverageReport as CoverageReport,
        DiffCoverage as DiffCoverage,
        FileCoverage as FileCoverage,
        FunctionResult as FunctionResult,
        GeneratedTest as GeneratedTest,
        GenerationReport as GenerationReport,
        Mutant as Mutant,
        MutationReport as MutationReport,
        SkippedFunction as SkippedFunction,
        TestOutcome as TestOutcome,
        TestRun as TestRun,
        Timing as Timing,
    )
    from codegen_lab.testgen._mutate import mutation_score as mutation_score
    from codegen_lab.testgen._reports import last_reports as last_reports, save_report as save_report
    from codegen_lab.testgen._runner import (
        diff_coverage as diff_coverage,
        measure_coverage as measure_coverage,
        run_tests as run_tests,
    )
    from codegen_lab.testgen._sandbox import Limits as Limits, Sandbox as Sandbox, SandboxResult as SandboxResult
    from codegen_lab.testgen.errors import (
        MissingToolsError as MissingToolsError,
        TestgenOperationError as TestgenOperationError,
        TestgenUsageError as TestgenUsageError,
    )

__version__: str
"""The installed version of codegen-lab-testgen, read from its metadata when first asked for."""


__getattr__, __dir__ = _declared_exports(__name__, "codegen-lab-testgen")
