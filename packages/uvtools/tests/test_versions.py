from __future__ import annotations

import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, strategies as st
from packaging.requirements import Requirement
from packaging.version import Version
from uv import find_uv_bin

from codegen_lab.common import _journal
from codegen_lab.common.errors import OperationError
from codegen_lab.common.files import recent_changes, undo_last
from codegen_lab.common.results import to_json
from codegen_lab.uvtools import WorkspaceError, bump, bump_version, load_workspace, read_lock, rewrite_requirement

VERSIONS = ("1.2.3", "0.1", "1.3.0b1", "1.3.0rc2", "1.2.3.post1", "1.2.3.dev1")
PARTS = ("major", "minor", "patch", "alpha", "beta", "rc", "post", "dev", "stable")


def uvs_bump(folder: Path, version: str, *parts: str) -> str | None:
    pyproject = folder / "pyproject.toml"
    pyproject.write_text(f'[project]\nname = "probe"\nversion = "{version}"\n', encoding="utf-8")
    command = [find_uv_bin(), "version", "--dry-run", "--short", "--frozen"]
    command += [argument for part in parts for argument in ("--bump", part)]
    completed = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
    return completed.stdout.strip().splitlines()[-1] if completed.returncode == 0 else None


def ours(version: str, part: str, pre: str | None = None) -> str | None:
    try:
        return bump_version(version, part, pre=pre)
    except WorkspaceError:
        return None


def test_bumps_match_uv_version_bump(tmp_path: Path) -> None:
    mismatches = [
        (version, part, expected, ours(version, part))
        for version in VERSIONS
        for part in PARTS
        if (expected := uvs_bump(tmp_path, version, part)) != ours(version, part)
    ]
    mismatches += [
        (version, "minor+beta", expected, ours(version, "minor", "beta"))
        for version in VERSIONS
        if (expected := uvs_bump(tmp_path, version, "minor", "beta")) != ours(version, "minor", "beta")
    ]
    assert mismatches == []


@pytest.mark.parametrize(
    ("requirement", "version", "expected"),
    [
        ("lib>=0.1,<0.2", "0.2.0", "lib>=0.2,<0.3"),
        ("lib >= 1.2.3, < 2 ; python_version < '3.13'", "1.3.0", "lib >= 1.3.0, < 2 ; python_version < '3.13'"),
        ("lib>=1,<2", "2.0.0", "lib>=2,<3"),
        ("lib[fast]==1.0", "1.0.1", "lib[fast]==1.0.1"),
        ("lib~=0.1", "0.2.0", "lib~=0.2"),
        ("lib", "9.0.0", "lib"),
        ("lib>=0.1,!=0.1.5", "0.2.0b1", "lib>=0.2b1,!=0.1.5"),
    ],
)
def test_requirements_follow_the_new_version_in_their_style(requirement: str, version: str, expected: str) -> None:
    assert rewrite_requirement(requirement, version) == expected


def test_bump_shows_then_writes_edits_keeping_comments(chain: Path, h: SimpleNamespace) -> None:
    b_pyproject = chain / "packages" / "b" / "pyproject.toml"
    text = b_pyproject.read_text().replace("dependencies = [", "# keep me\ndependencies = [  # and me\n")
    b_pyproject.write_text(text, encoding="utf-8")
    workspace = load_workspace(chain)
    before = {path: path.read_text() for path in chain.glob("packages/*/pyproject.toml")}
    plan = bump(workspace, "a", "minor")
    assert plan.versions == {"a": ("0.1.0", "0.2.0")}
    assert [(e.path.parent.name, e.field, e.before, e.after) for e in plan.edits] == [
        ("a", "project.version", "0.1.0", "0.2.0"),
        ("b", "project.dependencies", "a>=0.1", "a>=0.2"),
    ]
    assert not plan.applied
    assert {path: path.read_text() for path in before} == before  # a plan writes nothing

    applied = bump(workspace, "a", "minor", apply=True)
    assert applied.applied
    assert applied.locked is True
    assert b_pyproject.read_text() == text.replace('"a>=0.1"', '"a>=0.2"')
    assert "# keep me\ndependencies = [  # and me\n" in b_pyproject.read_text()
    assert load_workspace(chain).member("a").version == "0.2.0"
    (locked,) = read_lock(chain / "uv.lock").by_name("a")
    assert locked.version == "0.2.0"
    assert not list(chain.rglob("*.uvtools-backup"))


