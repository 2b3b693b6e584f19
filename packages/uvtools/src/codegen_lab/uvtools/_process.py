"""Running uv (the binary of the PyPI `uv` package) and git, always with a list of arguments."""

from __future__ import annotations

import functools
import logging
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from codegen_lab.uvtools.errors import CommandError, WorkspaceError

__all__ = ["git", "git_together", "run", "uv_binary", "uv_version"]

logger = logging.getLogger(__name__)

_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")


@functools.cache
def uv_binary() -> str:
    """The path of the uv binary shipped by the `uv` package on PyPI."""
    from uv import find_uv_bin  # noqa: PLC0415 (the uv package is only needed when uv runs)

    return find_uv_bin()


@functools.cache
def uv_version() -> tuple[int, int, int]:
    """The installed uv's version as `(major, minor, patch)`."""
    found = _VERSION.search(run([uv_binary(), "--version"]).stdout)
    return (int(found[1]), int(found[2]), int(found[3])) if found else (0, 0, 0)


def _clean_environment(extra: Mapping[str, str] | None) -> dict[str, str]:
    # A calling environment's virtualenv must not decide which environment uv uses for the target workspace.
    env = {key: value for key, value in os.environ.items() if key not in {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT"}}
    env.update(extra or {})
    return env


def run(
    command: Sequence[str],
    *,
    cwd: Path | None = None,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Run `command` (a list of arguments, never through a shell) and capture its output as text.

    Raises:
        CommandError: When `check` is true and the command exits with a non-zero status.
    """
    logger.debug("running %s in %s", command, cwd)
    try:
        completed = subprocess.run(  # noqa: S603 (a list of arguments, no shell)
            list(command),
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
            env=_clean_environment(env),
            timeout=timeout,
        )
    except FileNotFoundError as exc:
        raise CommandError(command, 127, f"{command[0]} not found: {exc}") from None
    except subprocess.TimeoutExpired:
        raise CommandError(command, -1, f"timed out after {timeout:.0f} s") from None
    if check and completed.returncode != 0:
        raise CommandError(command, completed.returncode, completed.stderr or completed.stdout)
    return completed


@functools.cache
def _git_executable() -> str:
    executable = shutil.which("git")
    if executable is None:
        raise WorkspaceError("git is not installed", hint="Install git to compare revisions")
    return executable


def git(root: Path, *arguments: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run git in `root`.

    Raises:
        WorkspaceError: When git is not installed.
        CommandError: When git fails (not a repository, an unknown ref) and `check` is true.
    """
    return run([_git_executable(), "-C", str(root), *arguments], check=check)


def git_together(root: Path, *commands: Sequence[str]) -> list[subprocess.CompletedProcess[str]]:
    """Run several git commands in `root` at the same time (each a list of arguments); wait for all.

    Raises:
        WorkspaceError: When git is not installed.
    """
    executable = _git_executable()
    env = _clean_environment(None)
    started = [
        (
            [executable, "-C", str(root), *arguments],
            subprocess.Popen(  # noqa: S603 (a list of arguments, no shell)
                [executable, "-C", str(root), *arguments],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            ),
        )
        for arguments in commands
    ]
    done: list[subprocess.CompletedProcess[str]] = []
    for command, process in started:
        stdout, stderr = process.communicate(timeout=600)
        done.append(subprocess.CompletedProcess(command, process.returncode, stdout, stderr))
    return done
