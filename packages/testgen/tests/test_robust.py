"""testgen on code it has never seen: late time-outs, shadowed module names, silent zeros, side effects."""

from __future__ import annotations

import re
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import pytest
from click.testing import CliRunner

from codegen_lab.testgen import GenerationReport, TestgenOperationError, generate, measure_coverage, mutation_score
from codegen_lab.testgen._generate import _FLAKY, why_dropped  # pyright: ignore[reportPrivateUsage]
from codegen_lab.testgen._models import CoverageReport, FileCoverage, TestOutcome, TestRun
from codegen_lab.testgen._render import RenderedTest, render_module
from codegen_lab.testgen._runner import Project, RunTimedOut
from codegen_lab.testgen._target import Target, _binds_other  # pyright: ignore[reportPrivateUsage]
from codegen_lab.testgen._validate import validate
from codegen_lab.testgen.cli import cli

PYTHON = sys.executable

TARGET = Target(module="pkg.mod", file=Path("/nowhere/pkg/mod.py"), import_root=Path("/nowhere"))


def _test(name: str) -> RenderedTest:
    return RenderedTest(name, "example", "f", ["    assert True"], candidate_id=f"id-{name}")


class _Stopped:
    """A project whose pytest runs pass `passing` and are then stopped by their time-out (`stop_at`: which run)."""

    def __init__(self, passing: Sequence[str], *, stop_at: int, measured: bool = True) -> None:
        self.passing = list(passing)
        self.stop_at = stop_at
        self.measured = measured
        self.runs = 0

    def pytest(self, args: Sequence[str], **options: Any) -> TestRun:
        self.runs += 1
        outcomes = [TestOutcome(nodeid=f"t.py::{name}", outcome="passed", duration=0.0) for name in self.passing]
        if self.runs == self.stop_at:
            raise RunTimedOut("the tests did not finish", finished=outcomes)
        file = FileCoverage(
            path=str(TARGET.file),
            statements=10,
            covered_lines=8,
            missing_lines=[3, 4],
            branches=0,
            covered_branches=0,
            missing_branches=[],
            percent=80.0,
        )
        coverage = CoverageReport(files=[file], percent=80.0, line_percent=80.0)
        return TestRun(
            tests=outcomes,
            passed=len(outcomes),
            failed=0,
            skipped=0,
            exit_code=0,
            isolation="none",
            seconds=0.1,
            coverage=coverage if options.get("coverage") and self.measured else None,
        )


def _validate(project: _Stopped, tests: Sequence[RenderedTest], tmp_path: Path) -> Any:
    return validate(
        cast(Project, project),
        TARGET,
        tmp_path,
        tests,
        deadline=0.0,
        min_seconds=1.0,
        estimate=lambda chosen: (float(len(chosen)), 0.0, [1, 2]),
        render=lambda chosen: render_module("pkg.mod", "mod", chosen, version="0"),
    )


def test_a_first_check_stopped_by_its_time_out_keeps_what_passed_and_drops_what_it_did_not_reach(
    tmp_path: Path,
) -> None:
    project = _Stopped(["test_a", "test_b"], stop_at=1)
    result = _validate(project, [_test("test_a"), _test("test_b"), _test("test_c")], tmp_path)
    assert [test.name for test in result.tests] == ["test_a", "test_b"]
    assert result.dropped == {"test_c": "not re-checked in time"}
    assert (result.line_percent, result.missing_lines) == (2.0, [1, 2])  # the estimate, of the two kept
    assert "2 tests that passed it are kept, 1 it did not reach are dropped" in result.note
    assert "def test_c" not in result.code
    assert project.runs == 1


def test_a_second_check_stopped_keeps_every_test_with_the_coverage_the_first_measured(tmp_path: Path) -> None:
    project = _Stopped(["test_a", "test_b"], stop_at=2)
    result = _validate(project, [_test("test_a"), _test("test_b")], tmp_path)
    assert [test.name for test in result.tests] == ["test_a", "test_b"]
    assert (result.line_percent, result.missing_lines) == (80.0, [3, 4])
    assert "the second run under pytest did not fit in the time left" in result.note


