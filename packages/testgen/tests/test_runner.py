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
    report = measure_coverage(["tests"], root=calc_project, python=PYTHON, html_dir="htmlcov")
    (calc,) = report.files
    assert calc.path == "calc.py"
    assert calc.missing_lines == [8, 9, 10]
    assert calc.statements == 8
    assert (calc.branches, calc.covered_branches) == (4, 1)
    assert calc.missing_branches == [(6, 8), (8, 9), (8, 10)]
    assert report.html == str(calc_project / "htmlcov")
    assert "sign" in (calc_project / "htmlcov" / "calc_py.html").read_text(encoding="utf-8")
    [change] = recent_changes(calc_project)
    assert change.purpose == "testgen coverage htmlcov"
    again = measure_coverage(["tests"], root=calc_project, python=PYTHON, html_dir="htmlcov")  # its own report
    assert again.html == str(calc_project / "htmlcov")
    undo_last(calc_project)
    undo_last(calc_project)
    assert [p for p in (calc_project / "htmlcov").rglob("*") if p.is_file()] == []


@pytest.mark.parametrize(
    ("html_dir", "why"),
    [
        (".", "is the project root"),
        ("tests", "holds tests"),
        ("notes", "is not empty"),
        ("calc.py", "is not a folder"),
        ("../elsewhere", "is outside the root"),
    ],
)
def test_the_html_report_goes_only_to_a_new_or_empty_folder(calc_project: Path, html_dir: str, why: str) -> None:
    (calc_project / "notes").mkdir()
    (calc_project / "notes" / "mine.txt").write_text("kept\n", encoding="utf-8")
    before = sorted(path.relative_to(calc_project) for path in calc_project.rglob("*"))
    with pytest.raises(TestgenUsageError, match=f"^html_dir {html_dir!r} {why}"):
        measure_coverage(["tests"], root=calc_project, python=PYTHON, html_dir=html_dir)
    assert sorted(path.relative_to(calc_project) for path in calc_project.rglob("*")) == before
    assert (calc_project / ".git").is_dir()


DANGER = """
import pathlib
pathlib.Path(MARKER).write_text("ran")
"""


@pytest.mark.parametrize("path", ["scripts/danger.py", "scripts/danger.py::x", "scripts", "calc.py", "tests/data.txt"])
def test_only_test_files_are_run(calc_project: Path, tmp_path: Path, path: str) -> None:
    marker = tmp_path / "marker"
    (calc_project / "scripts").mkdir()
    (calc_project / "scripts" / "danger.py").write_text(DANGER.replace("MARKER", repr(str(marker))), encoding="utf-8")
    (calc_project / "tests" / "data.txt").write_text("data\n", encoding="utf-8")
    if path == "scripts":  # a folder runs what pytest collects there: no test file, no test
        assert run_tests([path], root=calc_project, python=PYTHON).exit_code == 5
    else:
        with pytest.raises(TestgenUsageError, match=r"^paths: '.*' is not a test file \(pytest's python_files"):
            run_tests([path], root=calc_project, python=PYTHON)
    assert not marker.exists()


def test_the_projects_python_files_rule_is_followed(calc_project: Path) -> None:
    (calc_project / "pytest.ini").write_text("[pytest]\npython_files = check_*.py\n", encoding="utf-8")
    (calc_project / "tests" / "check_more.py").write_text("def test_more():\n    pass\n", encoding="utf-8")
    assert run_tests(["tests/check_more.py"], root=calc_project, python=PYTHON).passed == 1
    with pytest.raises(TestgenUsageError, match="is not a test file"):
        run_tests(["tests/test_calc.py"], root=calc_project, python=PYTHON)


def test_an_executable_given_as_python_is_asked_in_the_sandbox(calc_project: Path, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    fake = calc_project / "tools" / "fakepy"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\necho ran > {marker}\necho ran > {calc_project}/ran\nexit 1\n", encoding="utf-8")
    fake.chmod(0o755)
    with pytest.raises(TestgenUsageError, match="not a working Python 3 interpreter"):
        run_tests(["tests"], root=calc_project, python=fake)
    assert not marker.exists()
    assert not (calc_project / "ran").exists()


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
