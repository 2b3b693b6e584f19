"""Finding every rule file in a repository, whatever the assistant it is written for.

The walk never raises for what it finds: a symbolic link loop, a tree deeper than `MAX_DEPTH` folders, a link out
of the root or an unreadable folder is skipped with a note (a `Diagnostic`), and the walk goes on. It keeps its
own stack, so a deep tree cannot exhaust Python's recursion limit.
"""

from __future__ import annotations

import errno
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codegen_lab.rule_engine._formats import RuleFormat, format_for, formats
from codegen_lab.rule_engine._model import Diagnostic, Severity

__all__ = ["MAX_DEPTH", "SKIPPED_FOLDERS", "Discovered", "discover", "loose_format", "real_path"]

MAX_DEPTH = 128
"""Folders below the root the walk descends at most; deeper folders are skipped with a note."""

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

_ROOT_ONLY = re.compile(r"(?P<folder>.+/)(?P<name>\.cursorrules|\.windsurfrules|\.clinerules(?:/.*)?)")
_ROOT_ONLY_TOOL = {".cursorrules": "Cursor", ".windsurfrules": "Windsurf", ".clinerules": "Cline"}

_Specs = list[tuple[str, Any]]


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
    notes: list[Diagnostic] = field(default_factory=list[Diagnostic])
    """What the walk skipped and why (`RE026`), and files an assistant does not read where they are (`RE027`)."""
    folders: list[Path] = field(default_factory=list[Path])
    """Every folder the walk read (the root first): a file added, removed or renamed in one changes its mtime."""


def real_path(path: Path) -> Path | None:
    """`path` with every symbolic link resolved, or None when it cannot be (a loop, too many links)."""
    try:
        return Path(os.path.realpath(path, strict=True))
    except (OSError, RuntimeError, ValueError):
        return None


def discover(
    root: Path,
    *,
    only: Path | None = None,
    loose: bool = False,
    rule_formats: tuple[RuleFormat, ...] | None = None,
) -> Discovered:
    """Every rule file under `root`; never raises for the tree's content.

    `.gitignore` files (and `.git/info/exclude`) are honoured, dependency and virtual environment folders skipped.
    A symbolic link to a folder inside the root is followed once (links inside a linked folder are not); a link
    out of the root, a loop, or a folder more than `MAX_DEPTH` deep is skipped with a note in `notes`.

    Args:
        root: The repository root.
        only: A folder under the root whose rules are wanted instead of all of them. The whole root is still
            listed in `paths`, so that a glob check sees every file.
        loose: Also read `*.mdc` and `.cursorrules` files wherever they sit under `only`, as Cursor rules (for a
            folder that someone asked to lint explicitly).
        rule_formats: The formats to recognise (default: the built-in and installed ones).
    """
    available = rule_formats or formats()
    root = root.resolve()
    start = (only or root).resolve()
    prefix = "" if start == root else start.relative_to(root).as_posix() + "/"
    found = Discovered()
    for path in _Walk(root, found.notes, found.folders).files():
        relpath = path.relative_to(root).as_posix()
        found.files += 1
        found.paths.append(relpath)
        if not relpath.startswith(prefix):
            continue
        fmt = format_for(relpath, available) or (loose_format(relpath, available) if loose else None)
        if fmt is not None:
            found.rules.append((path, fmt))
        elif "/.cursor/rules/" in f"/{relpath}" and relpath.endswith(".md"):
            found.ignored.append(path)
        elif f"/{relpath}".endswith("/.cursor/rules"):
            message = ".cursor/rules is a file, not a folder: Cursor reads no rule from it"
            found.notes.append(Diagnostic("RE027", Severity.WARNING, message, relpath))
        else:
            _note_root_only(relpath, found.notes)
    found.notes[:] = [note for note in found.notes if note.path.startswith(prefix) or not prefix]
    return found


def _note_root_only(relpath: str, notes: list[Diagnostic]) -> None:
    """A nested `.cursorrules`, `.windsurfrules` or `.clinerules`: its assistant reads it at the root only."""
    match = _ROOT_ONLY.fullmatch(relpath)
    if match is None:
        return
    name = match.group("name").split("/", 1)[0]
    tool = _ROOT_ONLY_TOOL[name]
    notes.append(
        Diagnostic(
            "RE027",
            Severity.WARNING,
            f"{tool} reads {name} only at the workspace root: this one, in {match.group('folder')}, is never read",
            relpath,
        )
    )


@dataclass(slots=True)
class _Folder:
    path: Path
    depth: int
    specs: _Specs
    ancestors: frozenset[Path]
    """The real paths of this folder and those above it (a link to one of them is a loop)."""
    linked: bool
    """Reached through a symbolic link (links inside it are not followed)."""


