"""testgen against Hypothesis' ghostwriter and Pynguin on modules chosen by a rule, in one run.

The modules are those of `testgen_modules.txt`, chosen by `testgen_modules.py`'s rule (pure-Python modules of
150-600 lines from the most downloaded PyPI packages, one per package) before anything was measured. Their
packages are installed from PyPI into a throwaway virtual environment, which is also the target interpreter.
For each module:

- testgen: `generate(module, budget=B)` (offline), then the kept tests rerun 5 times;
- the baseline, `hypothesis write MODULE` (the ghostwriter), keeping only its passing tests, as the issue says:
  each test goes in a module of its own (with the file's imports), so that one whose strategy does not even
  build (the ghostwriter names helpers it does not import) fails alone, runs alone in the sandbox with no
  Hypothesis deadline and `--ghost-test-seconds` per test (pytest-timeout), and those that pass are rerun;
- the anchor, Pynguin 0.48 (DynaMOSA, `--maximum-search-time 60`, `PYNGUIN_DANGER_AWARE=1`) in a second
  throwaway environment on Python 3.10, which it needs: found with `uv python find 3.10`, else pyenv's. When no
  Python 3.10 is found or Pynguin does not install, the table says so.

The script prints line and line+branch coverage of the module by the passing tests, tests kept, wall seconds,
tests flaky over 5 reruns, the share of assertions that check a value returned by the code under test, the
mutation score of the passing tests (mutmut, through `mutation_score`, at most `--mutants` mutants spread over
the module), testgen's line coverage against the others', and the median and worst module of each tool. Each
row is also appended to `--results` (JSON lines) as it is measured, so a run stopped early still has a table
(`--table-only` prints it from that file).

Run: `uv run --all-packages python benchmarks/testgen_vs_peers.py [--budget 90] [--modules MODULE ...]
[--mutants 60] [--no-pynguin] [--tools testgen ...] [--results FILE]`.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from codegen_lab.testgen import TestgenOperationError, generate, mutation_score, run_tests

MODULES_FILE = Path(__file__).with_name("testgen_modules.txt")
"""`module package` per line, chosen by `testgen_modules.py`'s rule before anything was measured."""
MODULES: dict[str, str] = {}


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
    mutation: float | None = None


def uv() -> str:
    beside = Path(sys.executable).parent / "uv"
    return str(beside) if beside.is_file() else (shutil.which("uv") or "uv")


def environment(folder: Path) -> Path:
    subprocess.run([uv(), "venv", "-q", "--python", sys.executable, str(folder / "venv")], check=True)
    python = folder / "venv" / "bin" / "python"
    packages = [*dict.fromkeys(MODULES.values()), "pytest", "pytest-timeout", "coverage", "hypothesis[cli]", "mutmut"]
    subprocess.run([uv(), "pip", "install", "-q", "--python", str(python), *packages], check=True)
    return python


