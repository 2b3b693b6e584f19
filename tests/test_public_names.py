"""Public names report public modules (as httpx does): tracebacks and documentation never show a private path.

Every class and function in a package's `__all__`, and in the `__all__` of its public submodules, reports a
public module as its `__module__`, whichever package or module it was first imported through. Dataclasses and
pydantic models keep their defining module: their annotations are resolved through it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import importlib, json, pkgutil, sys
found = []
for package in sys.argv[1:]:
    module = importlib.import_module(package)
    names = [(package, name) for name in module.__all__]
    for info in pkgutil.iter_modules(module.__path__, package + "."):
        if not info.name.rsplit(".", 1)[1].startswith("_") and not info.name.endswith((".cli", ".mcp", ".testing")):
            sub = importlib.import_module(info.name)
            names += [(info.name, name) for name in getattr(sub, "__all__", ())]
    for home, name in names:
        value = getattr(importlib.import_module(home), name)
        if not callable(value) or hasattr(value, "__dataclass_fields__") or hasattr(value, "__pydantic_fields__"):
            continue
        where = getattr(value, "__module__", "") or ""
        if where.startswith("codegen_lab.") and "._" in where:
            found.append(f"{home}.{name}: {where}")
print(json.dumps(found))
"""


def packages() -> list[str]:
    """The import names of every member: `codegen_lab.<folder of src/codegen_lab>`."""
    sources = sorted(ROOT.glob("packages/*/src/codegen_lab/*/__init__.py")) + sorted(
        ROOT.glob("apps/*/src/codegen_lab/*/__init__.py")
    )
    return [f"codegen_lab.{init.parent.name}" for init in sources]


def private_homes(order: list[str]) -> list[str]:
    """The public names that report a private module, the packages imported in `order` in a fresh process."""
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, *order], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return json.loads(completed.stdout)


def test_every_public_class_and_function_reports_a_public_module_in_any_import_order() -> None:
    names = packages()
    assert {"codegen_lab.common", "codegen_lab.server", "codegen_lab.uvtools"} <= set(names)
    assert private_homes(names) == []
    assert private_homes(names[::-1]) == []  # a re-export seen first through another package: the same


def test_what_the_check_is_about_a_private_module_until_a_public_one_exports_it() -> None:
    probe = (
        "import codegen_lab.common._journal as journal; print(journal.ChangeSet.__module__); "
        "import codegen_lab.common.files as files; print(files.ChangeSet.__module__, files.Change.__module__)"
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert completed.stdout.splitlines() == [
        "codegen_lab.common._journal",
        "codegen_lab.common.files codegen_lab.common._journal",  # a dataclass keeps its module
    ]
