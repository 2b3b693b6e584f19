from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

from codegen_lab.uvtools import WorkspaceError, affected, changed_files, load_workspace


@pytest.fixture
def repo(chain: Path, git_repo: Callable[[Path], Path]) -> Path:
    return git_repo(chain)


def test_a_change_in_a_member_affects_its_dependents(repo: Path) -> None:
    (repo / "packages" / "a" / "src" / "a" / "__init__.py").write_text("X = 1\n", encoding="utf-8")
    result = affected(load_workspace(repo), "HEAD")
    assert result.to_result().model_dump(include={"changed", "affected"}) == {
        "changed": ["a"],
        "affected": ["a", "b", "c"],
    }
    assert result.files == ("packages/a/src/a/__init__.py",)
    assert result.reasons == {"a": ["packages/a/src/a/__init__.py"]}


def test_untracked_and_committed_changes_count(repo: Path, h: SimpleNamespace) -> None:
    h.write(repo / "packages" / "d" / "src" / "d" / "new.py", "Y = 2\n")
    assert affected(load_workspace(repo), "HEAD").to_result().model_dump(include={"changed", "affected"}) == {
        "changed": ["d"],
        "affected": ["d"],
    }
    h.git(repo, "add", "-A")
    h.git(repo, "commit", "-qm", "new module")
    (repo / "packages" / "b" / "README.md").write_text("b\n", encoding="utf-8")
    result = affected(load_workspace(repo), "HEAD~1")
    assert result.to_result().model_dump(include={"changed", "affected"}) == {
        "changed": ["b", "d"],
        "affected": ["b", "c", "d"],
    }
    assert affected(load_workspace(repo), "HEAD~1").files == ("packages/b/README.md", "packages/d/src/d/new.py")


def test_nothing_changed_affects_nothing(repo: Path) -> None:
    assert affected(load_workspace(repo), "HEAD").to_result().model_dump(include={"changed", "affected"}) == {
        "changed": [],
        "affected": [],
    }
    assert changed_files(repo, "HEAD") == []


def test_a_lock_change_touches_the_members_whose_dependencies_changed(repo: Path, h: SimpleNamespace) -> None:
    pyproject = repo / "packages" / "d" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"idna>=3"', '"idna>=3", "anyio>=4"'), encoding="utf-8")
    h.uv(repo, "lock")
    result = affected(load_workspace(repo), "HEAD")
    assert result.to_result().model_dump(include={"changed", "affected"}) == {"changed": ["d"], "affected": ["d"]}
    assert result.reasons["d"] == ["packages/d/pyproject.toml", "uv.lock"]


def test_root_files_map_to_the_members_they_touch(repo: Path, h: SimpleNamespace) -> None:
    (repo / "README.md").write_text("docs\n", encoding="utf-8")
    assert affected(load_workspace(repo), "HEAD").to_result().model_dump(include={"changed", "affected"}) == {
        "changed": [],
        "affected": [],
    }
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
    assert result.to_result().model_dump(include={"changed", "affected"}) == {"changed": ["e"], "affected": ["e"]}


def test_bad_revisions_are_reported(repo: Path) -> None:
    workspace = load_workspace(repo)
    with pytest.raises(WorkspaceError, match="'no-such-branch' is not a known git revision"):
        affected(workspace, "no-such-branch")
    with pytest.raises(WorkspaceError, match="is not a git revision"):
        affected(workspace, "--exec=rm")


def test_outside_a_git_repository_is_one_line_without_git_noise(chain: Path) -> None:
    with pytest.raises(WorkspaceError, match="not a git repository") as caught:
        affected(load_workspace(chain), "HEAD")
    assert "\n" not in str(caught.value)
    assert "fatal" not in str(caught.value)


