"""Where Codegen Lab keeps its state (journal, backups, audit log) and its caches, when the settings do not say."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = [
    "USER_CONFIG_VARIABLE",
    "config_relative",
    "default_cache_dir",
    "default_state_dir",
    "private_file",
    "private_folder",
    "user_config_path",
]

USER_CONFIG_VARIABLE = "CODEGEN_LAB_CONFIG"
"""Names the user config file instead of `$XDG_CONFIG_HOME/codegen-lab/config.toml` (empty: no file)."""


def user_config_path(environ: Mapping[str, str] | None = None) -> Path | None:
    """The user config file: `CODEGEN_LAB_CONFIG` (empty: none), else `$XDG_CONFIG_HOME/codegen-lab/config.toml`.

    Without `XDG_CONFIG_HOME`, `~/.config/codegen-lab/config.toml` (the home from `HOME` in `environ`).
    """
    env = os.environ if environ is None else environ
    if USER_CONFIG_VARIABLE in env:
        explicit = env[USER_CONFIG_VARIABLE]
        return Path(explicit).expanduser() if explicit else None
    base = env.get("XDG_CONFIG_HOME") or ""
    if not base or not Path(base).is_absolute():  # the XDG spec: a relative value is ignored
        home = env.get("HOME") or str(Path.home())
        base = str(Path(home) / ".config")
    return Path(base) / "codegen-lab" / "config.toml"


def config_relative(config: Path, value: str) -> Path:
    """A path the user config file at `config` names: `~` expanded, a relative one taken from the file's folder."""
    return config.parent / Path(value).expanduser()  # `/` keeps an absolute right-hand side as it is


def _chosen_by_user(variable: str, key: str) -> Path | None:
    """The folder the environment variable `variable` names, else the one the user config file names under `key`."""
    explicit = os.environ.get(variable)
    return Path(explicit) if explicit else _from_user_config(key)


def _from_user_config(key: str) -> Path | None:
    """The folder the user config file names under `key` (relative to the file's folder), or None.

    The state and cache folders are the user's to choose (never a repository's): every writer that is not handed
    a folder finds the one the user set here, so that the journal `codegen-lab undo` reads is one.
    """
    path = user_config_path()
    if path is None or not path.is_file():
        return None
    import tomllib  # noqa: PLC0415 (only when the user has a config file)

    try:
        value = tomllib.loads(path.read_text(encoding="utf-8")).get(key)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None  # the settings loader reports a broken file, naming it
    return config_relative(path, value) if isinstance(value, str) and value else None


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
    """Where the journal, backups and audit log live when the caller names no folder.

    `CODEGEN_LAB_STATE_DIR`, else `state-dir` of the user config file, else `$XDG_STATE_HOME/codegen-lab`, else
    `~/.local/state/codegen-lab`.
    """
    chosen = _chosen_by_user("CODEGEN_LAB_STATE_DIR", "state-dir")
    if chosen is not None:
        return chosen
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "codegen-lab"


def default_cache_dir() -> Path:
    """`CODEGEN_LAB_CACHE_DIR`, else `cache-dir` of the user config file, else the platform's cache folder."""
    chosen = _chosen_by_user("CODEGEN_LAB_CACHE_DIR", "cache-dir")
    if chosen is not None:
        return chosen
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "codegen-lab"
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "codegen-lab" / "Cache"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "codegen-lab"
