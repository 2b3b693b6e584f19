from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

import pytest

from codegen_lab.testgen import run_tests

PYTHON = sys.executable

PROPERTY_TEST = """
from hypothesis import given, strategies as st


@given(st.text())
def test_text_round_trips(text):
    assert text.encode("utf-8").decode("utf-8") == text
"""


@pytest.mark.parametrize("isolation", ["none", "auto"])
def test_a_run_leaves_no_benchmark_or_hypothesis_folder_in_the_project(
    tmp_path: Path, isolation: Literal["none", "auto"]
) -> None:
    """pytest-benchmark and Hypothesis write to the current folder; unsandboxed that is the user's project."""
    root = tmp_path / "project"
    (root / "tests").mkdir(parents=True)
    (root / "tests" / "test_text.py").write_text(PROPERTY_TEST, encoding="utf-8")
    root.chmod(0o755)
    run = run_tests(["tests"], root=root, python=PYTHON, isolation=isolation, allow_unsandboxed=True)
    assert (run.passed, run.failed) == (1, 0)
    assert sorted(path.relative_to(root).as_posix() for path in root.rglob("*")) == ["tests", "tests/test_text.py"]
