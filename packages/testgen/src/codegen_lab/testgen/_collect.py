"""Which files are test files: pytest's `python_files` rule, as the project's pytest configuration sets it.

`testgen_run` is a read-only tool: it runs a project's tests, never an arbitrary module of it, so each file it
is given must be one pytest itself would collect as a test module.
"""

from __future__ import annotations

import configparser
import fnmatch
import tomllib
from pathlib import Path
from typing import cast

from codegen_lab.testgen.errors import TestgenUsageError

__all__ = ["DEFAULT_PATTERNS", "python_files", "require_test_files"]

DEFAULT_PATTERNS = ("test_*.py", "*_test.py")
"""pytest's default `python_files`."""


def python_files(root: Path) -> tuple[str, ...]:
    """The `python_files` patterns of the pytest configuration at `root`, in pytest's order of precedence.

    pytest.ini, then pyproject.toml (`[tool.pytest]` or `[tool.pytest.ini_options]`), tox.ini, setup.cfg; the
    first file that configures pytest decides, and without `python_files` there the default holds.
    """
    found = _ini(root / "pytest.ini", "pytest")
    if found is not None:
        return found or DEFAULT_PATTERNS
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
            data = {}
        tool: object = data.get("tool")
        table = cast("dict[str, object]", tool).get("pytest") if isinstance(tool, dict) else None
        if isinstance(table, dict):
            options = cast("dict[str, object]", table)
            inner = options.get("ini_options", options)
            value = cast("dict[str, object]", inner).get("python_files") if isinstance(inner, dict) else None
            return _patterns(value) or DEFAULT_PATTERNS
    for name, section in (("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")):
        found = _ini(root / name, section)
        if found is not None:
            return found or DEFAULT_PATTERNS
    return DEFAULT_PATTERNS


def _ini(path: Path, section: str) -> tuple[str, ...] | None:
    """The patterns in `section` of the INI file at `path`; () when the section has none; None without section."""
    if not path.is_file():
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text(encoding="utf-8"))
    except (OSError, configparser.Error, UnicodeDecodeError):
        return None
    if not parser.has_section(section):
        return None
    return _patterns(parser.get(section, "python_files", fallback=""))


def _patterns(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, list):
        return tuple(str(item) for item in cast("list[object]", value))
    return ()


def require_test_files(root: Path, paths: list[str], argument: str = "paths") -> None:
    """Check that each file among `paths` (absolute, node ids allowed) is a test file by the project's rules.

    Folders pass: pytest collects only test files from them.

    Raises:
        TestgenUsageError: Naming the first path that is not a test file.
    """
    patterns = python_files(root)
    for node in paths:
        path = Path(node.partition("::")[0])
        if path.is_dir():
            continue
        if not _matches(path, patterns):
            shown = path.relative_to(root) if path.is_relative_to(root) else path
            raise TestgenUsageError(
                f"{argument}: {str(shown)!r} is not a test file (pytest's python_files: {' '.join(patterns)})",
                hint="Pass test files or folders; testgen runs tests, never another module of the project",
            )


def _matches(path: Path, patterns: tuple[str, ...]) -> bool:
    """Pytest's rule: a pattern with a path separator matches the whole path, else the file name."""
    if path.suffix != ".py":
        return False
    return any(fnmatch.fnmatch(str(path) if "/" in pattern else path.name, pattern) for pattern in patterns)
