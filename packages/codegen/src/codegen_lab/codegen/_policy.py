"""The policy for code a model wrote: an allowlist of imports, and no way around it through dynamic access.

A model's answer is untrusted text. Before it is written or run, its syntax tree is checked:

- **Imports** must be on the allowlist: a curated set of standard-library modules that compute, parse and format
  (no process, network, code-loading or serialization-of-code modules), the project's own packages, the
  distributions the project declares, and what the user adds (setting `codegen-allowed-imports`). Modules that
  run or load code (`ctypes`, `pickle`, `importlib`, `subprocess`, ...) are never allowed through the project's
  declarations: only the user's setting can add them.
- **Calls and attributes** that run text as code or start processes are refused whatever module they come from,
  after resolving import aliases (`import pickle as p; p.loads` is `pickle.loads`): `eval`, `exec`, `compile`,
  `__import__`, `os.system`, `os.exec*`, `types.FunctionType`, ...
- **Dynamic access** that would hide a name from this check is refused: `getattr`/`setattr`/`delattr` with a name
  that is not a string literal on a module, `vars()`/`globals()`/`locals()` indexed, `__builtins__`, and dunder
  attributes that reach code objects or globals (`__globals__`, `__code__`, `__subclasses__`, `__dict__` of a
  module).

This is a check of text, not a boundary: code that passes still runs only in the sandbox.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ImportPolicy", "PolicyFinding", "check_policy", "project_imports"]

SAFE_STDLIB = frozenset(
    """
    __future__ abc argparse array ast asyncio base64 binascii bisect calendar cmath collections colorsys
    concurrent contextlib contextvars copy csv dataclasses datetime decimal difflib email enum errno fnmatch
    fractions functools gettext glob graphlib gzip hashlib heapq hmac html http io ipaddress itertools json
    keyword locale logging lzma math mimetypes numbers operator os pathlib pprint queue random re reprlib
    secrets shlex shutil signal statistics string stringprep struct tempfile textwrap threading time timeit
    tokenize tomllib traceback types typing typing_extensions unicodedata unittest urllib uuid warnings
    weakref xml zipfile zlib zoneinfo
    """.split()
)
"""Standard-library modules generated code may import by default."""

NEVER_BY_DECLARATION = frozenset(
    """
    builtins code codeop ctypes _ctypes imp importlib marshal multiprocessing pickle pty runpy shelve socket
    subprocess sys _thread _posixsubprocess cffi dill cloudpickle
    """.split()
)
"""Modules that run or load code, or reach the interpreter: only the user's setting can allow them."""

FORBIDDEN_CALLS = {
    "eval": "evaluates arbitrary text as code",
    "exec": "runs arbitrary text as code",
    "compile": "turns text into a code object",
    "__import__": "imports a module chosen at run time",
    "breakpoint": "starts a debugger",
    "os.system": "runs a shell command",
    "os.popen": "runs a shell command",
    "os.fork": "starts a process",
    "os.forkpty": "starts a process",
    "os.kill": "signals another process",
    "os.killpg": "signals other processes",
    "os.setuid": "changes the process's user",
    "os.setgid": "changes the process's group",
    "os.putenv": "changes the environment of child processes",
    "types.FunctionType": "builds a function from a code object",
    "types.CodeType": "builds a code object",
    "shutil.rmtree": "removes a folder tree",
    "pickle.loads": "unpickling runs arbitrary code",
    "pickle.load": "unpickling runs arbitrary code",
    "marshal.loads": "loads arbitrary code objects",
    "importlib.import_module": "imports a module chosen at run time",
}
"""Calls refused in generated code, with why (`os.exec*` and `os.spawn*` are refused by prefix)."""

_FORBIDDEN_PREFIXES = ("os.exec", "os.spawn", "os.posix_spawn", "subprocess.", "ctypes.", "pty.")
_DYNAMIC_ATTRIBUTES = frozenset({"getattr", "setattr", "delattr"})
_NAMESPACE_CALLS = frozenset({"vars", "globals", "locals"})
_DANGEROUS_DUNDERS = frozenset(
    {"__builtins__", "__globals__", "__code__", "__subclasses__", "__bases__", "__mro__", "__loader__", "__spec__"}
)


@dataclass(frozen=True, slots=True)
class PolicyFinding:
    """One thing the policy refuses, at a line of the generated code."""

    rule: str
    """`import`, `call`, `dynamic` or `dunder`."""
    line: int
    message: str


