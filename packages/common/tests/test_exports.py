"""Exports declared once, under TYPE_CHECKING, served lazily, reporting the package as their home."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

INIT = """
from typing import TYPE_CHECKING

from codegen_lab.common.exports import declared_exports as _declared_exports

if TYPE_CHECKING:
    from demo_pkg._engine import Engine as Engine, Record as Record, load as load

__getattr__, __dir__ = _declared_exports(__name__, "codegen-lab-common", defined_here=("main",))


def main() -> None:
    pass
"""

ENGINE = """
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class Engine:
    pass


@dataclass
class Record:
    path: Path


def load() -> Engine:
    return Engine()
"""

PROBE = """
import sys, typing
import demo_pkg
print(sorted(name for name in sys.modules if name.startswith("demo_pkg")))
print(demo_pkg.__all__)
print(demo_pkg.Engine.__module__, demo_pkg.load.__module__, demo_pkg.Record.__module__)
print(typing.get_type_hints(demo_pkg.Record))
try:
    demo_pkg.Missing
except AttributeError as exc:
    print(exc)
namespace = {}
exec("from demo_pkg import *", namespace)
print(sorted(name for name in namespace if not name.startswith("__")))
"""


def test_a_package_declares_its_exports_once_and_they_load_when_asked(tmp_path: Path) -> None:
    package = tmp_path / "demo_pkg"
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent(INIT), encoding="utf-8")
    (package / "_engine.py").write_text(textwrap.dedent(ENGINE), encoding="utf-8")
    completed = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, capture_output=True, text=True, check=True)
    lines = completed.stdout.splitlines()
    assert lines[0] == "['demo_pkg']"  # nothing imported before a name is asked for
    assert lines[1] == "['Engine', 'Record', '__version__', 'load', 'main']"
    assert lines[2] == "demo_pkg demo_pkg demo_pkg._engine"  # a dataclass keeps the home its annotations need
    assert lines[3] == "{'path': <class 'pathlib.Path'>}"
    assert lines[4] == "module 'demo_pkg' has no attribute 'Missing'"
    assert lines[5] == "['Engine', 'Record', 'load', 'main']"
