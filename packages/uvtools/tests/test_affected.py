from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

from codegen_lab.uvtools import CommandError, WorkspaceError, affected, changed_files, load_workspace


@pytest.fixture
def repo(chain: Path, git_repo: Callable[[Path], Path]) -> Path:
    return git_repo(chain)


def test_a_change_in_a_member_affects_its_dependents(repo: Path) -> None:
    (repo / "packages" / "a" / "src" / "a" / "__init__.py").write_text("X = 1\n", encoding="utf-8")
    result = affected(load_workspace(repo), "HEAD")
    assert result.as_json() == {"changed": ["a"], "affected": ["a", "b", "c"]}
    assert result.files == ("packages/a/src/a/__init__.py",)
    assert result.reasons == {"a": ["packages/a/src/a/__init__.py"]}


def test_untracked_and_committed_changes_count(repo: Path, h: SimpleNamespace) -> None:
    h.write(repo / "packages" / "d" / "src" / "d" / "new.py", "Y = 2\n")
    assert affected(load_workspace(repo), "HEAD").as_json() == {"changed": ["d"], "affected": ["d"]}
    h.git(repo, "add", "-A")
    h.git(repo, "commit", "-qm", "new module")
    (repo / "packages" / "b" / "README.md").write_text("b\n", encoding="utf-8")
    result = affected(load_workspace(repo), "HEAD~1")
    assert result.as_json() == {"changed": ["b", "d"], "affected": ["b", "c", "d"]}
    assert affected(load_workspace(repo), "HEAD~1").files == ("packages/b/README.md", "packages/d/src/d/new.py")


def test_nothing_changed_affects_nothing(repo: Path) -> None:
    assert affected(load_workspace(repo), "HEAD").as_json() == {"changed": [], "affected": []}
    assert changed_files(repo, "HEAD") == []


def test_a_lock_change_touches_the_members_whose_dependencies_changed(repo: Path, h: SimpleNamespace) -> None:
    pyproject = repo / "packages" / "d" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"idna>=3"', '"idna>=3", "anyio>=4"'), encoding="utf-8")
    h.uv(repo, "lock")
    result = affected(load_workspace(repo), "HEAD")
    assert result.as_json() == {"changed": ["d"], "affected": ["d"]}
    assert result.reasons["d"] == ["packages/d/pyproject.toml", "uv.lock"]


def test_root_files_map_to_the_members_they_touch(repo: Path, h: SimpleNamespace) -> None:
    (repo / "README.md").write_text("docs\n", encoding="utf-8")
    assert affected(load_workspace(repo), "HEAD").as_json() == {"changed": [], "affected": []}
    root = repo / "pyproject.toml"
    root.write_text(root.read_text() + '\n[tool.uv]\nconstraint-dependencies = ["idna<99"]\n', encoding="utf-8")
    assert affected(load_workspace(repo), "HEAD").changed == ("a", "b", "c", "d")
    h.git(repo, "commit", "-qam", "constraints")
    (repo / ".python-version").write_text("3.12\n", encoding="utf-8")
    assert affected(load_workspace(repo), "HEAD").changed == ("a", "b", "c", "d")


def test_a_workspace_glob_change_touches_the_members_it_adds(repo: Path, h: SimpleNamespace) -> None:
    h.write(repo / "extra" / "e" / "pyproject.toml", h.project("e"))
    h.git(repo, "add", "-A")
    h.git(repo, "commit", "-qm", "e, not yet a member")
    root = repo / "pyproject.toml"
    root.write_text(root.read_text().replace('["packages/*"]', '["packages/*", "extra/*"]'), encoding="utf-8")
    result = affected(load_workspace(repo, members_from="pyproject"), "HEAD")
    assert result.as_json() == {"changed": ["e"], "affected": ["e"]}


def test_bad_revisions_are_reported(repo: Path) -> None:
    workspace = load_workspace(repo)
    with pytest.raises(WorkspaceError, match="'no-such-branch' is not a known git revision"):
        affected(workspace, "no-such-branch")
    with pytest.raises(WorkspaceError, match="is not a git revision"):
        affected(workspace, "--exec=rm")


def test_outside_a_git_repository_is_reported(chain: Path) -> None:
    with pytest.raises(CommandError, match="not a git repository"):
        affected(load_workspace(chain), "HEAD")