@dataclass(frozen=True, slots=True)
class ImportPolicy:
    """Which top-level modules generated code may import.

    Attributes:
        project: The project's own packages and the import names of the distributions it declares; modules in
            `NEVER_BY_DECLARATION` are not allowed through these.
        user: Modules the user allows (setting `codegen-allowed-imports`), whatever they are.
    """

    project: frozenset[str] = field(default_factory=frozenset[str])
    user: frozenset[str] = field(default_factory=frozenset[str])

    def allows(self, module: str) -> bool:
        """Whether `import module` (or `from module import ...`) is allowed; only the top-level name counts."""
        top = module.split(".", maxsplit=1)[0]
        if top in self.user:
            return True
        if top in NEVER_BY_DECLARATION:
            return False
        return top in SAFE_STDLIB or top in self.project

    @classmethod
    def for_project(cls, root: Path, user: Iterable[str] = ()) -> ImportPolicy:
        """The policy of the project at `root` (`project_imports`), with the modules the user allows."""
        return cls.of(project_imports(root), user)

    @classmethod
    def of(cls, project: Iterable[str] = (), user: Iterable[str] = ()) -> ImportPolicy:
        """A policy from import names, kept as written (`PIL`, `Crypto`); a dotted name stands for its top level."""
        return cls(frozenset(_import_name(name) for name in project), frozenset(_import_name(name) for name in user))


def project_imports(root: Path) -> set[str]:
    """The import names a project may use: its own packages and modules, and the distributions it declares.

    Its packages and modules are those at the root and under `src/`; the distributions are its `pyproject.toml`'s
    dependencies, optional ones and dependency groups.

    Distribution names stand for their import names (`python-dateutil` -> `python_dateutil`, `zope.interface` ->
    `zope`); a package whose import name differs (`pyyaml` imports `yaml`) needs the user's setting.
    """
    found: set[str] = set()
    for folder in (root, root / "src"):
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            if entry.suffix == ".py" and entry.stem.isidentifier():
                found.add(entry.stem)
            elif entry.is_dir() and entry.name.isidentifier() and not entry.name.startswith("."):
                found.add(entry.name)
    pyproject = root / "pyproject.toml"
    try:
        document = tomllib.loads(pyproject.read_text(encoding="utf-8")) if pyproject.is_file() else {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        document = {}
    project = document.get("project", {})
    requirements: list[object] = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        requirements.extend(extra)
    for group in document.get("dependency-groups", {}).values():
        requirements.extend(group)
    for requirement in requirements:
        if isinstance(requirement, str):
            match = _REQUIREMENT_NAME.match(requirement)
            if match:
                found.add(_distribution_import_name(match.group(0)))
    return found


_REQUIREMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _import_name(name: str) -> str:
    """The top-level module of an import name, its case kept: Python's imports are case-sensitive."""
    return name.strip().split(".", maxsplit=1)[0]


def _distribution_import_name(name: str) -> str:
    """The import name a distribution most likely has: `python-dateutil` -> `python_dateutil`, `PyYAML` -> `pyyaml`.

    A dotted name is a namespace package's: `zope.interface` and `ruamel.yaml` import as `zope` and `ruamel`.
    """
    lowered = name.strip().lower()
    return lowered.split(".", maxsplit=1)[0] if "." in lowered else lowered.replace("-", "_")


def check_policy(tree: ast.AST, policy: ImportPolicy | None = None) -> list[PolicyFinding]:
    """What `policy` (default: the standard library's safe modules only) refuses in `tree`, in line order."""
    checker = _Checker(policy or ImportPolicy())
    checker.shadowed = {
        node.name if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) else node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        or (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store))
    }
    checker.visit(tree)
    return sorted(checker.found, key=lambda finding: finding.line)


