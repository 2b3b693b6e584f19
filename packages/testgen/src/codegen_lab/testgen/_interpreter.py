"""The target interpreter: the Python that imports, runs and measures the code under test.

The server runs in its own environment; the code under test lives in the user's. testgen asks the target
interpreter, once, where it lives and what it can import, so that the sandbox can mount exactly that. The
interpreter is the project's, so it is as untrusted as the code under test: it is asked in the sandbox too,
showing it the folders its files name (its virtual environment, the installation that `pyvenv.cfg` names, the
folders of its `.pth` files), and what it answers is believed only where it shows nothing more than the
sandbox's uid could read anyway.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from codegen_lab.testgen.errors import MissingToolsError, TestgenOperationError, TestgenUsageError

__all__ = ["OPTIONAL_TOOLS", "TOOLS", "TargetPython", "default_python", "probe_python"]

logger = logging.getLogger(__name__)

TOOLS = ("pytest", "coverage", "hypothesis")
"""What testgen needs importable in the target interpreter, as import names (the same as their pip names)."""

OPTIONAL_TOOLS = {"pytest_benchmark": "pytest-benchmark", "mutmut": "mutmut"}
"""What some commands need there too (`bench`, `mutate --engine mutmut`): import name to pip name."""

_PROBE = """
import importlib.util, json, os, sys
found = {}
for name in sys.argv[1:]:
    try:
        found[name] = importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        found[name] = False
