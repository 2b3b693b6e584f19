"""Which module a TARGET names: a dotted module name, or a file inside the root."""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

from codegen_lab.testgen._paths import inside_root
from codegen_lab.testgen._runner import Project
from codegen_lab.testgen.errors import TestgenUsageError

__all__ = ["Target", "resolve_target"]

_MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")

_LOCATE = """
import importlib.util, json, sys, types
sys.path.insert(0, sys.argv[2])
try:
    name = sys.argv[1]
    spec = importlib.util.find_spec(name)
    origin = spec.origin if spec is not None else None
    owner, _, last = name.rpartition(".")
    bound = getattr(sys.modules.get(owner), last, None) if owner else None
    shadowed = bound is not None and not (isinstance(bound, types.ModuleType) and bound.__name__ == name)
    print(json.dumps({"origin": origin, "shadowed": shadowed}))
except BaseException as exc:
    print(json.dumps({"error": "%s: %s" % (type(exc).__name__, exc)}))
"""


@dataclass(frozen=True, slots=True)
class Target:
    """The module under test."""

    module: str
    """Its dotted import name."""
    file: Path
    import_root: Path
    """The folder to put on `sys.path` so that `module` imports (the root, for installed modules)."""
    shadowed: bool = False
    """Whether its package binds another object to its name (`from .url import url`): `from package import
    url` then gives that object, so tests import the module with `importlib.import_module`."""

    @property
    def alias(self) -> str:
        """The name the generated tests use for it: its last component."""
        return self.module.rpartition(".")[2]


def _binds_other(init: Path, name: str) -> bool:
    """Whether the package `__init__.py` binds `name` to something else than its submodule of that name."""
    try:
        tree = ast.parse(init.read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or node.level == 0):
            if any((alias.asname or alias.name) == name for alias in node.names):
                return True
        elif (isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.name == name) or (
            isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id == name
        ):
            return True
    return False


def resolve_target(project: Project, target: str) -> Target:
    """The module `target` names: a `.py` file (relative to the root) or a module name the interpreter imports.

    Raises:
        TestgenUsageError: When the file is outside the root or missing, or no module of that name is found.
    """
    if target.endswith(".py") or "/" in target:
        file = inside_root(project.root, target, "target")
        if not file.is_file() or file.suffix != ".py":
            raise TestgenUsageError(f"target {target!r}: not a Python file")
        folder = file.parent
        parts = [file.stem]
        while (folder / "__init__.py").is_file() and folder != project.root.parent:
            parts.insert(0, folder.name)
            folder = folder.parent
        if file.stem == "__init__":
            parts.pop()
        shadowed = file.stem != "__init__" and _binds_other(file.parent / "__init__.py", file.stem)
        return Target(module=".".join(parts), file=file, import_root=folder, shadowed=shadowed)
    if not _MODULE_NAME.match(target):
        raise TestgenUsageError(
            f"target {target!r}: neither a module name nor a .py file",
            hint="Pass `package.module` or `path/to/file.py`",
        )
    with project.workdir() as workdir:
        result = project.sandbox.run_python(
            ["-c", _LOCATE, target, str(project.root)], workdir=workdir, cwd=project.root, timeout=60
        )
    try:
        answer = json.loads(result.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        answer = {"error": (result.stderr.strip().splitlines() or ["no answer"])[-1]}
    origin = answer.get("origin")
    if not origin or not str(origin).endswith(".py"):
        reason = answer.get("error") or "no such module, or not a Python source file"
        raise TestgenUsageError(
            f"target {target!r}: {project.python.executable} cannot find its source ({reason})",
            hint="Install the package in that interpreter, pass --python, or pass the file's path",
        )
    file = Path(str(origin)).resolve()
    return Target(module=target, file=file, import_root=project.root, shadowed=bool(answer.get("shadowed")))
