"""Each package imports only down the stack: common <- llm <- mcp-core <- libraries <- apps/server.

A library never imports another library (dependencies are passed in by the server), and nothing imports up.
The check reads every `import` of every source file, including those inside functions and `TYPE_CHECKING`.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).parent.parent
LAYERS = {"common": 0, "llm": 1, "mcp_core": 2, "server": 4}
"""The layer of each package; every other member is a library, on layer 3."""


def imported_packages(source: Path) -> set[str]:
    """The `codegen_lab.<package>` names a source file imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] if node.module != "codegen_lab" else [f"codegen_lab.{a.name}" for a in node.names]
        found.update(name.split(".")[1] for name in names if name.startswith("codegen_lab."))
    return found


def packages() -> dict[str, Path]:
    """Each member's import name and its source folder, from the workspace's members list."""
    workspace = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    found: dict[str, Path] = {}
    for member in workspace["tool"]["uv"]["workspace"]["members"]:
        project = tomllib.loads((ROOT / member / "pyproject.toml").read_text(encoding="utf-8"))
        module = project["tool"]["uv"]["build-backend"]["module-name"]
        found[module.split(".")[1]] = ROOT / member / "src" / Path(*module.split("."))
    return found


def test_every_package_imports_only_down_the_stack() -> None:
    wrong: list[str] = []
    for package, folder in packages().items():
        layer = LAYERS.get(package, 3)
        for source in sorted(folder.rglob("*.py")):
            wrong.extend(
                f"{source.relative_to(ROOT)} ({package}) imports codegen_lab.{other}"
                for other in imported_packages(source) - {package}
                if LAYERS.get(other, 3) >= layer
            )
    assert wrong == []


def test_the_check_sees_imports_inside_functions_and_type_checking(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from codegen_lab.mcp_core import Toolkit\n"
        "def f():\n    import codegen_lab.rule_engine.cli\n    from codegen_lab import testgen\n",
        encoding="utf-8",
    )
    assert imported_packages(source) == {"mcp_core", "rule_engine", "testgen"}


def test_every_member_is_placed() -> None:
    assert set(LAYERS) <= set(packages())