def value_share(code: str) -> float:
    """Share of checks that compare a value returned by a call (not a constant, not only an exception type).

    A check is an `assert` or a `pytest.raises` block. It is on a returned value when it is a comparison whose
    left side holds a call, or a name the same test bound to a call's result (`v = f(x)` then `assert v == 3`,
    as Pynguin writes; `v == 0` calls the code's own `__eq__`). `assert module.CONSTANT == 3` is not.
    """
    checks = on_values = 0
    tree = ast.parse(code)
    scopes: list[ast.AST] = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]
    inside = {id(child) for scope in scopes for child in ast.walk(scope) if child is not scope}
    scopes.append(ast.Module(body=[node for node in tree.body if id(node) not in inside], type_ignores=[]))
    for scope in scopes:
        bound = {
            target.id
            for node in ast.walk(scope)
            if isinstance(node, ast.Assign) and any(isinstance(part, ast.Call) for part in ast.walk(node.value))
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(scope):
            if isinstance(scope, ast.Module) and id(node) in inside:
                continue
            if isinstance(node, ast.Assert):
                checks += 1
                if isinstance(node.test, ast.Compare) and any(
                    isinstance(part, ast.Call) or (isinstance(part, ast.Name) and part.id in bound)
                    for part in ast.walk(node.test.left)
                ):
                    on_values += 1
            elif isinstance(node, ast.With) and "raises" in ast.unparse(node.items[0].context_expr):
                checks += 1
    return round(100.0 * on_values / checks, 1) if checks else 0.0


def reruns(root: Path, python: Path, tests: Path | list[str], times: int = 5) -> tuple[list[str], int]:
    """The tests (a file, or node ids) that passed every one of `times` runs, and how many changed outcome."""
    paths = [str(tests)] if isinstance(tests, Path) else tests
    if not paths:
        return [], 0
    outcomes: dict[str, set[str]] = {}
    for _ in range(times):
        try:
            run = run_tests(paths, root=root, python=python, timeout=RERUN_SECONDS)
        except TestgenOperationError as exc:  # a suite that does not finish: none of its tests counts
            print(f"{paths[0]}: {exc}", file=sys.stderr, flush=True)
            return [], 0
        for test in run.tests:
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


def python310() -> tuple[str | None, str]:
    """A Python 3.10 for Pynguin, and where it came from (or why there is none)."""
    found = subprocess.run([uv(), "python", "find", "3.10"], capture_output=True, text=True, check=False)
    if found.returncode == 0 and found.stdout.strip():
        return found.stdout.strip(), "uv python find 3.10"
    pyenv = shutil.which("pyenv")
    if pyenv:
        prefix = subprocess.run([pyenv, "prefix", "3.10"], capture_output=True, text=True, check=False)
        candidates = sorted(Path(prefix.stdout.strip() or "/nonexistent").glob("bin/python3.10"))
        if not candidates:
            root = subprocess.run([pyenv, "root"], capture_output=True, text=True, check=False).stdout.strip()
            candidates = sorted(Path(root or "/nonexistent").glob("versions/3.10*/bin/python3.10"))
        if candidates:
            return str(candidates[-1]), "pyenv"
    return None, "no Python 3.10: `uv python find 3.10` found none, no pyenv 3.10, and Python downloads are blocked"


def pynguin_environment(folder: Path) -> tuple[Path | None, str]:
    """A Python 3.10 environment with Pynguin 0.48 and the modules, or None and why not."""
    interpreter, origin = python310()
    if interpreter is None:
        return None, origin
    venv = folder / "py310"
    made = subprocess.run([uv(), "venv", "-q", "--python", interpreter, str(venv)], capture_output=True, check=False)
    packages = ["pynguin==0.48.0", *dict.fromkeys(MODULES.values())]
    installed = subprocess.run(
        [uv(), "pip", "install", "-q", "--python", str(venv / "bin" / "python"), *packages],
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode or installed.returncode:
        return None, f"Pynguin 0.48 did not install on {interpreter}: {installed.stderr.strip()[-300:]}"
    return venv / "bin" / "pynguin", f"Pynguin 0.48 on {interpreter} ({origin})"


def run_pynguin(root: Path, python: Path, pynguin: Path, module: str, seconds: int) -> Result:
    folder = root / f"pynguin_{module.replace('.', '_')}"
    (folder / "project").mkdir(parents=True)
    env = {**os.environ, "PYNGUIN_DANGER_AWARE": "1"}
    started = time.monotonic()
    try:
        subprocess.run(
            [
                str(pynguin),
                "--project-path",
                str(folder / "project"),
                "--module-name",
                module,
                "--output-path",
                str(folder),
                "--maximum-search-time",
                str(seconds),
                "--algorithm",
                "DYNAMOSA",
                "--seed",
                "1",
            ],
            capture_output=True,
            env=env,
            cwd=folder,  # Pynguin writes its report folder (pynguin-report) into the working directory
            timeout=PYNGUIN_LIMIT[0],
            check=False,
        )
    except subprocess.TimeoutExpired:  # what it wrote by then still counts
        print(f"pynguin {module}: stopped after {PYNGUIN_LIMIT[0]} s", file=sys.stderr, flush=True)
    wall = time.monotonic() - started
    written = sorted(folder.glob("test_*.py"))
    if not written:
        return Result("pynguin", module, 0.0, 0.0, 0, round(wall, 1), 0, 0.0)
    test_file = written[0]
    passing, flaky = reruns(root, python, test_file)
    line, both = coverage_of(root, python, passing, module_file(python, module))
    share = value_share(test_file.read_text(encoding="utf-8"))
    result = Result("pynguin", module, line, both, len(passing), round(wall, 1), flaky, share)
    result.mutation = mutation_of(root, python, module, passing)
    return result


def mutation_of(root: Path, python: Path, module: str, nodeids: list[str]) -> float | None:
    """The mutation score (mutmut) of the passing tests on the module, or None when it could not be measured."""
    if not nodeids:
        return None
    try:
        report = mutation_score(nodeids, module, root=root, python=python, max_mutants=MUTANTS[0], timeout=1800)
    except Exception as exc:  # a benchmark row, not a crash: the table says n/a
        print(f"mutation score of {module} not measured: {exc}", file=sys.stderr)
        return None
    return report.score


MUTANTS = [60]
MIN_RUN_SECONDS = [60.0]
"""testgen's `min_run_seconds`: the least time each sandbox run (the final check too) gets on this busy machine."""
PYNGUIN_LIMIT = [900]
"""Pynguin's whole run (search, assertion generation, writing) is stopped after this many seconds."""
RERUN_SECONDS = 240.0
"""A suite that takes longer than this for one run (some ghostwritten tests expand huge ranges) counts as failing."""


def run_testgen(root: Path, python: Path, module: str, budget: float) -> Result:
    started = time.monotonic()
    try:
        report = generate(
            module,
            root=root,
            python=python,
            out=f"testgen_{module.replace('.', '_')}",
            budget=budget,
            min_run_seconds=MIN_RUN_SECONDS[0],
        )
    except Exception as exc:  # a benchmark row, not a crash: nothing kept
        print(f"testgen {module}: {exc}", file=sys.stderr, flush=True)
        return Result("testgen", module, 0.0, 0.0, 0, round(time.monotonic() - started, 1), 0, 0.0)
    seconds = time.monotonic() - started
    if report.test_file is None:
        return Result("testgen", module, 0.0, 0.0, 0, round(seconds, 1), 0, 0.0)
    passing, flaky = reruns(root, python, Path(report.test_file))
    line, both = coverage_of(root, python, passing, module_file(python, module))
    result = Result("testgen", module, line, both, len(passing), round(seconds, 1), flaky, value_share(report.code))
    result.mutation = mutation_of(root, python, module, passing)
    return result


GHOST_TEST_SECONDS = [20]
GHOST_CONFTEST = '''"""Written by the benchmark beside the ghostwritten tests: no deadline, and a time limit per test."""

import pytest
from hypothesis import settings

settings.register_profile("benchmark", deadline=None)
settings.load_profile("benchmark")


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.timeout({seconds}, method="signal"))
'''


def split_tests(code: str) -> dict[str, str]:
    """One module per test function of `code`, by name: the file's other top-level statements, then the test."""
    tree = ast.parse(code)
    lines = code.splitlines()

    def source(node: ast.stmt) -> str:
        decorated = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)]) if decorated else node.lineno
        return "\n".join(lines[first - 1 : node.end_lineno])

    def is_test(node: ast.stmt) -> bool:
        return isinstance(node, ast.FunctionDef) and node.name.startswith("test_")

    header = "\n".join(source(node) for node in tree.body if not is_test(node))
    return {
        node.name: f"{header}\n\n\n{source(node)}\n"
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and is_test(node)
    }


