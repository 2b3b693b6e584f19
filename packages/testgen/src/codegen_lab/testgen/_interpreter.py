"""The target interpreter: the Python that imports, runs and measures the code under test.

The server runs in its own environment; the code under test lives in the user's. testgen asks the target
interpreter, once, where it lives and what it can import, so that the sandbox can mount exactly that.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from codegen_lab.testgen.errors import MissingToolsError, TestgenUsageError

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


def probe_python(python: Path | str) -> TargetPython:
    """Ask the interpreter at `python` where it lives and whether it can import testgen's tools.

    Args:
        python: Path to a Python executable (3.8 or newer).

    Returns:
        What it said.

    Raises:
        TestgenUsageError: When `python` is not an executable Python interpreter.
    """
    return _probe(str(Path(python).absolute()))


@cache
def _probe(python: str) -> TargetPython:
    if not Path(python).exists():
        raise TestgenUsageError(f"--python {python}: no such file", hint="Pass the path of a Python interpreter")
    if not os.access(python, os.X_OK):
        raise TestgenUsageError(f"--python {python}: not executable")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        completed = subprocess.run(  # noqa: S603 (the interpreter the caller chose, asked only where it lives)
            [python, "-c", _PROBE, *TOOLS, *OPTIONAL_TOOLS],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TestgenUsageError(f"--python {python}: could not be run ({exc})") from None
    try:
        data = json.loads(completed.stdout)
    except json.JSONDecodeError:
        detail = (completed.stderr or completed.stdout).strip().splitlines()[-1:] or ["no output"]
        raise TestgenUsageError(
            f"--python {python}: not a working Python 3 interpreter ({detail[0]})",
            hint="Pass the `python` of the environment the code under test is installed in",
        ) from None
    logger.debug("target interpreter %s: %s", python, data)
    version = data["version"]
    return TargetPython(
        executable=Path(python),
        version=(int(version[0]), int(version[1]), int(version[2])),
        prefix=Path(data["prefix"]),
        base_prefix=Path(data["base_prefix"]),
        path=tuple(Path(entry) for entry in data["path"]),
        found={str(key): bool(value) for key, value in data["found"].items()},
    )
