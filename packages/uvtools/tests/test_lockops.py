from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from uv import find_uv_bin

from codegen_lab.uvtools import (
    LockFileError,
    WorkspaceError,
    check_lock,
    diff_locks,
    load_workspace,
    lock_at,
    member_closure,
    parse_lock,
    read_lock,
    why,
)
from codegen_lab.uvtools._lockops import why_by_member
from codegen_lab.uvtools.cli import cli

LOCK = """
version = 1
revision = 5
requires-python = ">=3.12"

[manifest]
members = ["app", "lib"]

[[package]]
name = "app"
version = "1.0.0"
source = {{ editable = "app" }}
dependencies = [
    {{ name = "lib" }},
    {{ name = "{web}" }},
]

[[package]]
name = "lib"
version = "1.0.0"
source = {{ editable = "lib" }}
dependencies = [
    {{ name = "idna" }},
]

[[package]]
name = "idna"
version = "{idna}"
source = {{ registry = "https://pypi.org/simple" }}

[[package]]
name = "{web}"
version = "2.0"
source = {{ registry = "https://pypi.org/simple" }}
"""


def test_why_lists_every_path_from_a_member(chain: Path) -> None:
    lock = read_lock(chain / "uv.lock")
    paths = why(lock, "anyio")
    assert ["a", "anyio"] in paths
    assert ["b", "a", "anyio"] in paths
    assert ["c", "b", "a", "anyio"] in paths
    assert ["c", "anyio (group dev)"] in paths
    assert why(lock, "idna") == [
        ["a", "anyio", "idna"],
        ["b", "a", "anyio", "idna"],
        ["c", "idna (extra net)"],
        ["c", "anyio (group dev)", "idna"],
        ["c", "b", "a", "anyio", "idna"],
        ["d", "idna"],
    ]
    with pytest.raises(WorkspaceError, match="no package called 'nope'"):
        why(lock, "nope")


def test_why_lists_every_member_with_its_count_when_paths_are_cut(chain: Path) -> None:
    groups = why_by_member(read_lock(chain / "uv.lock"), "idna", limit=1)
    assert [(g.member, g.total, g.truncated, len(g.paths)) for g in groups] == [
        ("a", 1, False, 1),
        ("b", 1, False, 1),
        ("c", 3, True, 1),
        ("d", 1, False, 1),
    ]
    assert groups[2].paths == (("c", "idna (extra net)"),)
    outcome = CliRunner().invoke(cli, ["why", "idna", "--limit", "1", "--root", str(chain), "--format", "json"])
    data = json.loads(outcome.stdout)
    assert (data["total"], data["truncated"]) == (6, True)
    assert [member["member"] for member in data["members"]] == ["a", "b", "c", "d"]
    text = CliRunner().invoke(cli, ["why", "idna", "--limit", "1", "--root", str(chain)]).stdout
    assert "c: 3 path(s), the 1 shortest shown" in text


def test_a_members_closure_follows_extras_groups_and_markers(chain: Path) -> None:
    closure = member_closure(read_lock(chain / "uv.lock"), "b")
    assert set(closure) == {"a", "anyio", "idna", "typing-extensions"}


def test_diff_reports_upgrades_additions_and_removals_per_member() -> None:
    before = parse_lock(LOCK.format(idna="3.6", web="flask"))
    after = parse_lock(LOCK.format(idna="3.10", web="django"))
    diff = diff_locks(before, after, labels=("v1", "v2"))
    assert [(c.name, c.kind, c.before, c.after) for c in diff.changes] == [
        ("django", "added", None, "2.0"),
        ("flask", "removed", "2.0", None),
        ("idna", "upgraded", "3.6", "3.10"),
    ]
    assert [c.describe() for c in diff.changes] == [
        "added      django 2.0",
        "removed    flask 2.0",
        "upgraded   idna 3.6 -> 3.10",
    ]
    assert [c.name for c in diff.members["app"]] == ["django", "flask", "idna"]
    assert [(c.name, c.kind) for c in diff.members["lib"]] == [("idna", "upgraded")]
    reverse = diff_locks(after, before)
    assert [c.kind for c in reverse.changes] == ["removed", "added", "downgraded"]
    assert diff.to_result().model_dump()["members"]["lib"] == [
        {"name": "idna", "kind": "upgraded", "before": "3.6", "after": "3.10"}
    ]


