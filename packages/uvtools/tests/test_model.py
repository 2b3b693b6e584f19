from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from codegen_lab.uvtools import Graph, WorkspaceError, find_root, load_workspace


def test_members_follow_uvs_globs_and_excludes(chain: Path) -> None:
    from_pyproject = load_workspace(chain, members_from="pyproject")
    from_uv = load_workspace(chain, members_from="uv")
    assert from_pyproject.names == ("a", "b", "c", "d")
    assert from_uv.discovered_by == "uv"
    assert from_pyproject.discovered_by == "pyproject"
    assert from_uv.names == from_pyproject.names
    assert from_uv.members == from_pyproject.members


def test_a_stale_lock_falls_back_to_the_globs(chain: Path, h: SimpleNamespace) -> None:
    h.write(chain / "packages" / "e" / "pyproject.toml", h.project("e"))
    workspace = load_workspace(chain)  # uv refuses a stale lock with --frozen: the globs answer
    assert workspace.discovered_by == "pyproject"
    assert workspace.names == ("a", "b", "c", "d", "e")
    with pytest.raises(WorkspaceError, match="uv workspace metadata could not list the members"):
        load_workspace(chain, members_from="uv")


def test_a_member_declares_versions_dependencies_groups_and_extras(chain: Path) -> None:
    workspace = load_workspace(chain)
    b, c = workspace.member("b"), workspace.member("C")
    assert (b.version, b.relative, b.requires_python, b.packaged) == ("0.1.0", "packages/b", ">=3.12", True)
    assert b.internal_dependencies == ("a",)
    (typing,) = b.external_dependencies
    assert (typing.name, typing.specifier, typing.marker) == ("typing-extensions", ">=4", 'python_version < "3.13"')
    assert [dep.source for dep in b.dependencies if dep.internal] == ["workspace"]
    assert c.extras == ("net",)
    assert c.groups == ("dev",)
    assert {(dep.name, dep.kind, dep.group) for dep in c.external_dependencies} == {
        ("idna", "optional", "net"),
        ("anyio", "group", "dev"),
    }
    assert workspace.root == chain.resolve()


def test_the_root_is_found_from_a_nested_folder(chain: Path) -> None:
    assert find_root(chain / "packages" / "b" / "src") == chain.resolve()
    assert load_workspace(chain / "packages" / "c").names == ("a", "b", "c", "d")


def test_files_belong_to_the_deepest_member(chain: Path) -> None:
    workspace = load_workspace(chain)
    owner = workspace.owner_of("packages/b/src/b/__init__.py")
    assert owner is not None
    assert owner.name == "b"
    assert workspace.owner_of("README.md") is None  # a virtual root is no member
    assert workspace.owner_of("packages/bee/x.py") is None


def test_an_unknown_member_lists_the_members(chain: Path) -> None:
    with pytest.raises(WorkspaceError, match="no workspace member is called 'zed'") as caught:
        load_workspace(chain).member("zed")
    assert caught.value.hint == "Members: a, b, c, d"


def test_a_project_root_is_a_member_and_owns_the_rest(tmp_path: Path, h: SimpleNamespace) -> None:
    h.write(
        tmp_path / "pyproject.toml",
        h.project("app", workspace_deps=("lib",), extra='[tool.uv.workspace]\nmembers = ["lib"]', packaged=False),
    )
    h.write(tmp_path / "lib" / "pyproject.toml", h.project("lib"))
    h.uv(tmp_path, "lock")
    workspace = load_workspace(tmp_path)
    assert workspace.names == ("app", "lib")
    assert workspace.member("app").packaged is False
    assert workspace.member("app").relative == "."
    owner = workspace.owner_of("docs/index.md")
    assert owner is not None
    assert owner.name == "app"
    assert workspace.owner_of(tmp_path.parent / "elsewhere.py") is None
    assert workspace.owner_of("../outside.py") is None
    inner = workspace.owner_of(tmp_path / "lib" / "x.py")
    assert inner is not None
    assert inner.name == "lib"
    assert Graph.of(workspace).order() == ["lib", "app"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[project\n", "not valid TOML"),
        ('[project]\nversion = "1"\n', "name is missing"),
        ('[project]\nname = "x"\ndependencies = ["not a requirement!"]\n', r"\[project\] dependencies: 'not a"),
        ('[project]\nname = "x"\nversion = 1\n', "version must be a string"),
        ('[project]\nname = "x"\n[project.optional-dependencies]\nnet = [3]\n', "net: 3 is not a requirement"),
    ],
)
def test_a_bad_pyproject_is_named_with_its_field(tmp_path: Path, h: SimpleNamespace, text: str, message: str) -> None:
    h.write(tmp_path / "pyproject.toml", '[tool.uv.workspace]\nmembers = ["m"]\n')
    bad = h.write(tmp_path / "m" / "pyproject.toml", text)
    with pytest.raises(WorkspaceError, match=message) as caught:
        load_workspace(tmp_path, members_from="pyproject")
    assert str(bad) in str(caught.value)


def test_no_pyproject_anywhere_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match=r"no pyproject\.toml"):
        find_root(tmp_path)


def test_members_globs_must_be_strings(tmp_path: Path, h: SimpleNamespace) -> None:
    h.write(tmp_path / "pyproject.toml", "[tool.uv.workspace]\nmembers = [1]\n")
    with pytest.raises(WorkspaceError, match=r"\[tool.uv.workspace\] members must be a list of strings"):
        load_workspace(tmp_path)


def test_this_repository_is_a_workspace_uvtools_reads(repository_root: Path) -> None:
    workspace = load_workspace(repository_root)
    assert {"codegen-lab-mcp-core", "codegen-lab-server", "codegen-lab-uvtools"} <= set(workspace.names)
    assert "codegen-lab-common" in workspace.member("codegen-lab-uvtools").internal_dependencies
    order = Graph.of(workspace).order()
    assert order.index("codegen-lab-common") < order.index("codegen-lab-uvtools") < order.index("codegen-lab-server")
    assert load_workspace(repository_root, members_from="pyproject").names == workspace.names


def test_membership_follows_uvs_rules(tmp_path: Path, h: SimpleNamespace) -> None:
    """Globs, excludes, hidden, empty and missing folders, and files, checked against `uv workspace list`."""
    h.write(
        tmp_path / "pyproject.toml",
        '[tool.uv.workspace]\nmembers = ["p/*", "lib/missing", "tools/**/x-*"]\nexclude = ["p/skip*"]\n',
    )
    for name in ("a", ".hidden", "skip-me"):
        h.write(tmp_path / "p" / name / "pyproject.toml", h.project(name.strip(".")))
    h.write(tmp_path / "p" / "skip-too" / "README.md", "no pyproject, but excluded\n")
    (tmp_path / "p" / "empty").mkdir()
    h.write(tmp_path / "p" / "notes.md", "a file the glob matches\n")
    h.write(tmp_path / "tools" / "deep" / "x-tool" / "pyproject.toml", h.project("x-tool"))
    listed = sorted(h.uv(tmp_path, "workspace", "list").stdout.split())
    assert listed == ["a", "hidden", "x-tool"]
    assert list(load_workspace(tmp_path).names) == listed