class _Walk:
    """A depth-first walk with its own stack, in name order, that notes what it skips."""

    def __init__(self, root: Path, notes: list[Diagnostic], folders: list[Path]) -> None:
        self.root = root
        self.notes = notes
        self.folders = folders

    def files(self) -> list[Path]:
        specs: _Specs = []
        _add_ignore_file(self.root / ".git" / "info" / "exclude", "", specs)
        _add_ignore_file(self.root / ".gitignore", "", specs)
        stack = [_Folder(self.root, 0, specs, frozenset({self.root}), linked=False)]
        found: list[Path] = []
        while stack:
            folder = stack.pop()
            self.folders.append(folder.path)
            children: list[_Folder] = []
            self._read(folder, found, children)
            stack.extend(reversed(children))
        return found

    def _note(self, path: Path, message: str, severity: Severity = Severity.WARNING) -> None:
        relpath = path.relative_to(self.root).as_posix()
        self.notes.append(Diagnostic("RE026", severity, message, relpath))

    def _read(self, folder: _Folder, found: list[Path], children: list[_Folder]) -> None:
        try:
            entries = sorted(os.scandir(folder.path), key=lambda entry: entry.name)
        except OSError as exc:
            if folder.path != self.root:
                self._note(folder.path, f"folder not read ({exc.strerror or exc}); its files are skipped")
            return
        local = folder.specs
        if folder.path != self.root:
            local = list(folder.specs)
            _add_ignore_file(folder.path / ".gitignore", folder.path.relative_to(self.root).as_posix(), local)
        for entry in entries:
            path = Path(entry.path)
            relpath = path.relative_to(self.root).as_posix()
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_link = entry.is_symlink()
            except OSError:
                continue
            if is_link:
                target = real_path(path)
                is_dir = target is not None and target.is_dir()
            else:
                target = None
            if _ignored(relpath, is_dir, local):
                continue
            if is_link:
                self._link(folder, path, target, local, found, children)
            elif is_dir:
                self._folder(folder, path, path, local, children, linked=folder.linked)
            elif entry.is_file(follow_symlinks=False):
                found.append(path)

    def _folder(
        self, parent: _Folder, path: Path, real: Path, specs: _Specs, children: list[_Folder], *, linked: bool
    ) -> None:
        if path.name in SKIPPED_FOLDERS or (path / "pyvenv.cfg").exists():
            return
        if parent.depth + 1 > MAX_DEPTH:
            self._note(path, f"deeper than {MAX_DEPTH} folders below the root: not walked")
            return
        children.append(_Folder(path, parent.depth + 1, specs, parent.ancestors | {real}, linked=linked))

    def _link(
        self,
        parent: _Folder,
        path: Path,
        target: Path | None,
        specs: _Specs,
        found: list[Path],
        children: list[_Folder],
    ) -> None:
        if target is None:
            if os.path.lexists(path) and _is_loop(path):
                self._note(path, "symbolic link loop: not followed")
            return  # a dangling link is no file
        if target != self.root and not target.is_relative_to(self.root):
            if target.is_dir():
                self._note(path, f"symbolic link to a folder outside the root ({target}): not followed", Severity.INFO)
            return
        if not target.is_dir():
            if target.is_file():
                found.append(path)
            return
        if target in parent.ancestors or target == self.root:
            self._note(path, "symbolic link loop (it points at a folder above it): not followed")
        elif parent.linked:
            self._note(path, "symbolic link inside a linked folder: not followed", Severity.INFO)
        else:
            self._folder(parent, path, target, specs, children, linked=True)


def _is_loop(path: Path) -> bool:
    try:
        os.stat(path)
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def _add_ignore_file(ignore: Path, base: str, specs: _Specs) -> None:
    if not ignore.is_file():
        return
    from pathspec import GitIgnoreSpec  # noqa: PLC0415

    try:
        lines = ignore.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return
    specs.append((base, GitIgnoreSpec.from_lines(lines)))


def _ignored(relpath: str, is_dir: bool, specs: _Specs) -> bool:
    for base, spec in specs:
        if base and not relpath.startswith(base + "/"):
            continue
        local = relpath[len(base) + 1 :] if base else relpath
        if spec.match_file(local + "/" if is_dir else local):
            return True
    return False


def loose_format(relpath: str, available: tuple[RuleFormat, ...]) -> RuleFormat | None:
    """For a file outside the usual places: `.mdc` is a Cursor rule, `.cursorrules` the legacy one."""
    wanted = "cursor-mdc" if relpath.endswith(".mdc") else "cursorrules" if relpath.endswith(".cursorrules") else None
    return next((fmt for fmt in available if fmt.name == wanted), None)
