from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from codegen_lab.uvtools import WorkspaceError, check_deps, lint, load_workspace, read_lock
from codegen_lab.uvtools.cli import cli


def kinds(findings: list) -> set[tuple[str, str | None, str]]:
    return {(finding.kind, finding.member, finding.subject) for finding in findings}


def test_imports_are_checked_against_declarations(chain: Path, h: SimpleNamespace) -> None:
    # a declares anyio and imports it and idna (which anyio brings); b imports c, which it does not depend on.
    h.module(chain, "a", "a", "import anyio\nimport idna\nimport os\nfrom . import x\n")
    h.module(chain, "b", "b", "import a\nimport c\nfrom typing import Any\n")
    h.write(chain / "packages" / "b" / "tests" / "test_b.py", "import pytest\n")
    h.module(chain, "d", "d", "import idna\nimport yaml_not_anywhere\n")
    report = check_deps(load_workspace(chain), read_lock(chain / "uv.lock"), python=sys.executable)
    assert report.checked == ["a", "b", "c", "d"]
    assert kinds(report.findings) == {
        ("transitive", "a", "idna"),
        ("missing", "b", "c"),
        ("unused", "b", "typing-extensions"),
        ("unused", "c", "b"),
        ("missing", "d", "yaml-not-anywhere"),
    }
    assert report.module_source
    (transitive,) = [f for f in report.findings if f.kind == "transitive"]
    assert "packages/a/src/a/__init__.py imports idna" in transitive.message


def test_without_a_venv_it_refuses_with_the_command_to_make_one(chain: Path) -> None:
    with pytest.raises(WorkspaceError, match="no virtual environment") as caught:
        check_deps(load_workspace(chain), read_lock(chain / "uv.lock"))
    assert "uv sync --all-packages" in (caught.value.hint or "")
    outcome = CliRunner().invoke(cli, ["deps", "check", "--root", str(chain)])
    assert outcome.exit_code == 2
    assert "--python" in outcome.output
    outcome = CliRunner().invoke(cli, ["deps", "check", "--root", str(chain), "--python", sys.executable])
    assert outcome.exit_code in {0, 1}
    assert f"distributions of {sys.executable}" in outcome.stdout


def test_the_workspace_venv_is_used_and_guarded_imports_are_optional(chain: Path, h: SimpleNamespace) -> None:
    h.module(
        chain,
        "d",
        "d",
        "import idna\ntry:\n    import yaml_not_anywhere\nexcept ImportError:\n    pass\n"
        "try:\n    from fancy_thing import x\nexcept (ModuleNotFoundError, OSError):\n    x = None\n"
        "import really_missing\n",
    )
    h.uv(chain, "sync", "--all-packages", "--offline")
    report = check_deps(load_workspace(chain), read_lock(chain / "uv.lock"), members=["d"])
    assert report.module_source in {f"distributions in {chain / '.venv'}", "uv workspace metadata"}
    assert kinds(report.findings) == {("missing", "d", "really-missing")}


def test_a_dynamic_members_declarations_come_from_the_lock(tmp_path: Path, h: SimpleNamespace) -> None:

    h.write(tmp_path / "pyproject.toml", '[tool.uv.workspace]\nmembers = ["packages/*"]\n')
    h.write(tmp_path / "packages" / "a" / "pyproject.toml", h.project("a"))
    h.module(tmp_path, "a", "a")
    h.dynamic(tmp_path / "packages" / "dyn", "a")
    h.write(tmp_path / "packages" / "dyn" / "dyn.py", "import a\n")
    h.uv(tmp_path, "lock")
    workspace = load_workspace(tmp_path)
    report = check_deps(workspace, read_lock(tmp_path / "uv.lock"), members=["dyn"], python=sys.executable)
    assert report.findings == []
    report = check_deps(workspace, None, members=["dyn"], python=sys.executable)
    assert kinds(report.findings) == {("unknown", "dyn", "dyn")}


def test_the_repository_declares_what_uvtools_imports(repository_root: Path) -> None:
    workspace = load_workspace(repository_root)
    report = check_deps(workspace, read_lock(repository_root / "uv.lock"), members=["codegen-lab-uvtools"])
    assert report.findings == []


def test_lint_finds_inconsistencies(tmp_path: Path, h: SimpleNamespace) -> None:
    h.write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "root"\nrequires-python = ">=3.12"\n[tool.uv.workspace]\nmembers = ["p/*"]\n',
    )
    h.write(tmp_path / "p" / "one" / "pyproject.toml", h.project("one", dependencies=("idna>=3",), version="2.0"))
    h.write(
        tmp_path / "p" / "two" / "pyproject.toml",
        h.project("two", dependencies=("idna>=3.5", "one<2"), requires_python=">=3.11"),
    )
    h.write(tmp_path / "p" / "three" / "pyproject.toml", h.project("three", dependencies=("idna >= 3",)))
    findings = lint(load_workspace(tmp_path))
    assert kinds(findings) == {
        ("inconsistent-specifier", None, "idna"),
        ("requires-python", "two", ">=3.11"),
        ("internal-excludes-version", "two", "one"),
        ("missing-workspace-source", "two", "one"),
    }
    (specifiers,) = [f for f in findings if f.kind == "inconsistent-specifier"]
    assert specifiers.message == "idna is required differently: >=3 in one, three; >=3.5 in two"


def test_a_tidy_workspace_lints_clean(chain: Path) -> None:
    assert lint(load_workspace(chain)) == []