class _Checker(ast.NodeVisitor):
    def __init__(self, policy: ImportPolicy) -> None:
        self.policy = policy
        self.found: list[PolicyFinding] = []
        self.aliases: dict[str, str] = {}
        """Local name -> the dotted name it stands for (`p` -> `pickle`, `loads` -> `pickle.loads`)."""
        self.called: set[int] = set()
        """The nodes that are the function of a call, already judged as a call."""
        self.shadowed: set[str] = set()
        """Names the code binds itself (`def compile(...)`): not the built-ins of the same name."""

    def refuse(self, rule: str, node: ast.AST, message: str) -> None:
        self.found.append(PolicyFinding(rule, getattr(node, "lineno", 0), message))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if not self.policy.allows(alias.name):
                self.refuse("import", node, f"import {alias.name}: not on the allowlist of imports")
            local = alias.asname or alias.name.split(".")[0]
            self.aliases[local] = alias.name if alias.asname else alias.name.split(".")[0]
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level == 0 and not self.policy.allows(module):
            self.refuse("import", node, f"from {module} import ...: not on the allowlist of imports")
        for alias in node.names:
            if alias.name == "*":
                continue
            dotted = f"{module}.{alias.name}" if node.level == 0 else alias.name
            self.aliases[alias.asname or alias.name] = dotted
            if dotted in FORBIDDEN_CALLS or dotted.startswith(_FORBIDDEN_PREFIXES):
                self.refuse("call", node, f"{dotted}: {FORBIDDEN_CALLS.get(dotted, 'runs or loads code')}")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        self.called.add(id(node.func))
        name = self.resolve(node.func)
        if isinstance(node.func, ast.Name) and node.func.id in self.shadowed and node.func.id not in self.aliases:
            name = None
        if name is not None:
            reason = FORBIDDEN_CALLS.get(name)
            if reason is None and name.startswith(_FORBIDDEN_PREFIXES):
                reason = "starts a process or loads native code"
            if reason is not None:
                self.refuse("call", node, f"{name}: {reason}")
            if name in _DYNAMIC_ATTRIBUTES and len(node.args) >= 2:
                self.check_dynamic_attribute(node, name)
            if name.startswith("subprocess.") or name.endswith(".run"):
                for keyword in node.keywords:
                    constant = isinstance(keyword.value, ast.Constant) and keyword.value.value
                    if keyword.arg == "shell" and constant:
                        self.refuse("call", node, f"{name} with shell=True")
        self.generic_visit(node)

    def check_dynamic_attribute(self, node: ast.Call, name: str) -> None:
        target, attribute = node.args[0], node.args[1]
        if isinstance(attribute, ast.Constant) and isinstance(attribute.value, str):
            resolved = self.resolve(target)
            dotted = f"{resolved}.{attribute.value}" if resolved else attribute.value
            if dotted in FORBIDDEN_CALLS or dotted.startswith(_FORBIDDEN_PREFIXES):
                self.refuse("dynamic", node, f"{name}(..., {attribute.value!r}) reaches {dotted}")
            elif attribute.value in _DANGEROUS_DUNDERS:
                self.refuse("dunder", node, f"{name}(..., {attribute.value!r}) reaches the interpreter's internals")
            return
        resolved = self.resolve(target)
        if resolved is not None and self.is_module(resolved):
            self.refuse("dynamic", node, f"{name}({resolved}, <computed name>): hides which attribute is used")

    def is_module(self, dotted: str) -> bool:
        top = dotted.split(".", maxsplit=1)[0]
        return top in sys.stdlib_module_names or top in self.policy.project or top in self.policy.user

    def visit_Subscript(self, node: ast.Subscript) -> None:
        value = node.value
        if isinstance(value, ast.Call):
            called = self.resolve(value.func)
            if called in _NAMESPACE_CALLS:
                self.refuse("dynamic", node, f"{called}()[...]: looks a name up by text")
        if isinstance(value, ast.Attribute) and value.attr == "__dict__":
            self.refuse("dynamic", node, "__dict__[...]: looks a name up by text")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in _DANGEROUS_DUNDERS:
            self.refuse("dunder", node, f".{node.attr}: reaches the interpreter's internals")
        resolved = self.resolve(node)
        if id(node) not in self.called and resolved in FORBIDDEN_CALLS and isinstance(node.ctx, ast.Load):
            # A forbidden function used as a value (passed, stored, called later) is as good as called.
            self.refuse("call", node, f"{resolved}: {FORBIDDEN_CALLS[resolved]}")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id == "__builtins__":
            self.refuse("dunder", node, "__builtins__: reaches every built-in by name")
        elif id(node) not in self.called and isinstance(node.ctx, ast.Load):
            resolved = self.aliases.get(node.id, node.id)
            if resolved in FORBIDDEN_CALLS and node.id not in self.shadowed:
                self.refuse("call", node, f"{resolved}: {FORBIDDEN_CALLS[resolved]}")

    def resolve(self, node: ast.AST) -> str | None:
        """The dotted name `node` stands for, through import aliases (`p.loads` -> `pickle.loads`)."""
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            return f"{base}.{node.attr}" if base else None
        return None
