"""Where Codegen Lab keeps its state (journal, backups, audit log) and its caches, when the settings do not say."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

__all__ = ["default_cache_dir", "default_state_dir", "private_file", "private_folder"]


def private_folder(path: Path, *, tighten: bool = False) -> Path:
    """Make `path` and its missing parents with mode 0700; with `tighten`, an existing one becomes 0700 too.

    Only folders this package names itself are tightened (`changes`, `backups`): a state or cache folder the
    user named may be shared, and is left as it is when it exists.
    """
    missing: list[Path] = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            pass  # made by another process meanwhile
        else:
            os.chmod(folder, 0o700)  # whatever the umask
    if tighten and not missing:
        info = path.lstat()
        if stat.S_ISDIR(info.st_mode) and stat.S_IMODE(info.st_mode) & 0o077 and info.st_uid == os.getuid():
            os.chmod(path, 0o700)
    return path


def private_file(path: Path) -> Path:
    """Make `path` (a state or cache file of this package) exist with mode 0600, or make it 0600 if it exists."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        if stat.S_IMODE(os.fstat(descriptor).st_mode) != 0o600:
            os.fchmod(descriptor, 0o600)
    finally:
        os.close(descriptor)
    return path


def default_state_dir() -> Path:
    """`CODEGEN_LAB_STATE_DIR`, else `$XDG_STATE_HOME/codegen-lab`, else `~/.local/state/codegen-lab`."""
    explicit = os.environ.get("CODEGEN_LAB_STATE_DIR")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "codegen-lab"


def default_cache_dir() -> Path:
    """`CODEGEN_LAB_CACHE_DIR`, else the platform's cache folder for codegen-lab."""
    explicit = os.environ.get("CODEGEN_LAB_CACHE_DIR")
    if explicit:
        return Path(explicit)
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "codegen-lab"
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "codegen-lab" / "Cache"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "codegen-lab"
