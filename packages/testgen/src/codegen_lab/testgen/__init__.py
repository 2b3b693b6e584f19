"""testgen: generate, run and measure pytest tests for real Python code, in a sandbox.

The code under test runs in the user's interpreter (`python=`), inside a sandbox (bubblewrap when it is
installed, else resource limits), never in the caller's process. `generate` writes tests that pass twice and
add coverage; `run_tests` reports each test's outcome; `measure_coverage` and `diff_coverage` measure.

Names are imported when first used, so that importing this package stays cheap.
"""

from typing import TYPE_CHECKING

from codegen_lab.common.exports import lazy_exports as _lazy_exports

if TYPE_CHECKING:
    from codegen_lab.testgen._bench import benchmark_functions
    from codegen_lab.testgen._generate import generate
    from codegen_lab.testgen._interpreter import TargetPython, probe_python
    from codegen_lab.testgen._models import (
        BenchReport,
        CoverageReport,
        DiffCoverage,
        FileCoverage,
        GeneratedTest,
        GenerationReport,
        Mutant,
        MutationReport,
        SkippedFunction,
        TestOutcome,
        TestRun,
        Timing,
    )
    from codegen_lab.testgen._mutate import mutation_score
    from codegen_lab.testgen._runner import diff_coverage, measure_coverage, run_tests
    from codegen_lab.testgen._sandbox import Limits, Sandbox, SandboxResult
    from codegen_lab.testgen.errors import MissingToolsError, TestgenOperationError, TestgenUsageError

__version__: str
"""The installed version of codegen-lab-testgen, read from its metadata when first asked for."""

__all__ = [
    "BenchReport",
    "CoverageReport",
    "DiffCoverage",
    "FileCoverage",
    "GeneratedTest",
    "GenerationReport",
    "Limits",
    "MissingToolsError",
    "Mutant",
    "MutationReport",
    "Sandbox",
    "SandboxResult",
    "SkippedFunction",
    "TargetPython",
    "TestOutcome",
    "TestRun",
    "TestgenOperationError",
    "TestgenUsageError",
    "Timing",
    "__version__",
    "benchmark_functions",
    "diff_coverage",
    "generate",
    "measure_coverage",
    "mutation_score",
    "probe_python",
    "run_tests",
]

_HOMES = {
    "benchmark_functions": "codegen_lab.testgen._bench",
    "BenchReport": "codegen_lab.testgen._models",
    "SkippedFunction": "codegen_lab.testgen._models",
    "Timing": "codegen_lab.testgen._models",
    "generate": "codegen_lab.testgen._generate",
    "TargetPython": "codegen_lab.testgen._interpreter",
    "probe_python": "codegen_lab.testgen._interpreter",
    "CoverageReport": "codegen_lab.testgen._models",
    "DiffCoverage": "codegen_lab.testgen._models",
    "FileCoverage": "codegen_lab.testgen._models",
    "GeneratedTest": "codegen_lab.testgen._models",
    "GenerationReport": "codegen_lab.testgen._models",
    "TestOutcome": "codegen_lab.testgen._models",
    "TestRun": "codegen_lab.testgen._models",
    "Mutant": "codegen_lab.testgen._models",
    "MutationReport": "codegen_lab.testgen._models",
    "mutation_score": "codegen_lab.testgen._mutate",
    "diff_coverage": "codegen_lab.testgen._runner",
    "measure_coverage": "codegen_lab.testgen._runner",
    "run_tests": "codegen_lab.testgen._runner",
    "Limits": "codegen_lab.testgen._sandbox",
    "Sandbox": "codegen_lab.testgen._sandbox",
    "SandboxResult": "codegen_lab.testgen._sandbox",
    "MissingToolsError": "codegen_lab.testgen.errors",
    "TestgenOperationError": "codegen_lab.testgen.errors",
    "TestgenUsageError": "codegen_lab.testgen.errors",
}

__getattr__, __dir__ = _lazy_exports(__name__, "codegen-lab-testgen", _HOMES, __all__)
