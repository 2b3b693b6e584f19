from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from codegen_lab.uvtools import WorkspaceError, change_dependency, inspect_venv, load_workspace, read_lock


def test_add_shows_the_uv_command_then_runs_it(chain: Path) -> None:
    workspace = load_workspace(chain)
    planned = change_dependency(workspace, "add", "d", ["anyio>=4"], group="dev")
    assert not planned.applied
    assert planned.as_json()["command"] == [
        "uv",
        "add",
        "--package",
        "d",
        "--directory",
        str(chain.resolve()),
        "--group",
        "dev",
        "--",
        "anyio>=4",
    ]
    assert "anyio" not in (chain / "packages" / "d" / "pyproject.toml").read_text()
    applied = change_dependency(workspace, "add", "d", ["anyio>=4"], apply=True)
    assert applied.returncode == 0, applied.output
    assert {dep.name for dep in load_workspace(chain).member("d").dependencies} == {"anyio", "idna"}
    removed = change_dependency(load_workspace(chain), "remove", "d", ["anyio"], apply=True)
    assert removed.returncode == 0, removed.output
    assert [dep.name for dep in load_workspace(chain).member("d").dependencies] == ["idna"]


def test_bad_changes_are_refused(chain: Path) -> None:
    workspace = load_workspace(chain)
    with pytest.raises(WorkspaceError, match="nothing to add"):
        change_dependency(workspace, "add", "d", [])
    with pytest.raises(WorkspaceError, match="not both"):
        change_dependency(workspace, "add", "d", ["x"], group="g", optional="o")
    with pytest.raises(WorkspaceError, match="no workspace member is called 'zz'"):
        change_dependency(workspace, "add", "zz", ["x"])


def test_a_venv_is_inspected_against_the_lock(chain: Path, h: SimpleNamespace) -> None:
    workspace = load_workspace(chain)
    assert not inspect_venv(workspace, None).exists
    h.uv(chain, "sync", "--all-packages")
    report = inspect_venv(workspace, read_lock(chain / "uv.lock"))
    assert report.exists
    assert report.python is not None
    assert report.python.startswith("3.12")
    assert report.drift == []
    site = next((chain / ".venv").glob("lib/python*/site-packages"))
    (site / "stray-1.0.dist-info").mkdir()
    (site / "idna-0.1.dist-info").mkdir()
    drift = inspect_venv(workspace, read_lock(chain / "uv.lock")).drift
    assert {entry["name"] for entry in drift} == {"stray", "idna"}
    with pytest.raises(WorkspaceError, match="outside the workspace root"):
        inspect_venv(workspace, None, path=chain.parent)