class _OrderSensitive(_Stopped):
    """A project whose `test_b` fails when the tests run in reverse order (it needs what `test_a` left)."""

    def __init__(self) -> None:
        super().__init__(["test_a", "test_b", "test_c"], stop_at=0)
        self.files: list[str] = []

    def pytest(self, args: Sequence[str], **options: Any) -> TestRun:
        self.files.append(Path(args[0]).name)
        run = super().pytest(args, **options)
        if args[0].endswith("_reversed.py") and "def test_b" in Path(args[0]).read_text(encoding="utf-8"):
            failed = TestOutcome(nodeid="t.py::test_b", outcome="failed", duration=0.0, message="KeyError")
            run.tests = [failed if test.nodeid == failed.nodeid else test for test in run.tests]
        return run


def test_a_test_that_fails_with_the_tests_in_reverse_order_is_dropped_and_the_rest_checked_again(
    tmp_path: Path,
) -> None:
    project = _OrderSensitive()
    result = _validate(project, [_test("test_a"), _test("test_b"), _test("test_c")], tmp_path)
    assert [test.name for test in result.tests] == ["test_a", "test_c"]
    assert result.dropped == {"test_b": "failed in reverse order"}
    assert "def test_b" not in result.code
    assert project.files == ["test_mod_generated.py", "test_mod_generated_reversed.py"] * 2
    reversed_code = (tmp_path / "generated" / "test_mod_generated_reversed.py").read_text(encoding="utf-8")
    assert reversed_code.index("def test_c") < reversed_code.index("def test_a")


def test_tests_that_pass_without_the_target_measured_are_an_error_not_zero_percent(tmp_path: Path) -> None:
    with pytest.raises(TestgenOperationError, match=r"coverage of /nowhere/pkg/mod\.py was not measured"):
        _validate(_Stopped(["test_a"], stop_at=0, measured=False), [_test("test_a")], tmp_path)


def test_a_package_binding_another_object_to_a_submodule_name_is_seen(tmp_path: Path) -> None:
    init = tmp_path / "__init__.py"
    init.write_text("from .url import url\nfrom . import plain\nfrom .other import helper as other\n")
    assert _binds_other(init, "url") is True
    assert _binds_other(init, "other") is True
    assert _binds_other(init, "plain") is False  # `from . import plain` binds the submodule itself
    assert _binds_other(init, "absent") is False


def test_every_reason_a_first_run_drops_a_candidate_is_named() -> None:
    assert why_dropped({"kind": "side-effect", "effect": "uses the network (socket.connect)"}) == (
        "side effect: uses the network"
    )
    assert why_dropped({"kind": "raises", "type": "TypeError"}) == "raised"
    assert why_dropped({"kind": "timeout"}) == "timed out"
    assert why_dropped({"kind": "setup-error"}) == "setup raised"
    assert why_dropped({"kind": "opaque"}) == "result not checkable"


PACKAGE = {
    "webcheck/__init__.py": "from .url import url\n",
    "webcheck/url.py": '''
        import os
        import socket


        def url(value: str) -> bool:
            """Whether `value` looks like an http URL."""
            if not value:
                raise ValueError("empty")
            return value.startswith(("http://", "https://"))


        def is_ipv4(text: str) -> bool:
            try:
                socket.inet_aton(text)
            except OSError:
                return False
            return True


        def fetch(host: str) -> int:
            connection = __import__("so" + "cket").create_connection((host, 80), timeout=1)
            return len(connection.recv(10))


        def home(name: str) -> str:
            return os.path.join(os.path.expanduser("~"), name)


        def save(text: str) -> int:
            with open("/var/tmp/webcheck-" + text, "w") as sink:
                return sink.write(text)
    ''',
}


@pytest.fixture(scope="module")
def webcheck(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationReport]:
    root = tmp_path_factory.mktemp("webcheck")
    root.chmod(0o755)
    for name, text in PACKAGE.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return root, generate("webcheck.url", root=root, python=PYTHON, out="tests", budget=60, min_run_seconds=60)


@pytest.mark.slow
def test_a_submodule_its_package_shadows_is_tested_as_the_module(webcheck: tuple[Path, GenerationReport]) -> None:
    _, report = webcheck
    assert 'url = importlib.import_module("webcheck.url")' in report.code
    assert report.line_percent > 50
    assert report.missing_lines  # fetch, home and save keep lines no test runs
    assert "Regenerate with `codegen-lab testgen generate webcheck.url --python " in report.code
    assert "--budget 60`" in report.code


