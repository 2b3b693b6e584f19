from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from codegen_lab.uvtools import check_deps, lint, load_workspace, read_lock


def kinds(findings: list) -> set[tuple[str, str | None, str]]:
    return {(finding.kind, finding.member, finding.subject) for finding in findings}


def test_imports_are_checked_against_declarations(chain: Path, h: SimpleNamespace) -> None:
    # a declares anyio and imports it and idna (which anyio brings); b imports c, which it does not depend on.
    h.module(chain, "a", "a", "import anyio\nimport idna\nimport os\nfrom . import x\n")
    h.module(chain, "b", "b", "import a\nimport c\nfrom typing import Any\n")
    h.write(chain / "packages" / "b" / "tests" / "test_b.py", "import pytest\n")
    h.module(chain, "d", "d", "import idna\nimport yaml_not_anywhere\n")
    report = check_deps(load_workspace(chain), read_lock(chain / "uv.lock"))
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
