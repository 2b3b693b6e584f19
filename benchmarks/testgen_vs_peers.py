"""testgen against Hypothesis' ghostwriter on the issue's anchor modules, in one run.

The modules (`boltons.strutils`, `toolz.itertoolz`, `semver.version`) are installed from PyPI into a throwaway
virtual environment, which is also the target interpreter. For each module:

- testgen: `generate(module, budget=B)` (offline), then the kept tests rerun 5 times;
- the baseline, `hypothesis write MODULE` (the ghostwriter), keeping only its passing tests, as the issue says;

and the script prints line and line+branch coverage of the module by the passing tests, tests kept, wall
seconds, tests flaky over 5 reruns, the share of assertions that check a value returned by the code under test,
and the ratio of testgen's line coverage to the ghostwriter's. Pynguin (which needs Python 3.10) and mutmut are
not run here yet; their numbers in the issue were measured elsewhere.

Run: `uv run --all-packages python benchmarks/testgen_vs_peers.py [--budget 90] [--modules semver.version ...]`.
"""

from __future__ import annotations

import argparse
import ast
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from codegen_lab.testgen import generate, run_tests

MODULES = {"boltons.strutils": "boltons", "toolz.itertoolz": "toolz", "semver.version": "semver"}
PYNGUIN_LINE = {"boltons.strutils": 73.0, "toolz.itertoolz": 80.0, "semver.version": 88.0}  # the numbers


@dataclass
class Result:
    tool: str
    module: str
    line: float
    line_branch: float
    tests: int
    seconds: float
    flaky: int
    value_share: float


def uv() -> str:
    beside = Path(sys.executable).parent / "uv"
    return str(beside) if beside.is_file() else (shutil.which("uv") or "uv")


def environment(folder: Path) -> Path:
    subprocess.run([uv(), "venv", "-q", "--python", sys.executable, str(folder / "venv")], check=True)
    python = folder / "venv" / "bin" / "python"
    packages = [*dict.fromkeys(MODULES.values()), "pytest", "coverage", "hypothesis[cli]"]
    subprocess.run([uv(), "pip", "install", "-q", "--python", str(python), *packages], check=True)
    return python


def value_share(code: str) -> float:
    """Share of checks that compare a value returned by a call (not a constant, not only an exception type)."""
    checks = on_values = 0
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Assert):
            checks += 1
            if isinstance(node.test, ast.Compare) and any(
                isinstance(part, ast.Call) for part in ast.walk(node.test.left)
            ):
                on_values += 1
        elif isinstance(node, ast.With) and "raises" in ast.unparse(node.items[0].context_expr):
            checks += 1
    return round(100.0 * on_values / checks, 1) if checks else 0.0


def reruns(root: Path, python: Path, test_file: Path, times: int = 5) -> tuple[list[str], int]:
    """The tests that passed every one of `times` runs, and how many changed outcome between runs."""
    outcomes: dict[str, set[str]] = {}
    for _ in range(times):
        for test in run_tests([str(test_file)], root=root, python=python).tests:
            outcomes.setdefault(test.nodeid, set()).add(test.outcome)
    passing = [nodeid for nodeid, seen in outcomes.items() if seen == {"passed"}]
    flaky = sum(1 for seen in outcomes.values() if len(seen) > 1)
    return passing, flaky


def module_file(python: Path, module: str) -> Path:
    probe = f"import importlib.util; print(importlib.util.find_spec({module!r}).origin)"
    return Path(subprocess.run([str(python), "-c", probe], capture_output=True, text=True, check=True).stdout.strip())


def coverage_of(root: Path, python: Path, nodeids: list[str], source: Path) -> tuple[float, float]:
    """Line and line+branch coverage of `source` by the passing tests, measured by coverage.py directly."""
    if not nodeids:
        return 0.0, 0.0
    data = root / ".coverage-bench"
    command = [str(python), "-m", "coverage", "run", f"--data-file={data}", "--branch", f"--include={source}"]
    tests = ["-m", "pytest", "-q", "-p", "no:cacheprovider", *nodeids]
    subprocess.run([*command, *tests], cwd=root, capture_output=True, check=False)
    out = root / "coverage-bench.json"
    subprocess.run(
        [str(python), "-m", "coverage", "json", f"--data-file={data}", "-o", str(out)],
        cwd=root,
        capture_output=True,
        check=False,
    )
    totals = json.loads(out.read_text(encoding="utf-8"))["totals"]
    line = 100.0 * totals["covered_lines"] / totals["num_statements"] if totals["num_statements"] else 0.0
    return round(line, 1), round(float(totals["percent_covered"]), 1)


def run_testgen(root: Path, python: Path, module: str, budget: float) -> Result:
    started = time.monotonic()
    report = generate(module, root=root, python=python, out=f"testgen_{module.replace('.', '_')}", budget=budget)
    seconds = time.monotonic() - started
    assert report.test_file is not None
    passing, flaky = reruns(root, python, Path(report.test_file))
    line, both = coverage_of(root, python, passing, module_file(python, module))
    return Result("testgen", module, line, both, len(passing), round(seconds, 1), flaky, value_share(report.code))


def run_ghostwriter(root: Path, python: Path, module: str) -> Result:
    folder = root / f"ghost_{module.replace('.', '_')}"
    folder.mkdir()
    started = time.monotonic()
    written = subprocess.run(
        [str(python.parent / "hypothesis"), "write", module], capture_output=True, text=True, timeout=300, check=False
    )
    seconds = time.monotonic() - started
    test_file = folder / "test_ghost.py"
    test_file.write_text(written.stdout, encoding="utf-8")
    passing, flaky = reruns(root, python, test_file)
    line, both = coverage_of(root, python, passing, module_file(python, module))
    share = value_share(written.stdout)
    return Result("ghostwriter", module, line, both, len(passing), round(seconds, 1), flaky, share)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=90.0)
    parser.add_argument("--modules", nargs="*", default=list(MODULES))
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="testgen-bench-") as folder:
        root = Path(folder)
        root.chmod(0o755)
        python = environment(root)
        results: list[Result] = []
        for module in arguments.modules:
            results.append(run_ghostwriter(root, python, module))
            results.append(run_testgen(root, python, module, arguments.budget))
            print(json.dumps(results[-2].__dict__), json.dumps(results[-1].__dict__), flush=True)
    print()
    print("| module | tool | line % | line+branch % | tests kept | wall s | flaky /5 | value asserts % |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for result in results:
        print(
            f"| {result.module} | {result.tool} | {result.line} | {result.line_branch} | {result.tests} | "
            f"{result.seconds} | {result.flaky} | {result.value_share} |"
        )
    print()
    for module in arguments.modules:
        ours = next(r for r in results if r.module == module and r.tool == "testgen")
        ghost = next(r for r in results if r.module == module and r.tool == "ghostwriter")
        ratio = ours.line / ghost.line if ghost.line else float("inf")
        print(
            f"{module}: testgen/ghostwriter line coverage {ratio:.2f}x (+{ours.line - ghost.line:.1f} points); "
            f"testgen - Pynguin (issue's number) {ours.line - PYNGUIN_LINE[module]:+.1f} points; "
            f"wall {ours.seconds:.0f} s of a {arguments.budget:.0f} s budget"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