def test_one_undo_takes_back_a_bump_with_its_lock(chain: Path) -> None:
    files = [*chain.glob("packages/*/pyproject.toml"), chain / "uv.lock"]
    before = {path: path.read_bytes() for path in files}
    bump(load_workspace(chain), "a", "minor", apply=True)
    [change] = recent_changes(chain)
    assert change.purpose == "bump a minor"
    assert [(item.path, item.action) for item in change.files] == [
        ("packages/a/pyproject.toml", "write"),
        ("packages/b/pyproject.toml", "write"),
        ("uv.lock", "snapshot"),
    ]
    assert undo_last(chain).restored == ("uv.lock", "packages/b/pyproject.toml", "packages/a/pyproject.toml")
    assert {path: path.read_bytes() for path in files} == before


def test_a_bump_that_cannot_write_changes_nothing(chain: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    b_pyproject = chain / "packages" / "b" / "pyproject.toml"
    before = {path: path.read_bytes() for path in chain.glob("packages/*/pyproject.toml")}
    real = _journal.replace_atomically

    def full_disk_for_b(path: Path, data: bytes, *, mode: int | None = None, root: Path | None = None) -> None:
        if path == b_pyproject:
            raise OSError(28, "No space left on device")
        real(path, data, mode=mode, root=root)

    monkeypatch.setattr(_journal, "replace_atomically", full_disk_for_b)
    with pytest.raises(OperationError, match=r"nothing was changed: could not write packages/b/pyproject\.toml"):
        bump(load_workspace(chain), "a", "minor", apply=True)
    assert {path: path.read_bytes() for path in before} == before
    assert recent_changes(chain)[0].undone is not None


def test_bump_with_dependents(chain: Path) -> None:
    plan = bump(load_workspace(chain), "a", "major", dependents="patch")
    assert plan.versions == {"a": ("0.1.0", "1.0.0"), "b": ("0.1.0", "0.1.1"), "c": ("0.1.0", "0.1.1")}
    fields = [(e.path.parent.name, e.field, e.after) for e in plan.edits]
    assert ("b", "project.dependencies", "a>=1.0") in fields
    assert ("c", "project.version", "0.1.1") in fields
    assert to_json(plan)["edits"][0] == {
        "path": "packages/a/pyproject.toml",
        "field": "project.version",
        "before": "0.1.0",
        "after": "1.0.0",
    }


def test_a_dynamic_version_is_refused(tmp_path: Path, h: SimpleNamespace) -> None:
    h.write(tmp_path / "pyproject.toml", '[project]\nname = "dyn"\ndynamic = ["version"]\n')
    with pytest.raises(WorkspaceError, match="version is dynamic"):
        bump(load_workspace(tmp_path), "dyn", "patch")


def test_a_bump_that_does_not_increase_is_refused() -> None:
    with pytest.raises(WorkspaceError, match="not greater"):
        bump_version("1.0.0", "beta")
    with pytest.raises(WorkspaceError, match="not a PEP 440 version"):
        bump_version("one", "patch")


@given(
    st.tuples(st.integers(0, 3), st.integers(0, 12), st.integers(0, 12)),
    st.sampled_from(["major", "minor", "patch"]),
    st.sampled_from(["lib>={low}", "lib>={low},<{high}", "lib >= {low} , < {high}", "lib~={low}", "lib=={low}"]),
)
def test_a_rewritten_requirement_admits_the_new_version(
    release: tuple[int, int, int], part: str, template: str
) -> None:
    old = ".".join(map(str, release))
    new = bump_version(old, part)
    high = f"{release[0] + 1}" if release[0] else f"0.{release[1] + 1}"
    requirement = template.format(low=old if "~=" not in template else f"{release[0]}.{release[1]}", high=high)
    rewritten = rewrite_requirement(requirement, new)
    specifier = Requirement(rewritten).specifier
    assert specifier.contains(new, prereleases=True), (requirement, new, rewritten)
    assert not specifier.contains(old, prereleases=True) or Version(old) == Version(new)
    assert rewritten.startswith("lib")
