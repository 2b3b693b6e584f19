from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from codegen_lab.common.testing import anyio_backend, isolated_state  # noqa: F401 (the shared fixtures)
from codegen_lab.testgen._sandbox import bubblewrap_path

PYTHON = sys.executable
"""The target interpreter of these tests: this environment's, which has pytest, coverage and hypothesis."""


@pytest.fixture(scope="session")
def require_bubblewrap() -> str:
    """bubblewrap, which CI installs (`.ci/run`): there its absence is a failure, elsewhere a skip."""
    found = bubblewrap_path()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("bubblewrap is not usable on CI; .ci/run installs it")
        pytest.skip("bubblewrap is not installed")
    return found


def run_pytest(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """pytest with this interpreter, from `root`, outside any sandbox: as a user runs what testgen wrote."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def user_pytest() -> Callable[..., subprocess.CompletedProcess[str]]:
    """`run_pytest`, for tests (which cannot import conftest under `--import-mode=importlib`)."""
    return run_pytest


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


CALC = """
def add(a, b):
    return a + b


def sign(x):
    if x > 0:
        return 1
    elif x < 0:
        return -1
    return 0
"""

CALC_TESTS = """
import pytest

from calc import add, sign


def test_add():
    assert add(1, 2) == 3


def test_sign_is_wrong_here():
    assert sign(5) == 2


@pytest.mark.skip(reason="later")
def test_later():
    pass
"""


@pytest.fixture
def calc_project(tmp_path: Path) -> Path:
    """A small project in git: calc.py and a test file with one pass, one failure and one skip."""
    root = tmp_path / "calc-project"
    root.mkdir()
    write(root, {"calc.py": CALC, "tests/test_calc.py": CALC_TESTS})
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q", "."], cwd=root, check=True)
    subprocess.run([*git, "add", "."], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "start"], cwd=root, check=True)
    return root


SHAPES = '''
"""Shapes and words: a small module with the kinds of code testgen meets."""

import random


class Square:
    """A square.

    >>> Square(3).area()
    9
    """

    def __init__(self, side: int) -> None:
        if side < 0:
            raise ValueError(f"side must not be negative, got {side}")
        self.side = side

    def area(self) -> int:
        return self.side * self.side

    def scaled(self, factor: int) -> "Square":
        return Square(self.side * factor)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Square) and other.side == self.side

    def __repr__(self) -> str:
        return f"Square({self.side})"


def classify(n: int) -> str:
    if n == 42:
        return "answer"
    if n > 100:
        return "big"
    if n < 0:
        return "negative"
    return "small"


def area(kind: str, size: int) -> int:
    if kind == "square":
        return size * size
    if kind == "hex" + "agon":
        return 6 * size
    raise ValueError(f"unknown shape: {kind}")


def encode(text: str) -> str:
    return text.encode("utf-8").hex()


def decode(data: str) -> str:
    return bytes.fromhex(data).decode("utf-8")


def normalize(text: str) -> str:
    return " ".join(text.split()).lower()


def shout(text: str) -> str:
    """Say it louder.

    >>> print(shout("hi"))
    HI!
    """
    return text.upper() + "!"


def roll() -> float:
    return random.random()
'''


@pytest.fixture(scope="module")
def shapes_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project holding shapes.py (one per test module: generating for it takes a while)."""
    root = tmp_path_factory.mktemp("shapes-project")
    root.chmod(0o755)  # pytest makes its folders 0700; the sandbox's uid must be able to read the project
    write(root, {"shapes.py": SHAPES})
    return root
