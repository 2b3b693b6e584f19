from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from codegen_lab.testgen import MissingToolsError, TestgenUsageError, benchmark_functions
from codegen_lab.testgen.cli import cli

PYTHON = sys.executable

TIMED = """
def digits(n: int) -> list:
    return [int(c) for c in str(n)]


def countdown(n: int):
    while n > 0:
        yield n
        n -= 1


def explode(x):
    raise RuntimeError("always")


class Stack:
    def __init__(self, size: int) -> None:
        self.items = list(range(size))

    def total(self) -> int:
        return sum(self.items)
"""


@pytest.fixture
def timed_project(tmp_path: Path) -> Path:
    root = tmp_path / "timed-project"
    root.mkdir()
    root.chmod(0o755)
    (root / "timed.py").write_text(TIMED.lstrip(), encoding="utf-8")
    return root


@pytest.mark.slow
def test_each_chosen_function_is_timed_with_a_call_that_works(
    timed_project: Path, user_pytest: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    report = benchmark_functions(
        "timed.py",
        functions=["digits", "countdown", "Stack.total", "explode"],
        root=timed_project,
        python=PYTHON,
        out="benchmarks",
        max_time=0.05,
    )
    assert [timing.function for timing in report.timings] == ["digits", "countdown", "Stack.total"]
    for timing in report.timings:
        assert 0 < timing.min <= timing.median <= timing.mean * 50
        assert timing.min <= timing.mean
        assert math.isfinite(timing.stddev), timing  # pytest-benchmark's spread, not a NaN of too few rounds
        assert timing.stddev >= 0
        assert timing.rounds >= 5
    calls = {timing.function: timing.call for timing in report.timings}
    assert calls["countdown"].startswith("list(timed.countdown(")  # a generator is timed through its iteration
    assert [(skipped.function, skipped.reason) for skipped in report.skipped] == [
        ("explode", "no call tried returned without raising")
    ]
    written = timed_project / "benchmarks" / "test_timed_benchmarks.py"
    assert report.test_file == str(written)
    code = written.read_text(encoding="utf-8")
    assert code == report.code
    assert "def test_bench_stack_total(benchmark):" in code
    assert "    stack = timed.Stack(" in code
    # The written module is a plain pytest-benchmark suite: it runs on its own.
    completed = user_pytest(timed_project, "--benchmark-disable", str(written))
    assert completed.returncode == 0, completed.stdout
    assert "3 passed" in completed.stdout


@pytest.mark.slow
def test_the_cli_prints_a_table_or_json_and_names_unknown_functions(timed_project: Path) -> None:
    runner = CliRunner()
    common = ["--root", str(timed_project), "--python", PYTHON, "--max-time", "0.05"]
    result = runner.invoke(cli, ["bench", "timed.py", "--function", "Stack", "--print", *common])
    assert result.exit_code == 0, result.output
    assert "def test_bench_stack(benchmark):" in result.stdout
    assert "Stack" in result.stderr
    assert "1 functions timed" in result.stderr
    result = runner.invoke(cli, ["bench", "timed.py", "--function", "digits", "--format", "json", *common])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [timing["function"] for timing in data["timings"]] == ["digits"]
    assert {"min", "median", "mean", "stddev", "rounds"} <= set(data["timings"][0])
    with pytest.raises(TestgenUsageError, match=r"--function nope: timed has no public function") as caught:
        benchmark_functions("timed.py", functions=["nope"], root=timed_project, python=PYTHON)
    assert "Stack.total" in (caught.value.hint or "")


def test_an_interpreter_without_pytest_benchmark_gets_the_install_command(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")], check=True, timeout=120)
    python = tmp_path / "bare" / "bin" / "python"
    with pytest.raises(MissingToolsError, match=rf"uv pip install --python {python} pytest coverage pytest-benchmark"):
        benchmark_functions("x.py", root=tmp_path, python=python)
