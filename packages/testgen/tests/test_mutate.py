from __future__ import annotations

import dataclasses
import sys
import textwrap
from pathlib import Path

import pytest

from codegen_lab.testgen import TestgenUsageError, _runner, mutation_score
from codegen_lab.testgen._interpreter import probe_python

pytestmark = pytest.mark.slow

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


def test_mutmut_kills_what_tests_that_check_behaviour_notice_in_a_copy_of_the_project(grade_project: Path) -> None:
    strong = mutation_score(["tests/test_strong.py"], "grade.py", root=grade_project, python=PYTHON)
    weak = mutation_score(["tests/test_weak.py"], "grade.py", root=grade_project, python=PYTHON, max_mutants=3)
    assert (strong.engine, strong.note) == ("mutmut", None)
    assert strong.generated == len(strong.mutants) >= 8
    assert strong.score == 100.0
    assert {mutant.status for mutant in strong.mutants} == {"killed"}
    assert (strong.killed, strong.survived) == (len(strong.mutants), 0)
    assert (3, ">= -> >") in {(mutant.line, mutant.change) for mutant in strong.mutants}  # `if score >= 90:`
    assert all(mutant.name and mutant.name.startswith("grade.x_grade__mutmut_") for mutant in strong.mutants)
    assert weak.generated == strong.generated
    assert len(weak.mutants) == 3
    assert weak.score == 0.0
    assert {mutant.status for mutant in weak.mutants} == {"survived"}
    assert sorted((grade_project).rglob("*")) == sorted(
        [grade_project / name for name in ("grade.py", "tests", "tests/test_strong.py", "tests/test_weak.py")]
    )  # mutmut ran in a copy: no mutants/ folder, no settings left in the project


def test_without_mutmut_in_the_interpreter_the_builtin_mutator_runs_and_says_so(
    grade_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def without_mutmut(python: Path | str, *, allow_unsandboxed: bool | None = None) -> object:
        found = probe_python(python, allow_unsandboxed=allow_unsandboxed)
        return dataclasses.replace(found, found={**found.found, "mutmut": False})

    monkeypatch.setattr(_runner, "probe_python", without_mutmut)
    report = mutation_score(["tests/test_strong.py"], "grade.py", root=grade_project, python=PYTHON, max_mutants=2)
    assert report.engine == "builtin"
    assert report.note is not None
    assert f"uv pip install --python {PYTHON} mutmut" in report.note


def test_tests_that_check_behaviour_kill_the_mutants_and_tests_that_only_run_it_do_not(grade_project: Path) -> None:
    strong = mutation_score(["tests/test_strong.py"], "grade.py", root=grade_project, python=PYTHON, engine="builtin")
    weak = mutation_score(["tests/test_weak.py"], "grade.py", root=grade_project, python=PYTHON, engine="builtin")
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
        mutation_score(["tests/test_wrong.py"], "grade.py", root=grade_project, python=PYTHON, engine="builtin")
    with pytest.raises(TestgenUsageError, match=r"the tests fail .* on the unchanged grade"):
        mutation_score(["tests/test_wrong.py"], "grade.py", root=grade_project, python=PYTHON)


def test_mutants_of_a_package_that_mutmut_itself_imports_are_run_by_the_tests(tmp_path: Path) -> None:
    # mutmut's own process has imported `rich` before it runs the tests: they must still get the mutants.
    root = tmp_path / "project"
    root.mkdir()
    (root / "test_loop.py").write_text(
        "from rich._loop import loop_first, loop_last\n\n\ndef test_marks():\n"
        "    assert list(loop_first('ab')) == [(True, 'a'), (False, 'b')]\n"
        "    assert list(loop_last('ab')) == [(False, 'a'), (True, 'b')]\n",
        encoding="utf-8",
    )
    report = mutation_score(["test_loop.py"], "rich._loop", root=root, python=PYTHON, max_mutants=4)
    assert report.engine == "mutmut"
    assert len(report.mutants) == 4
    assert report.killed >= 1  # before, no test ran any mutant: the run was an error


SEEN = """
_SEEN = set()


def first_time(word: str) -> bool:
    if word in _SEEN:
        return False
    _SEEN.add(word)
    return True
"""

IN_ORDER = """
import seen


def test_a_word_is_new_the_first_time():
    assert seen.first_time("a") is True


def test_a_word_seen_once_is_not_new():
    assert seen.first_time("a") is False


def test_clearing_the_set_forgets_the_word():
    seen._SEEN.clear()
    assert seen._SEEN == set()


def test_a_forgotten_word_is_new_again():
    assert seen.first_time("a") is True
"""


def test_mutmut_runs_the_whole_suite_fresh_and_in_its_order(tmp_path: Path) -> None:
    # The suite passes in a fresh process, in its order. mutmut runs only the tests that reach a mutated function
    # (not the one that clears the set), in the order of a set, several times in one process: judged that way,
    # the unchanged code failed its tests and no mutant was checked.
    root = tmp_path / "project"
    root.mkdir()
    (root / "seen.py").write_text(textwrap.dedent(SEEN), encoding="utf-8")
    (root / "test_seen.py").write_text(textwrap.dedent(IN_ORDER), encoding="utf-8")
    report = mutation_score(["test_seen.py"], "seen.py", root=root, python=PYTHON)
    assert report.engine == "mutmut"
    assert len(report.mutants) == report.killed == report.generated  # each mutant of first_time breaks a test
