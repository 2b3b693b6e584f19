"""Fixtures: real uv workspaces in temporary folders, locked by the real uv (offline, from uv's cache), and git."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from uv import find_uv_bin

from codegen_lab.common.testing import anyio_backend, isolated_state  # noqa: F401 (the shared fixtures)

UV = find_uv_bin()
GIT = shutil.which("git")

# Packages the workspace's own environment has installed, so uv's cache holds them and locking works offline.
CACHED = ("anyio>=4", "idna>=3", "typing-extensions>=4")


@pytest.fixture(autouse=True)
def _uv_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """uv resolves offline from its cache, with this interpreter, whatever folder the test works in.

    uvtools keeps its pyproject cache in the tests' temporary folder, not in the user's cache.
    """
    monkeypatch.setenv("CODEGEN_LAB_UVTOOLS_CACHE", str(tmp_path_factory.getbasetemp() / "uvtools-cache"))
    monkeypatch.setenv("UV_OFFLINE", "1")
    monkeypatch.setenv("UV_PYTHON", sys.executable)
    monkeypatch.setenv("UV_NO_PROGRESS", "1")
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    monkeypatch.delenv("UV_PROJECT_ENVIRONMENT", raising=False)  # else uv syncs each test's project into that one


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def project(
    name: str,
    *,
    version: str = "0.1.0",
    dependencies: tuple[str, ...] = (),
    workspace_deps: tuple[str, ...] = (),
    requires_python: str = ">=3.12",
    extra: str = "",
    packaged: bool = True,
) -> str:
    deps = [*dependencies, *workspace_deps]
    lines = [
        "[project]",
        f'name = "{name}"',
        f'version = "{version}"',
        f'requires-python = "{requires_python}"',
        f"dependencies = [{', '.join(json.dumps(d) for d in deps)}]",
    ]
    text = "\n".join(lines) + "\n"
    if extra:
        text += textwrap.dedent(extra).lstrip() + "\n"
    if workspace_deps:
        text += "\n[tool.uv.sources]\n"
        for dep in workspace_deps:
            text += f"{dep.split('>')[0].split('=')[0].split('<')[0].strip()} = {{ workspace = true }}\n"
    if packaged:
        text += '\n[build-system]\nrequires = ["uv_build>=0.13.6,<0.14"]\nbuild-backend = "uv_build"\n'
    return text


# An in-tree PEP 517 backend that fills in `dependencies` from requirements.txt, as a hatch metadata hook would:
# uv builds its metadata offline (it needs no package) and records the result in uv.lock.
BACKEND = """
import os

def _metadata():
    with open("requirements.txt") as f:
        requirements = f.read().split()
    lines = ["Metadata-Version: 2.1", "Name: dyn", "Version: 0.1.0", "Requires-Python: >=3.12"]
    return "\\n".join(lines + [f"Requires-Dist: {r}" for r in requirements]) + "\\n"

def get_requires_for_build_wheel(config_settings=None):
    return []

def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    folder = os.path.join(metadata_directory, "dyn-0.1.0.dist-info")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "METADATA"), "w") as f:
        f.write(_metadata())
    return "dyn-0.1.0.dist-info"

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    raise NotImplementedError

get_requires_for_build_editable = get_requires_for_build_wheel
prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel
build_editable = build_wheel
"""

DYNAMIC = """
[project]
name = "dyn"
version = "0.1.0"
requires-python = ">=3.12"
dynamic = ["dependencies"]

[tool.uv.sources]
a = { workspace = true }

[build-system]
requires = []
build-backend = "dynback"
backend-path = ["_backend"]
"""


def dynamic(folder: Path, *requirements: str) -> None:
    """Write member `dyn` in `folder`: its `dependencies` (`requirements`) are filled in by its build backend."""
    write(folder / "pyproject.toml", DYNAMIC)
    write(folder / "_backend" / "dynback.py", BACKEND)
    write(folder / "requirements.txt", "\n".join(requirements) + "\n")


def uv(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run([UV, *args], cwd=root, capture_output=True, text=True, check=False, timeout=300)
    assert completed.returncode == 0, f"uv {' '.join(args)} failed:\n{completed.stderr}"
    return completed


def git(root: Path, *args: str) -> str:
    assert GIT is not None
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    completed = subprocess.run([GIT, *args], cwd=root, capture_output=True, text=True, check=False, env=env)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def module(root: Path, member: str, import_name: str, body: str = "") -> None:
    write(root / "packages" / member / "src" / import_name / "__init__.py", body or '"""A module."""\n')


@pytest.fixture
def chain(tmp_path: Path) -> Path:
    """A virtual root over `packages/*` (one excluded, one folder without a project): a <- b <- c, and d.

    `a` needs anyio, `b` needs typing-extensions under a marker, `c` has an extra and a dev group; locked by uv.
    """
    root = tmp_path / "chain"
    write(
        root / "pyproject.toml",
        """
        [tool.uv.workspace]
        members = ["packages/*"]
        exclude = ["packages/skipped"]
        """,
    )
    write(root / "packages" / "a" / "pyproject.toml", project("a", dependencies=("anyio>=4",)))
    write(
        root / "packages" / "b" / "pyproject.toml",
        project("b", dependencies=('typing-extensions>=4; python_version < "3.13"',), workspace_deps=("a>=0.1",)),
    )
    write(
        root / "packages" / "c" / "pyproject.toml",
        project(
            "c",
            workspace_deps=("b",),
            extra="""
            [project.optional-dependencies]
            net = ["idna>=3"]

            [dependency-groups]
            dev = ["anyio>=4"]
            """,
        ),
    )
    write(root / "packages" / "d" / "pyproject.toml", project("d", dependencies=("idna>=3",)))
    write(root / "packages" / "skipped" / "pyproject.toml", project("skipped"))
    (root / "packages" / "notes").mkdir()
    for name in "abcd":
        module(root, name, name)
    uv(root, "lock")
    return root


@pytest.fixture
def dev_cycle(tmp_path: Path) -> Path:
    """As python-sdk: the root project `app` has a dev group holding `stories`, which requires `app`."""
    root = tmp_path / "devcycle"
    write(
        root / "pyproject.toml",
        project(
            "app",
            extra="""
            [dependency-groups]
            dev = ["stories"]

            [tool.uv.workspace]
            members = ["examples"]
            """,
        )
        + "\n[tool.uv.sources]\nstories = { workspace = true }\n",
    )
    write(root / "src" / "app" / "__init__.py", "")
    write(root / "examples" / "pyproject.toml", project("stories", workspace_deps=("app",)))
    write(root / "examples" / "src" / "stories" / "__init__.py", "")
    uv(root, "lock")
    return root


@pytest.fixture
def git_repo() -> Callable[[Path], Path]:
    """Turn a folder into a git repository with everything committed; returns the folder."""

    def init(root: Path) -> Path:
        if GIT is None:
            pytest.skip("git is not installed: the git-based tests need it")
        git(root, "init", "-q", "-b", "main")
        write(root / ".gitignore", ".venv/\n__pycache__/\n")
        git(root, "add", "-A")
        git(root, "commit", "-qm", "start")
        return root

    return init


@pytest.fixture
def repository_root() -> Path:
    """This repository: the first real user of uvtools."""
    return Path(__file__).resolve().parents[3]


@pytest.fixture
def h() -> SimpleNamespace:
    """The helpers: write, project, uv, git, module, dynamic."""
    return SimpleNamespace(write=write, project=project, uv=uv, git=git, module=module, dynamic=dynamic)
