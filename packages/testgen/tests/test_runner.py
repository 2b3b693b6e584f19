from __future__ import annotations

import sys
from pathlib import Path

import pytest

from codegen_lab.common.files import recent_changes, undo_last
from codegen_lab.testgen import TestgenUsageError, diff_coverage, measure_coverage, run_tests

PYTHON = sys.executable


def test_each_test_has_its_outcome_message_and_duration(calc_project: Path) -> None:
    run = run_tests(["tests"], root=calc_project, python=PYTHON)
    outcomes = {test.nodeid: (test.outcome, test.message) for test in run.tests}
    assert outcomes == {
        "tests/test_calc.py::test_add": ("passed", ""),
        "tests/test_calc.py::test_sign_is_wrong_here": ("failed", "assert 1 == 2\n +  where 1 = sign(5)"),
        "tests/test_calc.py::test_later": ("skipped", "Skipped: later"),
    }
    assert (run.passed, run.failed, run.skipped, run.exit_code) == (1, 1, 1, 1)
    assert all(test.duration >= 0 for test in run.tests)
    assert run.coverage is None


def test_coverage_per_file_with_missing_lines_branches_and_html(calc_project: Path) -> None:
    (calc_project / "htmlcov").mkdir()
    (calc_project / "htmlcov" / "notes.txt").write_text("mine, in the folder I named by mistake\n", encoding="utf-8")
    report = measure_coverage(["tests"], root=calc_project, python=PYTHON, html_dir="htmlcov")
    (calc,) = report.files
    assert calc.path == "calc.py"
    assert calc.missing_lines == [8, 9, 10]
    assert calc.statements == 8
    assert (calc.branches, calc.covered_branches) == (4, 1)
    assert calc.missing_branches == [(6, 8), (8, 9), (8, 10)]
    assert report.html == str(calc_project / "htmlcov")
    assert "sign" in (calc_project / "htmlcov" / "calc_py.html").read_text(encoding="utf-8")
    assert not (calc_project / "htmlcov" / "notes.txt").exists()
    [change] = recent_changes(calc_project)
    assert change.purpose == "testgen coverage htmlcov"
    assert ("htmlcov/notes.txt", "remove") in [(item.path, item.action) for item in change.files]
    undo_last(calc_project)
    assert [p.name for p in (calc_project / "htmlcov").rglob("*") if p.is_file()] == ["notes.txt"]


def test_diff_coverage_against_a_git_ref(calc_project: Path) -> None:
    with (calc_project / "calc.py").open("a", encoding="utf-8") as sink:
        sink.write("\n\ndef mul(a, b):\n    return a * b\n")
    report = measure_coverage(["tests"], root=calc_project, python=PYTHON)
    diff = diff_coverage(report, "HEAD", root=calc_project)
    assert (diff.changed_lines, diff.covered_lines) == (2, 1)
    assert diff.missing == {"calc.py": [14]}
    with pytest.raises(TestgenUsageError, match="git diff against 'no-such-ref' failed"):
        diff_coverage(report, "no-such-ref", root=calc_project)
    written = calc_project.parent / "pwned.diff"
    with pytest.raises(TestgenUsageError, match="is not a git revision"):
        diff_coverage(report, f"--output={written}", root=calc_project)
    assert not written.exists()


def test_paths_outside_the_root_are_refused(calc_project: Path, tmp_path: Path) -> None:
    with pytest.raises(TestgenUsageError, match=r"path '\.\./elsewhere' is outside the root"):
        run_tests(["../elsewhere"], root=calc_project, python=PYTHON)
    with pytest.raises(TestgenUsageError, match=r"'tests/nope\.py': no such file"):
        run_tests(["tests/nope.py"], root=calc_project, python=PYTHON)


def test_a_file_that_does_not_collect_is_an_error_not_a_crash(calc_project: Path) -> None:
    (calc_project / "tests" / "test_broken.py").write_text("import nothing_like_this\n", encoding="utf-8")
    run = run_tests(["tests/test_broken.py"], root=calc_project, python=PYTHON)
    (test,) = run.tests
    assert test.outcome == "error"
    assert "nothing_like_this" in test.message
    assert run.exit_code == 2


@pytest.mark.parametrize("timeout", [0, -1, 3601])
def test_a_timeout_out_of_range_is_refused(calc_project: Path, timeout: float) -> None:
    with pytest.raises(TestgenUsageError, match=rf"timeout {timeout} is out of range") as caught:
        run_tests(["tests"], root=calc_project, python=PYTHON, timeout=timeout)
    assert caught.value.hint == "Pass a number of seconds above 0 and at most 3600"
