"""The shared fixtures: state and caches in temporary folders, anyio on asyncio, the Hypothesis profile."""

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from codegen_lab.common.testing import anyio_backend, isolated_state  # noqa: F401 (the shared fixtures)
from codegen_lab.uvtools._process import uv_binary

MEMBER = """[project]
name = "{name}"
version = "0.1.0"
requires-python = ">=3.12"
dependencies = [{deps}]
{extra}
[build-system]
requires = ["uv_build>=0.8,<1"]
build-backend = "uv_build"
{sources}"""

RULE = """---
description: Python style
globs: **/*.py
alwaysApply: false
---
Use type hints everywhere.
"""


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def _member(root: Path, name: str, deps: list[str], extra: str = "", also: tuple[str, ...] = ()) -> None:
    folder = root / "packages" / name
    module = folder / "src" / name.replace("-", "_")
    module.mkdir(parents=True)
    (module / "__init__.py").write_text(f'"""The {name} package."""\n', encoding="utf-8")
    sources = "".join(f"{dep} = {{ workspace = true }}\n" for dep in [*deps, *also])
    (folder / "pyproject.toml").write_text(
        MEMBER.format(
            name=name,
            deps=", ".join(f'"{dep}"' for dep in deps),
            extra=extra,
            sources=f"\n[tool.uv.sources]\n{sources}" if sources else "",
        ),
        encoding="utf-8",
    )


def build_project(root: Path) -> Path:
    """A small real uv workspace in git: three members (a project edge and an extra edge), rules, code, tests."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text('[tool.uv.workspace]\nmembers = ["packages/*"]\n', encoding="utf-8")
    _member(root, "core", [])
    _member(root, "api", ["core"])
    _member(root, "cli", ["api"], extra='[project.optional-dependencies]\nfast = ["core"]\n', also=("core",))
    calc = root / "packages" / "core" / "src" / "core" / "calc.py"
    calc.write_text(
        "def add(a: int, b: int) -> int:\n"
        "    return a + b\n"
        "\n"
        "\n"
        "def sign(x: int) -> int:\n"
        "    if x < 0:\n"
        "        return -1\n"
        "    return 1\n",
        encoding="utf-8",
    )
    tests = root / "tests"
    tests.mkdir()
    (tests / "test_calc.py").write_text(
        "import sys\nfrom pathlib import Path\n\n"
        "sys.path.insert(0, str(Path(__file__).parents[1] / 'packages/core/src'))\n"
        "from core.calc import add\n\n\ndef test_add() -> None:\n    assert add(2, 3) == 5\n",
        encoding="utf-8",
    )
    rules = root / ".cursor" / "rules"
    rules.mkdir(parents=True)
    (rules / "python.mdc").write_text(RULE, encoding="utf-8")
    docs = RULE.replace("**/*.py", '"docs/**/*.md"').replace("Python", "Docs")  # quoted: Cursor reads it literally
    (rules / "docs.mdc").write_text(docs, encoding="utf-8")
    (root / "AGENTS.md").write_text("# Agents\n\nRun the tests before you finish.\n", encoding="utf-8")
    (root / ".gitignore").write_text(".venv/\n__pycache__/\n", encoding="utf-8")
    subprocess.run(
        [uv_binary(), "lock", "--offline", "--quiet", "--python", sys.executable],
        cwd=root,
        check=True,
        capture_output=True,
    )
    _git(root, "init", "-q", "-b", "main")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@e", "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", "first")
    return root


@pytest.fixture(scope="module")
def dashboard_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small real project shared by a module's tests (they must not change it; `fresh_project` for that)."""
    return build_project(tmp_path_factory.mktemp("dashboard") / "project")


@pytest.fixture
def fresh_project(tmp_path: Path) -> Callable[[], Path]:
    """Makes a small real project of the test's own."""
    return lambda: build_project(tmp_path / "project")