def passing_alone(root: Path, python: Path, files: list[Path]) -> list[str]:
    """The tests that passed when each file ran alone (a test that hangs or eats the memory stops only its own)."""
    passing: list[str] = []
    for file in files:
        try:
            run = run_tests([str(file)], root=root, python=python, timeout=GHOST_TEST_SECONDS[0] * 3 + 30.0)
        except TestgenOperationError as exc:
            print(f"{file.name}: {str(exc).splitlines()[0]}", file=sys.stderr, flush=True)
            continue
        passing += [test.nodeid for test in run.tests if test.outcome == "passed"]
    return passing


def run_ghostwriter(root: Path, python: Path, module: str) -> Result:
    folder = root / f"ghost_{module.replace('.', '_')}"
    folder.mkdir()
    started = time.monotonic()
    written = subprocess.run(
        [str(python.parent / "hypothesis"), "write", module], capture_output=True, text=True, timeout=300, check=False
    )
    seconds = time.monotonic() - started
    (folder / "test_ghost.py.txt").write_text(written.stdout, encoding="utf-8")  # as written, not collected
    (folder / "conftest.py").write_text(GHOST_CONFTEST.format(seconds=GHOST_TEST_SECONDS[0]), encoding="utf-8")
    modules = split_tests(written.stdout)
    files: list[Path] = []
    for name, code in modules.items():
        files.append(folder / f"test_{module.rpartition('.')[2]}_{name.removeprefix('test_')}.py")
        files[-1].write_text(code, encoding="utf-8")
    passing, flaky = reruns(root, python, passing_alone(root, python, files))
    print(f"ghostwriter {module}: {len(passing)} of {len(modules)} tests pass", file=sys.stderr, flush=True)
    line, both = coverage_of(root, python, passing, module_file(python, module))
    passed = {nodeid.rpartition("::")[2].partition("[")[0] for nodeid in passing}
    share = value_share("\n".join(code for name, code in modules.items() if name in passed))
    result = Result("ghostwriter", module, line, both, len(passing), round(seconds, 1), flaky, share)
    result.mutation = mutation_of(root, python, module, passing)
    return result


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else round((ordered[middle - 1] + ordered[middle]) / 2, 1)


