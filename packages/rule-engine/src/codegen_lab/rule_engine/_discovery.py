"""Finding every rule file in a repository, whatever the assistant it is written for."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codegen_lab.rule_engine._formats import RuleFormat, format_for, formats

__all__ = ["SKIPPED_FOLDERS", "Discovered", "discover"]

SKIPPED_FOLDERS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        ".venv",
        "venv",
        "__pycache__",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "site-packages",
        ".eggs",
        "dist",
        "build",
    }
)


@dataclass(slots=True)
class Discovered:
    """What discovery found under a root."""

    rules: list[tuple[Path, RuleFormat]] = field(default_factory=list[tuple[Path, RuleFormat]])
    ignored: list[Path] = field(default_factory=list[Path])
    """Files that look like rules but that the assistant ignores, such as a `.md` in `.cursor/rules`."""
    files: int = 0
    """How many files were looked at (for glob checks, the repository's files are listed in `paths`)."""
    paths: list[str] = field(default_factory=list[str])
    """Every file under the root that is not ignored, relative to the root with `/` separators."""


def discover(
    root: Path,
    *,
    only: Path | None = None,
    loose: bool = False,
    rule_formats: tuple[RuleFormat, ...] | None = None,
) -> Discovered:
    """Every rule file under `root`.

    `.gitignore` files are honoured, dependency and virtual environment folders skipped, and no symbolic link
    is followed out of the root.

    Args:
        root: The repository root.
        only: A folder under the root to search instead of all of it (rules still get their place from `root`).
        loose: Also read `*.mdc` and `.cursorrules` files wherever they sit, as Cursor rules (for a folder that
            someone asked to lint explicitly).
        rule_formats: The formats to recognise (default: the built-in and installed ones).
    """
    available = rule_formats or formats()
    root = root.resolve()
    start = (only or root).resolve()
    found = Discovered()
    for path in _walk(root, start):
        relpath = path.relative_to(root).as_posix()
        found.files += 1
        found.paths.append(relpath)
        fmt = format_for(relpath, available) or (_loose_format(relpath, available) if loose else None)
        if fmt is not None:
            found.rules.append((path, fmt))
        elif "/.cursor/rules/" in f"/{relpath}" and relpath.endswith(".md"):
            found.ignored.append(path)
    return found


def _walk(root: Path, start: Path) -> Iterator[Path]:
    specs: list[tuple[str, Any]] = []
    _add_gitignore(root, root, specs)
    if start != root:
        # The .gitignore files of the folders between the root and the start folder count too.
        for parent in reversed(start.relative_to(root).parents[:-1]):
            _add_gitignore(root / parent, root, specs)
    yield from _walk_folder(start, root, specs)


def _walk_folder(folder: Path, root: Path, specs: list[tuple[str, Any]]) -> Iterator[Path]:
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError:
        return
    local = list(specs)
    if folder != root:
        _add_gitignore(folder, root, local)
    for entry in entries:
        path = Path(entry.path)
        relpath = path.relative_to(root).as_posix()
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
            is_link = entry.is_symlink()
        except OSError:
            continue
        if _ignored(relpath, is_dir, local):
            continue
        if is_dir:
            if entry.name in SKIPPED_FOLDERS or (path / "pyvenv.cfg").exists():
                continue
            yield from _walk_folder(path, root, local)
        elif is_link:
            target = path.resolve()
            if target.is_file() and target.is_relative_to(root):
                yield path
        elif entry.is_file(follow_symlinks=False):
            yield path


def _add_gitignore(folder: Path, root: Path, specs: list[tuple[str, Any]]) -> None:
    ignore = folder / ".gitignore"
    if not ignore.is_file():
        return
    from pathspec import GitIgnoreSpec  # noqa: PLC0415

    try:
        lines = ignore.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return
    base = folder.relative_to(root).as_posix()
    specs.append(("" if base == "." else base, GitIgnoreSpec.from_lines(lines)))


def _ignored(relpath: str, is_dir: bool, specs: list[tuple[str, Any]]) -> bool:
    for base, spec in specs:
        if base and not relpath.startswith(base + "/"):
            continue
        local = relpath[len(base) + 1 :] if base else relpath
        if spec.match_file(local + "/" if is_dir else local):
            return True
    return False


def _loose_format(relpath: str, available: tuple[RuleFormat, ...]) -> RuleFormat | None:
    """For a file outside the usual places: `.mdc` is a Cursor rule, `.cursorrules` the legacy one."""
    wanted = "cursor-mdc" if relpath.endswith(".mdc") else "cursorrules" if relpath.endswith(".cursorrules") else None
    return next((fmt for fmt in available if fmt.name == wanted), None)