@pytest.mark.slow
def test_side_effects_are_seen_as_the_code_runs_and_each_function_explains_itself(
    webcheck: tuple[Path, GenerationReport],
) -> None:
    root, report = webcheck
    functions = {function.function: function for function in report.functions}
    assert set(functions) == {"url", "is_ipv4", "fetch", "home", "save"}
    assert functions["is_ipv4"].kept >= 1  # pure, though it calls into socket
    assert report.avoided == []
    assert functions["fetch"].kept == 0
    assert functions["fetch"].dropped.get("side effect: uses the network", 0) >= 1
    assert functions["save"].kept == 0
    assert functions["save"].dropped.get("side effect: writes outside its folder", 0) >= 1
    # its result names HOME, which the second run moves: only a call with an absolute name (which os.path.join
    # keeps as it is, HOME left out) may stay
    calls = re.findall(r"\.home\((['\"])(.*?)\1\)", report.code)
    assert len(calls) == functions["home"].kept
    assert all(name.startswith("/") for _, name in calls), calls
    assert functions["home"].dropped.get(_FLAKY, 0) >= 1
    for function in functions.values():
        assert function.tried == function.kept + sum(function.dropped.values()), function
    assert not list(Path("/var/tmp").glob("webcheck-*"))  # noqa: S108 (that no file was written there)
    assert sorted(path.name for path in root.iterdir()) == ["tests", "webcheck"]


@pytest.mark.slow
def test_mutants_of_a_package_init_are_run_in_the_package_and_unrun_ones_are_not_survivors(tmp_path: Path) -> None:
    root = tmp_path / "project"
    (root / "grading").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "grading" / "__init__.py").write_text(
        "def grade(score):\n    if score >= 90:\n        return 'A'\n    return 'B'\n\n\n"
        "def unused(x):\n    return x + 1\n",
        encoding="utf-8",
    )
    (root / "tests" / "test_grading.py").write_text(
        "from grading import grade\n\n\ndef test_grade():\n    assert grade(95) == 'A'\n    assert grade(90) == 'A'\n"
        "    assert grade(10) == 'B'\n",
        encoding="utf-8",
    )
    report = mutation_score(["tests"], "grading", root=root, python=PYTHON, engine="builtin")
    assert report.survived == 0
    # `return x + 1` in unused, which no test runs: `+ -> -`, `1 -> 2` and `return None`, none a survivor
    assert report.unchecked == 3
    assert {mutant.status for mutant in report.mutants if mutant.line == 8} == {"no tests"}
    assert report.killed == len(report.mutants) - 3
    assert report.score == 100.0
    (root / "tests" / "test_grading.py").write_text("def test_nothing():\n    assert True\n", encoding="utf-8")
    with pytest.raises(TestgenOperationError, match="no mutant of grading was checked"):
        mutation_score(["tests"], "grading", root=root, python=PYTHON, engine="builtin")


def test_progress_off_a_terminal_is_one_line_per_phase_and_quiet_silences_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []

    def fake(target: str, **options: Any) -> GenerationReport:
        progress = options["progress"]
        for what in ("importing m", "round 1: 2 tests kept", "round 1: 2 tests kept", "checking"):
            progress(1.0, 10.0, what)
        calls.append(target)
        return GenerationReport(
            target="m",
            source="m.py",
            test_file=None,
            tests=[],
            candidates=0,
            rounds=1,
            line_percent=0.0,
            percent=0.0,
            missing_lines=[1],
            isolation="none",
            seconds=1.0,
            stopped="budget",
            code="",
        )

    monkeypatch.setattr("codegen_lab.testgen._generate.generate", fake)
    runner = CliRunner()
    result = runner.invoke(cli, ["generate", "m.py", "--budget", "10", "--print"])
    assert result.exit_code == 0, result.output
    assert result.stderr.count("testgen m.py: round 1: 2 tests kept (1 of 10 s)") == 1
    assert "testgen m.py: checking" in result.stderr
    quiet = runner.invoke(cli, ["generate", "m.py", "--budget", "10", "--print", "--quiet"])
    assert "testgen m.py:" not in quiet.stderr
    assert calls == ["m.py", "m.py"]


@pytest.mark.slow
def test_coverage_measures_what_the_tests_import_unless_sources_are_named(calc_project: Path) -> None:
    (calc_project / "unused.py").write_text("def never():\n    return 1\n", encoding="utf-8")
    imported = measure_coverage(["tests/test_calc.py::test_add"], root=calc_project, python=PYTHON)
    assert [Path(file.path).name for file in imported.files] == ["calc.py"]
    named = measure_coverage(["tests/test_calc.py::test_add"], root=calc_project, python=PYTHON, source=["."])
    assert sorted(Path(file.path).name for file in named.files) == ["calc.py", "unused.py"]
