"""The one path guard: what every containment check of Codegen Lab refuses, and what it lets through."""

from __future__ import annotations

from pathlib import Path

import pytest

from codegen_lab.common import UsageError
from codegen_lab.common.guard import AllowedRoots, inside
from codegen_lab.common.testing import ESCAPES, hostile_project


class PackageUsageError(UsageError):
    """A package's own usage error, as testgen and the rule engine have."""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return hostile_project(tmp_path)


@pytest.mark.parametrize("path", ESCAPES)
def test_escapes_are_refused_naming_the_argument_in_the_callers_error(project: Path, path: str) -> None:
    with pytest.raises(PackageUsageError, match=rf"^target '{path}' is outside the root "):
        inside(project, path, "target", error=PackageUsageError)


def test_a_sibling_that_shares_the_roots_name_as_prefix_is_outside(project: Path) -> None:
    with pytest.raises(UsageError, match="outside the root"):
        inside(project, f"{project}-evil/x", "path")


def test_a_loop_of_links_empty_paths_and_nul_bytes_are_refused_by_name(project: Path) -> None:
    with pytest.raises(UsageError, match=r"^path 'loop/x' cannot be resolved: a symbolic link on the way loops"):
        inside(project, "loop/x", "path")
    with pytest.raises(UsageError, match=r"^out is empty"):
        inside(project, "", "out")
    with pytest.raises(UsageError, match="holds a NUL byte"):
        inside(project, "src/a\0b", "path")


def test_paths_inside_resolve_through_links_that_stay_inside(project: Path) -> None:
    real = project.resolve()
    assert inside(project, "link_in/main.py", "path") == real / "src" / "main.py"
    assert inside(project, str(real / "src"), "path") == real / "src"
    assert inside(project, "new/file.py", "path") == real / "new" / "file.py"
    assert inside(project, ".", "path") == real


def test_a_program_is_checked_as_written_and_may_be_a_link_out(project: Path, tmp_path: Path) -> None:
    (project / "python").symlink_to(tmp_path / "outside")
    assert inside(project, "python", "python", follow_links=False) == project.resolve() / "python"
    with pytest.raises(UsageError, match=r"^python '\.\./outside' is outside the root"):
        inside(project, "../outside", "python", follow_links=False)


def test_inside_is_allowed_roots_without_client_roots(project: Path) -> None:
    for path in ("src/main.py", "link_in", "."):
        assert inside(project, path, "path") == AllowedRoots(project).resolve(path, "path")
