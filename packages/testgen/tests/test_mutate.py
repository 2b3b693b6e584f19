from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from codegen_lab.testgen import TestgenUsageError, mutation_score

PYTHON = sys.executable

GRADE = """
def grade(score: int) -> str:
    if score >= 90:
        return "A"
    if score >= 50:
        return "pass"
    return "fail"
"""

STRONG = """
from grade import grade


def test_grades_at_each_boundary():
    assert grade(95) == "A"
    assert grade(90) == "A"
    assert grade(89) == "pass"
    assert grade(50) == "pass"
    assert grade(49) == "fail"
"""

WEAK = """
from grade import grade


def test_grade_runs():
    grade(95)
    grade(60)
    grade(10)
"""


@pytest.fixture
def grade_project(tmp_path: Path) -> Path:
    root = tmp_path / "grade-project"
    (root / "tests").mkdir(parents=True)
    (root / "grade.py").write_text(textwrap.dedent(GRADE), encoding="utf-8")
    (root / "tests" / "test_strong.py").write_text(textwrap.dedent(STRONG), encoding="utf-8")
    (root / "tests" / "test_weak.py").write_text(textwrap.dedent(WEAK), encoding="utf-8")
    return root


def test_tests_that_check_behaviour_kill_the_mutants_and_tests_that_only_run_it_do_not(grade_project: Path) -> None:
    strong = mutation_score(["tests/test_strong.py"], "grade.py", root=grade_project, python=PYTHON)
    weak = mutation_score(["tests/test_weak.py"], "grade.py", root=grade_project, python=PYTHON)
    assert len(strong.mutants) == len(weak.mutants) >= 8
    assert strong.score == 100.0
    assert weak.score == 0.0
    assert {mutant.change for mutant in strong.mutants} >= {">= -> <", "90 -> 91", "return value -> return None"}
    assert (grade_project / "grade.py").read_text(encoding="utf-8") == textwrap.dedent(GRADE)  # never changed


def test_a_suite_that_fails_on_the_unchanged_code_is_refused(grade_project: Path) -> None:
    (grade_project / "tests" / "test_wrong.py").write_text(
        "from grade import grade\n\n\ndef test_wrong():\n    assert grade(1) == 'A'\n", encoding="utf-8"
    )
    with pytest.raises(TestgenUsageError, match=r"the tests fail .* on the unchanged grade"):
        mutation_score(["tests/test_wrong.py"], "grade.py", root=grade_project, python=PYTHON)