print(json.dumps({
    "executable": sys.executable,
    "version": list(sys.version_info[:3]),
    "prefix": sys.prefix,
    "base_prefix": sys.base_prefix,
    "path": [entry for entry in sys.path if entry],
    "found": found,
}))
"""


@dataclass(frozen=True, slots=True)
class TargetPython:
    """What the target interpreter told about itself.

    Attributes:
        executable: The interpreter as given (a virtual environment's `bin/python` stays that).
        version: Its version, as `(3, 12, 1)`.
        prefix: `sys.prefix`: the virtual environment, or the installation.
        base_prefix: `sys.base_prefix`: the installation the virtual environment is made from.
        path: Its `sys.path` entries (the folders the sandbox mounts read-only).
        found: For each of `TOOLS` and `OPTIONAL_TOOLS`, whether it is importable.
    """

    executable: Path
    version: tuple[int, int, int]
    prefix: Path
    base_prefix: Path
    path: tuple[Path, ...]
    found: dict[str, bool]

    @property
    def missing(self) -> list[str]:
        """The tools of `TOOLS` that the interpreter cannot import."""
        return [name for name in TOOLS if not self.found.get(name, False)]

    def require(self, *names: str) -> None:
        """Check that `names` (import names; default: all of `TOOLS`) are importable.

        Raises:
            MissingToolsError: When some are not; it carries the `uv pip install` command that fixes it.
        """
        wanted = names or TOOLS
        missing = [OPTIONAL_TOOLS.get(name, name) for name in wanted if not self.found.get(name, False)]
        if missing:
            raise MissingToolsError(str(self.executable), missing)

    def mounts(self) -> list[Path]:
        """The folders the sandbox must show, read-only, for this interpreter to run: prefixes and `sys.path`."""
        executable = self.executable.resolve()
        folders = [self.prefix, self.base_prefix, executable.parent.parent, *self.path]
        return [folder for folder in folders if folder.is_dir()]


def default_python(root: Path) -> Path:
    """The interpreter testgen uses when none is given: the workspace's `.venv`, else the current one."""
    candidate = root / ".venv" / "bin" / "python"
    return candidate if candidate.exists() else Path(sys.executable)


def probe_python(python: Path | str, *, allow_unsandboxed: bool | None = None) -> TargetPython:
    """Ask the interpreter at `python`, in the sandbox, where it lives and whether it can import testgen's tools.

    Args:
        python: Path to a Python executable (3.8 or newer).
        allow_unsandboxed: Whether it may be asked without a sandbox when none works here (default:
            `CODEGEN_LAB_ALLOW_UNSANDBOXED=1`).

    Returns:
        What it said.

    Raises:
        TestgenUsageError: When `python` is not an executable Python interpreter, or no sandbox may run it.
    """
    from codegen_lab.testgen._sandbox import unsandboxed_allowed  # noqa: PLC0415 (the sandbox imports this module)

    return _probe(str(Path(python).absolute()), unsandboxed_allowed(allow_unsandboxed))


def _named_folders(python: Path) -> list[Path]:
    """The folders the interpreter's own files name: its environment, its installation, its `.pth` folders."""
    environment = python.parent.parent
    folders = [environment, python.resolve().parent.parent]
    config = environment / "pyvenv.cfg"
    if config.is_file():
        for line in config.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "home" and value.strip():
                folders.append(Path(value.strip()).resolve().parent)
    for pth in environment.glob("lib/python3*/site-packages/*.pth"):
        for line in pth.read_text(encoding="utf-8", errors="replace").splitlines():
            entry = line.strip()
            if entry and not entry.startswith(("#", "import ")) and Path(entry).is_absolute():
                folders.append(Path(entry))
    return [folder for folder in folders if folder.is_dir()]


def _believed(folder: Path, named: list[Path]) -> bool:
    """Whether the sandbox may show `folder` that the interpreter named: one of its own, or one anyone reaches."""
    resolved = folder.resolve()
    if any(resolved == own or own in resolved.parents for own in named):
        return True
    return all(os.stat(ancestor).st_mode & 0o001 for ancestor in (resolved, *resolved.parents))


@cache
def _probe(python: str, allow_unsandboxed: bool) -> TargetPython:
    from codegen_lab.testgen._sandbox import Limits, Sandbox  # noqa: PLC0415 (the sandbox imports this module)

    if not Path(python).exists():
        raise TestgenUsageError(f"--python {python}: no such file", hint="Pass the path of a Python interpreter")
    if not os.access(python, os.X_OK):
        raise TestgenUsageError(f"--python {python}: not executable")
    folders = _named_folders(Path(python))  # as named: a virtual environment may be reached through a link
    named = [folder.resolve() for folder in folders]
    provisional = TargetPython(
        executable=Path(python),
        version=(0, 0, 0),
        prefix=folders[0],
        base_prefix=named[min(1, len(named) - 1)],
        path=tuple(folders),
        found={},
    )
    limits = Limits(timeout=60, cpu_seconds=60, output_bytes=256 * 1024)
    sandbox = Sandbox(provisional, limits=limits, allow_unsandboxed=allow_unsandboxed)
    workdir = Path(tempfile.mkdtemp(prefix="testgen-probe-"))
    try:
        result = sandbox.run_python(["-c", _PROBE, *TOOLS, *OPTIONAL_TOOLS], workdir=workdir)
    except TestgenOperationError as exc:
        raise TestgenUsageError(f"--python {python}: could not be run ({exc})") from None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    try:
        data = json.loads(result.stdout)
        version = [int(part) for part in data["version"]][:3]
        prefix, base_prefix = Path(str(data["prefix"])), Path(str(data["base_prefix"]))
        entries = [Path(str(entry)) for entry in data["path"]]
        found = {str(key): bool(value) for key, value in dict(data["found"]).items()}
        version += [0] * (3 - len(version))
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
        detail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise TestgenUsageError(
            f"--python {python}: not a working Python 3 interpreter ({detail[0]})",
            hint="Pass the `python` of the environment the code under test is installed in",
        ) from None
    logger.debug("target interpreter %s (isolation %s): %s", python, result.isolation, data)
    shown = [entry for entry in entries if entry.is_absolute() and entry.is_dir() and _believed(entry, named)]
    return TargetPython(
        executable=Path(python),
        version=(version[0], version[1], version[2]),
        prefix=prefix if prefix.is_dir() and _believed(prefix, named) else folders[0],
        base_prefix=base_prefix
        if base_prefix.is_dir() and _believed(base_prefix, named)
        else named[min(1, len(named) - 1)],
        path=tuple(shown),
        found=found,
    )