def test_lock_diff_between_git_revisions(chain: Path, git_repo: Callable[[Path], Path], h: SimpleNamespace) -> None:
    git_repo(chain)
    pyproject = chain / "packages" / "d" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"idna>=3"', '"idna>=3", "anyio>=4"'), encoding="utf-8")
    h.uv(chain, "lock")
    diff = diff_locks(lock_at(chain, "HEAD"), lock_at(chain, None))
    assert diff.changes == ()  # anyio was already locked for a
    assert [(c.name, c.kind) for c in diff.members["d"]] == [("anyio", "added"), ("typing-extensions", "added")]
    assert set(diff.members) == {"d"}
    h.git(chain, "commit", "-qam", "d needs anyio")
    assert diff_locks(lock_at(chain, "HEAD~1"), lock_at(chain, "HEAD")).members == diff.members
    with pytest.raises(WorkspaceError, match="'no-such-ref' is not a known git revision"):
        lock_at(chain, "no-such-ref")
    with pytest.raises(WorkspaceError, match="'--output=x' is not a git revision"):
        lock_at(chain, "--output=x")


def test_a_lock_missing_at_a_revision_is_named(
    tmp_path: Path, git_repo: Callable[[Path], Path], h: SimpleNamespace
) -> None:
    h.write(tmp_path / "pyproject.toml", h.project("solo"))
    git_repo(tmp_path)
    with pytest.raises(LockFileError, match=r"HEAD:uv\.lock: not found at HEAD"):
        lock_at(tmp_path, "HEAD")


def test_freshness_comes_from_uv_lock_check(chain: Path) -> None:
    assert check_lock(chain, offline=True).fresh
    pyproject = chain / "packages" / "a" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"anyio>=4"', '"anyio>=4", "idna>=3"'), encoding="utf-8")
    result = check_lock(chain, offline=True)
    assert not result.fresh
    assert "needs to be updated" in result.message
    assert "Resolved" not in result.message
    assert "\n" not in result.message
    assert result.reasons == ("a declares idna (project), uv.lock does not",)


def test_lock_check_says_how_a_lock_is_stale(chain: Path, h: SimpleNamespace) -> None:
    h.write(chain / "packages" / "e" / "pyproject.toml", h.project("e"))
    h.module(chain, "e", "e")
    assert uv_members(h, chain) == ["a", "b", "c", "d", "e"]
    result = check_lock(chain, offline=True)
    assert not result.fresh
    assert result.reasons == ("member e is not in uv.lock",)
    runner = CliRunner()
    outcome = runner.invoke(cli, ["lock", "check", "--offline", "--root", str(chain)])
    assert outcome.exit_code == 1
    assert outcome.stdout.splitlines()[1:] == ["  member e is not in uv.lock"]
    at = ["--root", str(chain)]
    for command in (["members", *at], ["graph", *at], ["why", "anyio", *at], ["run", "--dry-run", *at, "--", "true"]):
        outcome = runner.invoke(cli, command)
        assert outcome.exit_code == 0, outcome.output
        assert "warning: uv.lock is stale: member e is not in uv.lock" in outcome.stderr, command
    assert "e" in runner.invoke(cli, ["graph", "--root", str(chain)]).stdout.split()


def test_a_folder_with_files_but_no_pyproject_is_refused_as_uv_does(chain: Path, h: SimpleNamespace) -> None:
    h.write(chain / "packages" / "notes" / "README.md", "notes\n")
    completed = subprocess.run(
        [find_uv_bin(), "workspace", "list"], cwd=chain, capture_output=True, text=True, check=False
    )
    assert completed.returncode != 0
    assert "missing a `pyproject.toml`" in completed.stderr
    with pytest.raises(WorkspaceError, match=r"workspace member packages/notes is missing a pyproject\.toml"):
        load_workspace(chain)


def uv_members(h: SimpleNamespace, root: Path) -> list[str]:
    return sorted(h.uv(root, "workspace", "list").stdout.split())


def test_a_single_project_lock_has_its_project_as_the_member(tmp_path: Path, h: SimpleNamespace) -> None:
    h.write(tmp_path / "pyproject.toml", h.project("solo", dependencies=("anyio>=4",)))
    h.uv(tmp_path, "lock")
    lock = read_lock(tmp_path / "uv.lock")
    assert lock.members == ()
    assert lock.member_names == ("solo",)
    assert why(lock, "idna") == [["solo", "anyio", "idna"]]
    assert diff_locks(lock, lock).members == {}
    assert set(member_closure(lock, "solo")) == {"anyio", "idna", "typing-extensions"}
