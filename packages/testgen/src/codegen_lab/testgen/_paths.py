"""Paths the caller names: resolved against the root, refused outside it; files written without losing any."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from codegen_lab.common.files import ChangeSet
from codegen_lab.common.guard import inside
from codegen_lab.testgen.errors import TestgenUsageError

__all__ = ["inside_root", "output_folder", "replace_folder", "write_output", "write_safely"]


def inside_root(root: Path, path: Path | str, argument: str, *, must_exist: bool = True) -> Path:
    """`path` resolved against `root`, which it must not leave (the shared guard, `codegen_lab.common.guard`).

    Args:
        root: The project root (absolute).
        path: What the caller gave, relative to the root or absolute.
        argument: The argument's name, for the error message.
        must_exist: Whether the path must exist.

    Returns:
        The absolute, resolved path.

    Raises:
        TestgenUsageError: When the path leaves the root or does not exist.
    """
    resolved = inside(root, path, argument, error=TestgenUsageError)
    if must_exist and not resolved.exists():
        raise TestgenUsageError(f"{argument} {str(path)!r}: no such file or folder under {root}")
    return resolved


def output_folder(
    root: Path,
    path: Path | str,
    argument: str,
    *,
    holds: Sequence[Path] = (),
    previous: Callable[[Path], bool] = lambda _folder: False,
) -> Path:
    """A folder inside `root` that testgen may fill with what it makes, emptying it first: a new or empty one.

    Args:
        root: The project root (absolute).
        path: What the caller gave.
        argument: The argument's name, for the error message.
        holds: Files and folders of the project the run reads (sources, tests): the folder may hold none.
        previous: Whether an existing folder holds only what testgen wrote there before (then it may be refilled).

    Raises:
        TestgenUsageError: When the folder is outside the root, is the root, holds the root or one of `holds`,
            is not a folder, or has other content.
    """
    folder = inside_root(root, path, argument, must_exist=False)
    if folder == root:
        raise TestgenUsageError(f"{argument} {str(path)!r} is the project root", hint=_FRESH)
    for held in holds:
        if held == folder or folder in held.parents:
            raise TestgenUsageError(f"{argument} {str(path)!r} holds {held.relative_to(root)}", hint=_FRESH)
    if folder.exists() and not folder.is_dir():
        raise TestgenUsageError(f"{argument} {str(path)!r} is not a folder", hint=_FRESH)
    if folder.is_symlink() or (folder.is_dir() and any(folder.iterdir()) and not previous(folder)):
        raise TestgenUsageError(f"{argument} {str(path)!r} is not empty", hint=_FRESH)
    return folder


_FRESH = "Pass a new or empty folder inside the root, such as htmlcov"


def write_safely(
    path: Path, text: str, *, root: Path, purpose: str = "testgen generate", state_dir: Path | None = None
) -> Path | None:
    """Write `text` to `path` atomically as one journaled change set, which `codegen-lab undo` takes back.

    Args:
        path: Where to write (inside `root`).
        text: The content.
        root: The project root, which the change is recorded under.
        purpose: What the change is, as `codegen-lab undo --list` shows it.
        state_dir: Where the journal lives (default: the user's state folder).

    Returns:
        The backup of the previous content (in the state folder), or None when `path` did not exist.

    Raises:
        UsageError: When `path` is outside the root.
        OperationError: When the file or its backup cannot be written; the file is then as it was.
    """
    with ChangeSet(root, purpose, state_dir=state_dir) as change:
        change.write(path, text)
    return change.backup_path(path)


def replace_folder(root: Path, destination: Path, source: Path, *, purpose: str, state_dir: Path | None = None) -> None:
    """Make `destination` hold the files of `source` and no other, as one change set that `codegen-lab undo` takes back.

    The files it removes or overwrites are kept in the state folder; links in `destination` are left alone.

    Raises:
        UsageError: When `destination` is outside the root.
        OperationError: When a file cannot be written or removed.
    """
    fresh = {path.relative_to(source) for path in source.rglob("*") if path.is_file()}
    with ChangeSet(root, purpose, state_dir=state_dir) as change:
        stale = sorted(destination.rglob("*")) if destination.is_dir() else []
        for old in stale:
            if old.is_file() and not old.is_symlink() and old.relative_to(destination) not in fresh:
                change.remove(old)
        for relative in sorted(fresh):
            change.write(destination / relative, (source / relative).read_bytes())


def write_output(
    folder: Path | None, name: str, text: str, *, root: Path, purpose: str, state_dir: Path | None = None
) -> tuple[str | None, str | None]:
    """Write `text` to `folder/name` with `write_safely` when a folder was asked for.

    Returns:
        The file written and where its previous content is kept, as strings (None when not written or new).
    """
    if folder is None:
        return None, None
    path = folder / name
    backup = write_safely(path, text, root=root, purpose=purpose, state_dir=state_dir)
    return str(path), str(backup) if backup else None