def table(results: list[Result], budget: float, pynguin_note: str) -> None:
    """The table of every row, then per tool the median and worst module, then testgen against the others."""
    print(f"\nPynguin: {pynguin_note}\n")
    print(
        "| module | tool | line % | line+branch % | tests kept | wall s | flaky /5 | value asserts % | mutation score % |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for result in results:
        mutation = "n/a" if result.mutation is None else f"{result.mutation}"
        print(
            f"| {result.module} | {result.tool} | {result.line} | {result.line_branch} | {result.tests} | "
            f"{result.seconds} | {result.flaky} | {result.value_share} | {mutation} |"
        )
    print("\n| tool | modules | median line % | worst line % (module) | median mutation % | median wall s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for tool in ("ghostwriter", "pynguin", "testgen"):
        rows = [result for result in results if result.tool == tool]
        if not rows:
            continue
        worst = min(rows, key=lambda result: result.line)
        mutations = [result.mutation or 0.0 for result in rows]
        print(
            f"| {tool} | {len(rows)} | {median([r.line for r in rows])} | {worst.line} ({worst.module}) | "
            f"{median(mutations)} | {median([r.seconds for r in rows])} |"
        )
    print()
    for module in dict.fromkeys(result.module for result in results):
        ours = next((r for r in results if r.module == module and r.tool == "testgen"), None)
        anchor = next((r for r in results if r.module == module and r.tool == "pynguin"), None)
        if ours is None or anchor is None:
            continue
        print(
            f"{module}: testgen - Pynguin {ours.line - anchor.line:+.1f} points of lines, mutation "
            f"{(ours.mutation or 0) - (anchor.mutation or 0):+.1f} points; testgen {ours.seconds:.0f} s of a "
            f"{budget:.0f} s budget, Pynguin {anchor.seconds:.0f} s"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--budget", type=float, default=90.0)
    parser.add_argument("--modules-file", type=Path, default=MODULES_FILE)
    parser.add_argument("--modules", nargs="*", help="Only these modules of the file.")
    parser.add_argument("--tools", nargs="*", default=["ghostwriter", "pynguin", "testgen"])
    parser.add_argument("--results", type=Path, default=Path("testgen-bench-results.jsonl"))
    parser.add_argument("--table-only", action="store_true", help="Print the table of --results and stop.")
    parser.add_argument("--mutants", type=int, default=60, help="At most this many mutants per module and tool.")
    parser.add_argument("--pynguin-seconds", type=int, default=60, help="Pynguin's --maximum-search-time.")
    parser.add_argument("--pynguin-limit", type=int, default=900, help="Pynguin's whole run is stopped after this.")
    parser.add_argument("--no-pynguin", action="store_true", help="Leave Pynguin out.")
    parser.add_argument("--min-run-seconds", type=float, default=60.0, help="testgen's min_run_seconds.")
    parser.add_argument(
        "--ghost-test-seconds", type=int, default=20, help="Time limit of each ghostwritten test (it then fails)."
    )
    arguments = parser.parse_args()
    for line in arguments.modules_file.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            module, package = line.split()
            MODULES[module] = package
    if arguments.table_only:
        rows = [json.loads(line) for line in arguments.results.read_text(encoding="utf-8").splitlines() if line]
        table([Result(**row) for row in rows], arguments.budget, "see the run's log")
        return 0
    modules = arguments.modules or list(MODULES)
    MUTANTS[0] = arguments.mutants
    PYNGUIN_LIMIT[0] = arguments.pynguin_limit
    MIN_RUN_SECONDS[0] = arguments.min_run_seconds
    GHOST_TEST_SECONDS[0] = arguments.ghost_test_seconds
    with tempfile.TemporaryDirectory(prefix="testgen-bench-") as folder:
        root = Path(folder)
        root.chmod(0o755)
        python = environment(root)
        pynguin, pynguin_note = (
            (None, "left out")
            if arguments.no_pynguin or "pynguin" not in arguments.tools
            else (pynguin_environment(root))
        )
        print(f"pynguin: {pynguin_note}", flush=True)
        results: list[Result] = []
        for module in modules:
            for tool in arguments.tools:
                if tool == "ghostwriter":
                    result = run_ghostwriter(root, python, module)
                elif tool == "testgen":
                    result = run_testgen(root, python, module, arguments.budget)
                elif pynguin is not None:
                    result = run_pynguin(root, python, pynguin, module, arguments.pynguin_seconds)
                else:
                    continue
                results.append(result)
                print(json.dumps(result.__dict__), flush=True)
                with arguments.results.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(result.__dict__) + "\n")
    table(results, arguments.budget, pynguin_note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