def test_the_root_pyproject_and_a_relock_in_one_range_keep_the_lock_driven_members(
    repo: Path, h: SimpleNamespace
) -> None:
    """The relock commit of issue 13: the root pyproject changed outside [tool.uv] and uv.lock changed."""
    root = repo / "pyproject.toml"
    h.write(
        repo / "pyproject.toml",
        "[project]\nname = 'root'\nversion = '0.1.0'\nrequires-python = '>=3.12'\n\n" + root.read_text(),
    )
    h.git(repo, "commit", "-qam", "a root project")
    h.uv(repo, "lock")
    h.git(repo, "commit", "-qam", "lock the root")
    base = h.git(repo, "rev-parse", "HEAD").strip()
    root.write_text(root.read_text().replace("version = '0.1.0'", "version = '0.2.0'"), encoding="utf-8")
    pyproject = repo / "packages" / "d" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"idna>=3"', '"idna>=3", "anyio>=4"'), encoding="utf-8")
    h.uv(repo, "lock")
    h.git(repo, "commit", "-qam", "relock")
    for since in (base, f"{base}..HEAD", f"{base}...HEAD"):
        result = affected(load_workspace(repo), since)
        assert result.changed == ("d", "root"), since
        assert "uv.lock" in result.reasons["d"]
        assert result.reasons["root"] == ["pyproject.toml"]


def test_sources_and_exclude_newer_package_touch_only_the_members_that_name_them(repo: Path) -> None:
    root = repo / "pyproject.toml"
    text = root.read_text()
    root.write_text(text + '\n[tool.uv.sources]\nidna = { path = "vendor/idna" }\n', encoding="utf-8")
    result = affected(load_workspace(repo), "HEAD")
    assert result.reasons == {"c": ["pyproject.toml [tool.uv.sources]"], "d": ["pyproject.toml [tool.uv.sources]"]}
    root.write_text(text + '\n[tool.uv]\nexclude-newer-package = { typing-extensions = "2025-01-01T00:00:00Z" }\n')
    result = affected(load_workspace(repo), "HEAD")
    assert result.changed == ("a", "b", "c")  # b declares it, anyio needs it: d is untouched
    assert set(result.reasons["a"]) == {"pyproject.toml exclude-newer-package"}


def test_a_range_between_commits_ignores_the_working_tree(repo: Path, h: SimpleNamespace) -> None:
    h.write(repo / "packages" / "d" / "src" / "d" / "new.py", "Y = 2\n")
    h.git(repo, "add", "-A")
    h.git(repo, "commit", "-qm", "d")
    h.write(repo / "packages" / "a" / "src" / "a" / "untracked.py", "Z = 3\n")
    assert affected(load_workspace(repo), "HEAD~1..HEAD").changed == ("d",)
    assert affected(load_workspace(repo), "HEAD~1").changed == ("a", "d")
    assert affected(load_workspace(repo), "HEAD~1...").changed == ("d",)


def test_since_a_branch_means_since_its_merge_base(repo: Path, h: SimpleNamespace) -> None:
    h.git(repo, "checkout", "-qb", "feature")
    h.write(repo / "packages" / "d" / "src" / "d" / "new.py", "Y = 2\n")
    h.git(repo, "add", "-A")
    h.git(repo, "commit", "-qm", "d on the feature")
    h.git(repo, "checkout", "-q", "main")
    h.write(repo / "packages" / "a" / "src" / "a" / "later.py", "Z = 3\n")
    h.git(repo, "add", "-A")
    h.git(repo, "commit", "-qm", "a on main")
    h.git(repo, "checkout", "-q", "feature")
    assert affected(load_workspace(repo), "main").changed == ("d",)  # not a, changed on main since the fork


def test_a_shallow_clone_gets_a_hint(repo: Path, h: SimpleNamespace, tmp_path: Path) -> None:
    h.git(repo, "checkout", "-qb", "side")
    for index in range(2):
        h.write(repo / "packages" / "d" / f"f{index}.txt", "x\n")
        h.git(repo, "add", "-A")
        h.git(repo, "commit", "-qm", f"side {index}")
    h.git(repo, "checkout", "-q", "main")
    h.write(repo / "packages" / "a" / "f.txt", "x\n")
    h.git(repo, "add", "-A")
    h.git(repo, "commit", "-qm", "main")
    clone = tmp_path / "shallow"
    h.git(tmp_path, "clone", "-q", "--depth=1", "--no-single-branch", repo.as_uri(), str(clone))
    h.git(clone, "checkout", "-q", "side")
    with pytest.raises(WorkspaceError, match="shallow clone") as caught:
        affected(load_workspace(clone), "origin/main")
    assert "git fetch --deepen" in (caught.value.hint or "")
