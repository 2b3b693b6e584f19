"""What a caller may name: paths inside the allowed roots, git revisions that cannot pass for options.

The regression list of real MCP server vulnerabilities drives the checks: `..` and absolute paths out of the
root, symbolic links to outside it, sibling-prefix tricks (`/srv/app-evil` is not inside `/srv/app`), NUL bytes,
`/proc/self/root` (a link to `/`), and git arguments that start with `-` and so become options.

The allowed roots are the server's root, narrowed by the roots the client declares (MCP `roots/list`) when it
declares any: a client root inside the server's root is allowed, and so is the server's root when a client root
holds it; nothing outside the server's root ever is. This module imports no MCP code: libraries use it too.

Example:
    ```python
    roots = AllowedRoots(Path("/srv/app"))
    roots.resolve("src/app.py", "path")  # Path('/srv/app/src/app.py')
    roots.resolve("../etc/passwd", "path")  # UsageError: path '../etc/passwd' is outside the allowed roots
    check_revision("--output=/tmp/x", "since")  # UsageError: since '--output=/tmp/x' looks like an option
    ```
"""

from __future__ import annotations

import contextlib
import errno
import os
from dataclasses import dataclass
from pathlib import Path

from codegen_lab.common.errors import UsageError

__all__ = ["AllowedRoots", "check_revision", "inside", "open_folder_inside"]


@dataclass(frozen=True, slots=True)
class AllowedRoots:
    """The folders a call may name paths in.

    Attributes:
        root: The server's root; relative paths are taken from it.
        client_roots: The roots the client declared, or None when it declared none.
    """

    root: Path
    client_roots: tuple[Path, ...] | None = None

    @property
    def folders(self) -> tuple[Path, ...]:
        """The folders paths may resolve into: the server's root, narrowed by the client's roots."""
        root = Path(os.path.realpath(self.root))
        if self.client_roots is None:
            return (root,)
        allowed: list[Path] = []
        for client_root in self.client_roots:
            real = Path(os.path.realpath(client_root))
            if real.is_relative_to(root):
                allowed.append(real)
            elif root.is_relative_to(real):
                allowed.append(root)
        return tuple(dict.fromkeys(allowed))

    def resolve(
        self,
        path: str | os.PathLike[str],
        argument: str,
        *,
        follow_links: bool = True,
        error: type[UsageError] = UsageError,
    ) -> Path:
        """`path` (relative to the server's root, or absolute) resolved, symbolic links followed.

        Args:
            path: What the caller gave.
            argument: The argument's name, for the message.
            follow_links: False for an interpreter or another program to run: `..` is still resolved, but a link
                is not followed, since a virtual environment's `bin/python` links to the Python it was made from.
            error: The `UsageError` subclass to raise: a package's own (`TestgenUsageError`).

        Raises:
            UsageError: When the path is empty, holds a NUL byte, goes through a loop of symbolic links, or
                resolves outside every allowed folder; the message names `argument`.
        """
        text = os.fspath(path)
        if not text:
            raise error(f"{argument} is empty", hint="Pass a path inside the project root")
        if "\0" in text:
            raise error(f"{argument} {text!r} holds a NUL byte", hint="Pass a path without NUL characters")
        folders = self.folders
        if not folders:
            raise error(
                f"{argument} {text!r}: none of the client's roots "
                f"({', '.join(str(root) for root in self.client_roots or ())}) is inside the server's root {self.root}",
                hint="Open the server's root in the client, or start the server with --root at one of its roots",
            )
        candidate = Path(text)
        joined = candidate if candidate.is_absolute() else Path(os.path.realpath(self.root)) / candidate
        resolved = Path(os.path.realpath(joined) if follow_links else os.path.normpath(joined))
        if follow_links and _loops(resolved):
            raise error(
                f"{argument} {text!r} cannot be resolved: a symbolic link on the way loops",
                hint="Pass a path that does not go through a loop of links",
            )
        if not any(resolved == folder or resolved.is_relative_to(folder) for folder in folders):
            where = (
                f"the root {folders[0]}"
                if self.client_roots is None
                else f"the allowed roots ({', '.join(str(folder) for folder in folders)}: the server's root as the "
                "client's roots narrow it)"
            )
            raise error(
                f"{argument} {text!r} is outside {where}",
                hint="Pass a path inside the project root, relative to it or absolute; links out of it are refused",
            )
        return resolved


def inside(
    root: Path,
    path: str | os.PathLike[str],
    argument: str,
    *,
    follow_links: bool = True,
    error: type[UsageError] = UsageError,
) -> Path:
    """`path` (relative to `root`, or absolute) resolved inside `root`: `AllowedRoots(root).resolve(...)`.

    The one containment check of Codegen Lab: the journal, the rule engine, testgen and uvtools use it, and the
    server's check of tool arguments is the same with the client's roots narrowing `root`.

    Raises:
        UsageError: As `error` (default `UsageError`), naming `argument`, when the path is empty, holds a NUL byte,
            goes through a loop of symbolic links, or resolves outside `root` (`..`, an absolute path elsewhere, a
            link out of it).
    """
    return AllowedRoots(root).resolve(path, argument, follow_links=follow_links, error=error)


def _loops(path: Path) -> bool:
    """Whether `path` goes through a loop of symbolic links (a path that does not exist yet does not)."""
    try:
        os.stat(path)
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def check_revision(revision: str, argument: str) -> str:
    """`revision`, when git cannot take it for an option or for more than one argument.

    Raises:
        UsageError: When it is empty, starts with `-`, or holds a NUL byte, a newline or another control
            character; the message names `argument`.
    """
    if not revision:
        raise UsageError(f"{argument} is empty", hint="Pass a git revision such as main, HEAD~1 or a commit id")
    if revision.startswith("-"):
        raise UsageError(
            f"{argument} {revision!r} looks like an option, not a git revision",
            hint="Pass a branch, tag or commit id; revisions never start with '-'",
        )
    if any(ord(character) < 32 or ord(character) == 127 for character in revision):
        raise UsageError(f"{argument} {revision!r} holds a control character", hint="Pass a plain git revision")
    return revision


def open_folder_inside(
    roots: AllowedRoots, folder: str | os.PathLike[str], argument: str, *, create: bool = False
) -> int:
    """A descriptor of `folder`, opened one component at a time from its allowed root without following links.

    The path is resolved and checked first; then each component below the allowed folder that holds it is
    opened relative to the one before (`dir_fd`, `O_NOFOLLOW`). A component swapped for a link between the check
    and the open fails the open instead of leading out of the root, and writes made relative to the descriptor
    (`dir_fd=`) cannot be redirected afterwards. With `create`, missing folders are made on the way.

    Raises:
        UsageError: When the folder is outside the allowed roots, is not a folder, or changed while it was being
            opened.
    """
    resolved = roots.resolve(folder, argument)
    base = next(allowed for allowed in roots.folders if resolved == allowed or resolved.is_relative_to(allowed))
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    no_follow = getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(base, flags)
    try:
        for part in resolved.relative_to(base).parts:
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, dir_fd=descriptor)
            child = os.open(part, flags | no_follow, dir_fd=descriptor)
            os.close(descriptor)
            descriptor = child
    except OSError as exc:
        os.close(descriptor)
        raise UsageError(
            f"{argument} {os.fspath(folder)!r}: cannot open {resolved} without following links ({exc.strerror}); "
            "nothing was written",
            hint="Pass a folder inside the project root that is not, and does not pass through, a link",
        ) from None
    return descriptor
