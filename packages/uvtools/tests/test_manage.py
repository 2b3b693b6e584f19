from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from codegen_lab.common.files import recent_changes, undo_last
from codegen_lab.uvtools import (
    WorkspaceError,
    change_dependency,
    create_venv,
    inspect_venv,
    load_workspace,
    outdated,
    read_lock,
    sync,
    upgrade,
)


def test_add_shows_the_uv_command_then_runs_it(chain: Path) -> None:
    workspace = load_workspace(chain)
    planned = change_dependency(workspace, "add", "d", ["anyio>=4"], group="dev")
    assert not planned.applied
    assert planned.to_result().model_dump()["command"] == [
        "uv",
        "add",
        "--directory",
        str(chain.resolve()),
        "--package",
        "d",
        "--group=dev",
        "--",
        "anyio>=4",
    ]
    odd = (
        change_dependency(workspace, "add", "d", ["anyio>=4"], optional="--frozen").to_result().model_dump()["command"]
    )
    assert odd[-3:] == ["--optional=--frozen", "--", "anyio>=4"]  # a value, never an option
    assert "anyio" not in (chain / "packages" / "d" / "pyproject.toml").read_text()
    applied = change_dependency(workspace, "add", "d", ["anyio>=4"], apply=True)
    assert applied.returncode == 0, applied.output
    assert {dep.name for dep in load_workspace(chain).member("d").dependencies} == {"anyio", "idna"}
    removed = change_dependency(load_workspace(chain), "remove", "d", ["anyio"], apply=True)
    assert removed.returncode == 0, removed.output
    assert [dep.name for dep in load_workspace(chain).member("d").dependencies] == ["idna"]


def test_undo_takes_back_what_uv_add_wrote(chain: Path) -> None:
    files = [chain / "packages" / "d" / "pyproject.toml", chain / "pyproject.toml", chain / "uv.lock"]
    before = {path: path.read_bytes() for path in files}
    applied = change_dependency(load_workspace(chain), "add", "d", ["anyio>=4"], apply=True)
    assert applied.returncode == 0, applied.output
    [change] = recent_changes(chain)
    assert change.purpose == "uv add --package d -- anyio>=4"
    assert {item.path for item in change.files} == {"packages/d/pyproject.toml", "uv.lock"}  # the root is unchanged
    undo_last(chain)
    assert {path: path.read_bytes() for path in files} == before
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


def test_sync_upgrade_and_create_show_then_run(chain: Path, tmp_path: Path) -> None:
    workspace = load_workspace(chain)
    assert sync(workspace, member="b").to_result().model_dump()["command"][1:] == [
        "sync",
        "--directory",
        str(chain.resolve()),
        "--package",
        "b",
    ]
    assert upgrade(workspace, ["idna"]).to_result().model_dump()["command"][-1] == "--upgrade-package=idna"
    assert (
        create_venv(workspace, python=sys.executable).to_result().model_dump()["command"][-1]
        == f"--python={sys.executable}"
    )
    with pytest.raises(WorkspaceError, match="not a package name"):
        upgrade(workspace, ["--index-url=http://evil"])
    with pytest.raises(WorkspaceError, match="not a Python version"):
        create_venv(workspace, python="--system")
    ran = sync(workspace, member="b", apply=True)
    assert ran.returncode == 0, ran.output
    assert inspect_venv(workspace, read_lock(chain / "uv.lock")).exists
    upgraded = upgrade(workspace, ["idna"], apply=True)
    assert upgraded.returncode == 0, upgraded.output


def test_outdated_offline_says_so(chain: Path) -> None:
    workspace = load_workspace(chain)
    report = outdated(workspace, offline=True).to_result().model_dump()
    assert report["members"] == {}
    assert report["unchecked"]["a"] == "offline: the index was not asked"
    tree = outdated(workspace, members=["d"])
    assert set(tree.members) | set(tree.unchecked) == {"d"}


def test_uv_tree_outdated_lines_are_read() -> None:
    from codegen_lab.uvtools._health import parse_outdated_tree

    # As uv 0.13.9 prints it for a member that pins idna below the latest release.
    text = "a v1.0\n├── anyio v4.16.0\n├── idna v3.9 (latest: v3.20)\n└── typing-extensions v4.16.0\n"
    assert parse_outdated_tree(text) == [{"name": "idna", "version": "3.9", "latest": "3.20"}]
