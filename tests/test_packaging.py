"""Every member is publishable on its own.

`uv build --all-packages --no-sources`, then each wheel installed alone in a fresh virtual environment (the
other members it needs come from the same build, never from the workspace) and imported. A third-party
plugin built from tests/fixtures adds a toolkit and a command by being installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = [pytest.mark.packaging, pytest.mark.slow]

ROOT = Path(__file__).parent.parent
PLUGIN = Path(__file__).parent / "fixtures" / "plugin-dist"


HEAVY = {"mcp", "uvicorn", "anthropic"}
"""What a library's plain install must not bring: the MCP SDK, an ASGI server, an LLM SDK."""
HEAVY_BY_DESIGN = {"codegen-lab-mcp-core": {"mcp", "uvicorn"}, "codegen-lab-server": HEAVY}
"""The members that declare them: the MCP kit, and the application that composes everything."""


@dataclass(frozen=True)
class Member:
    path: Path
    distribution: str
    version: str
    module: str
    extras: frozenset[str]


def members() -> list[Member]:
    """The workspace's members, read from the root pyproject.toml: adding a member needs no change here."""
    workspace = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    found: list[Member] = []
    for relative in workspace["tool"]["uv"]["workspace"]["members"]:
        project = tomllib.loads((ROOT / relative / "pyproject.toml").read_text(encoding="utf-8"))
        found.append(
            Member(
                path=ROOT / relative,
                distribution=project["project"]["name"],
                version=project["project"]["version"],
                module=project["tool"]["uv"]["build-backend"]["module-name"],
                extras=frozenset(project["project"].get("optional-dependencies", {})),
            )
        )
    return found


def uv() -> str:
    """The uv binary of the dev environment (the PyPI `uv` package), else the one on PATH."""
    beside = Path(sys.executable).parent / "uv"
    found = str(beside) if beside.is_file() else shutil.which("uv")
    assert found is not None, "the uv binary is needed for the packaging check: uv sync --all-packages"
    return found


def run(*command: str, cwd: Path = ROOT, **variables: str) -> str:
    # The workspace's own environment must not leak into the fresh ones.
    env = {key: value for key, value in os.environ.items() if key not in {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT"}}
    env.update(variables)
    completed = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env, timeout=600, check=False)
    assert completed.returncode == 0, f"{' '.join(command)} failed:\n{completed.stdout}\n{completed.stderr}"
    return completed.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(uv(), "build", "--all-packages", "--no-sources", "--out-dir", str(out))
    run(uv(), "build", "--wheel", "--no-sources", "--out-dir", str(out), str(PLUGIN))
    return out


def fresh_environment(path: Path, dist: Path, *requirements: str) -> Path:
    run(uv(), "venv", "--quiet", "--python", sys.executable, str(path))
    python = path / "bin" / "python"
    run(uv(), "pip", "install", "--quiet", "--python", str(python), "--find-links", str(dist), *requirements)
    return python


def wheel_of(dist: Path, member: Member) -> Path:
    (wheel,) = dist.glob(f"{member.distribution.replace('-', '_')}-{member.version}-*.whl")
    return wheel


@pytest.mark.parametrize("member", members(), ids=lambda member: member.distribution)
def test_the_wheel_holds_a_typed_namespace_package(dist: Path, member: Member) -> None:
    names = zipfile.ZipFile(wheel_of(dist, member)).namelist()
    package = member.module.replace(".", "/")
    assert f"{package}/__init__.py" in names
    assert f"{package}/py.typed" in names
    assert "codegen_lab/__init__.py" not in names, "codegen_lab must stay a namespace package"
    assert not any("/tests/" in name for name in names)
    (sdist,) = dist.glob(f"{member.distribution.replace('-', '_')}-{member.version}.tar.gz")
    assert sdist.stat().st_size > 0


@pytest.mark.parametrize("member", members(), ids=lambda member: member.distribution)
def test_each_wheel_installs_alone_and_imports(dist: Path, member: Member, tmp_path: Path) -> None:
    python = fresh_environment(tmp_path / "venv", dist, str(wheel_of(dist, member)))
    probe = (
        "import importlib, importlib.metadata as m, json, sys; "
        f"module = importlib.import_module({member.module!r}); "
        "print(json.dumps({'version': module.__version__, 'all': sorted(module.__all__), "
        "'members': {d.metadata['Name']: d.version for d in m.distributions() "
        "if d.metadata['Name'].startswith('codegen-lab-')}}))"
    )
    report = json.loads(run(str(python), "-c", probe, cwd=tmp_path))
    assert report["version"] == member.version
    installed = installed_distributions(python)
    assert installed & HEAVY == HEAVY_BY_DESIGN.get(member.distribution, set()), (
        f"{member.distribution} alone installs {sorted(installed & HEAVY)}"
    )
    assert report["all"]
    workspace = {other.distribution: other.version for other in members()}
    for name, installed in report["members"].items():
        assert installed == workspace[name], f"{name} {installed} did not come from this build"


def with_mcp_extra() -> list[Member]:
    """The libraries whose MCP toolkit is an extra."""
    return [member for member in members() if "mcp" in member.extras]


def installed_distributions(python: Path) -> set[str]:
    """The names of the distributions installed for `python`, in lower case."""
    return {line.split("==")[0].lower() for line in run(uv(), "pip", "freeze", "--python", str(python)).split()}


@pytest.mark.parametrize("member", with_mcp_extra(), ids=lambda member: member.distribution)
def test_a_librarys_mcp_extra_brings_its_toolkit(dist: Path, member: Member, tmp_path: Path) -> None:
    python = fresh_environment(tmp_path / "venv", dist, f"{member.distribution}[mcp]")
    run(str(python), "-c", f"import {member.module}.mcp", cwd=tmp_path)
    assert installed_distributions(python) & HEAVY == {"mcp", "uvicorn"}


def test_the_server_wheel_serves_and_a_plugin_adds_itself_by_being_installed(dist: Path, tmp_path: Path) -> None:
    python = fresh_environment(tmp_path / "venv", dist, "codegen-lab-server")
    codegen_lab = str(python.parent / "codegen-lab")
    assert run(codegen_lab, "--version", cwd=tmp_path).startswith("codegen-lab ")
    before = json.loads(run(codegen_lab, "toolkits", "--format", "json", "--root", str(tmp_path), cwd=tmp_path))
    shipped = [toolkit["name"] for toolkit in before["toolkits"]]
    assert shipped[0] == "server"
    assert "demo" not in shipped

    run(
        uv(), "pip", "install", "--quiet", "--python", str(python), "--find-links", str(dist), "codegen-lab-demo-plugin"
    )
    after = json.loads(run(codegen_lab, "toolkits", "--format", "json", "--root", str(tmp_path), cwd=tmp_path))
    demo = next(toolkit for toolkit in after["toolkits"] if toolkit["name"] == "demo")
    assert demo["package"] == "codegen-lab-demo-plugin"
    assert demo["version"] == "0.3.0"
    assert [tool["name"] for tool in demo["tools"]] == ["demo_shout"]
    assert run(codegen_lab, "demo", "shout", "hello", cwd=tmp_path) == "HELLO\n"

    excluded = json.loads(
        run(
            codegen_lab,
            "toolkits",
            "--format",
            "json",
            "--root",
            str(tmp_path),
            cwd=tmp_path,
            CODEGEN_LAB_EXCLUDE="demo",
        )
    )
    assert [toolkit["name"] for toolkit in excluded["toolkits"]] == shipped
