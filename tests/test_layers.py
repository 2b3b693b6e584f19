"""Each package imports only down the stack: common <- llm <- mcp-core <- libraries <- apps/server.

A library never imports another library (dependencies are passed in by the server), and nothing imports up.
The check reads every `import` of every source file, including those inside functions and `TYPE_CHECKING`.

The sources use only the public API of the `mcp` SDK, whose range admits minor releases that may change anything
private: no import from `mcp` or `mcp_types` whose module or name is private, and no read of an attribute that the
SDK defines as private (`obj._name`, `getattr(obj, "_name")`) on anything but `self`/`cls`.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import tomllib
from functools import cache
from pathlib import Path

ROOT = Path(__file__).parent.parent
LAYERS = {"common": 0, "llm": 1, "mcp_core": 2, "server": 4}
"""The layer of each package; every other member is a library, on layer 3."""


def imported_packages(source: Path) -> set[str]:
    """The `codegen_lab.<package>` names a source file imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] if node.module != "codegen_lab" else [f"codegen_lab.{a.name}" for a in node.names]
        found.update(name.split(".")[1] for name in names if name.startswith("codegen_lab."))
    return found


def packages() -> dict[str, Path]:
    """Each member's import name and its source folder, from the workspace's members list."""
    workspace = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    found: dict[str, Path] = {}
    for member in workspace["tool"]["uv"]["workspace"]["members"]:
        project = tomllib.loads((ROOT / member / "pyproject.toml").read_text(encoding="utf-8"))
        module = project["tool"]["uv"]["build-backend"]["module-name"]
        found[module.split(".")[1]] = ROOT / member / "src" / Path(*module.split("."))
    return found


def test_every_package_imports_only_down_the_stack() -> None:
    wrong: list[str] = []
    for package, folder in packages().items():
        layer = LAYERS.get(package, 3)
        for source in sorted(folder.rglob("*.py")):
            wrong.extend(
                f"{source.relative_to(ROOT)} ({package}) imports codegen_lab.{other}"
                for other in imported_packages(source) - {package}
                if LAYERS.get(other, 3) >= layer
            )
    assert wrong == []


def test_the_check_sees_imports_inside_functions_and_type_checking(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from codegen_lab.mcp_core import Toolkit\n"
        "def f():\n    import codegen_lab.rule_engine.cli\n    from codegen_lab import testgen\n",
        encoding="utf-8",
    )
    assert imported_packages(source) == {"mcp_core", "rule_engine", "testgen"}


def test_every_member_is_placed() -> None:
    assert set(LAYERS) <= set(packages())


SDK_PACKAGES = ("mcp", "mcp_types")
_ATTRIBUTE_FUNCTIONS = {"getattr", "hasattr", "setattr", "delattr"}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


@cache
def sdk_private_names() -> frozenset[str]:
    """The private names the SDK's own sources define: attributes set on `self`, methods, class and module names."""
    names: set[str] = set()
    for package in SDK_PACKAGES:
        spec = importlib.util.find_spec(package)
        assert spec is not None, package
        for folder in spec.submodule_search_locations or ():
            for source in Path(folder).rglob("*.py"):
                for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
                    if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                        names.add(node.attr)
                    elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                        names.add(node.name)
                    elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                        names.add(node.id)
    return frozenset(name for name in names if _private(name))


def _is_sdk_module(module: str) -> bool:
    return module.split(".", maxsplit=1)[0] in SDK_PACKAGES


def private_uses(source: str) -> list[str]:
    """Each use of a private SDK name in `source`, as `line: what`."""
    private = sdk_private_names()
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [
                f"{node.lineno}: import {alias.name}"
                for alias in node.names
                if _is_sdk_module(alias.name) and any(_private(part) for part in alias.name.split("."))
            ]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and _is_sdk_module(node.module):
            if any(_private(part) for part in node.module.split(".")):
                found.append(f"{node.lineno}: from {node.module} import ...")
            found += [f"{node.lineno}: from {node.module} import {a.name}" for a in node.names if _private(a.name)]
        elif isinstance(node, ast.Attribute) and node.attr in private and not _is_own(node.value):
            found.append(f"{node.lineno}: .{node.attr}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _ATTRIBUTE_FUNCTIONS
            and len(node.args) >= 2
            and isinstance(name := node.args[1], ast.Constant)
            and name.value in private
            and not _is_own(node.args[0])
        ):
            found.append(f"{node.lineno}: {node.func.id}(..., {name.value!r})")
    return sorted(found, key=lambda use: int(use.split(":", 1)[0]))


def _is_own(value: ast.expr) -> bool:
    """`self` or `cls`: a class's own private attributes, which the SDK's names may shadow (`self._connection`)."""
    return isinstance(value, ast.Name) and value.id in {"self", "cls"}


WAIVED: set[tuple[str, str]] = set()
"""Uses with no public equivalent in the SDK, each with its reason; none today (the HTTP sessions that the quota
and the `mcp_server_sessions_open` gauge count are mcp-core's own map, `OpenSessions`)."""


def test_no_source_uses_a_private_name_of_the_sdk() -> None:
    found = {
        (str(source.relative_to(ROOT)), use.split(": ", 1)[1])
        for folder in packages().values()
        for source in sorted(folder.rglob("*.py"))
        for use in private_uses(source.read_text(encoding="utf-8"))
    }
    assert (sorted(found - WAIVED), sorted(WAIVED - found)) == ([], [])


def test_the_check_finds_each_form_of_private_use() -> None:
    source = (
        "import mcp.shared._context_streams\n"
        "from mcp.shared._stream_protocols import ReadStream\n"
        "from mcp.server.stdio import _claim_fd\n"
        "async def serve(server, session):\n"
        "    await server._lowlevel_server.run()\n"
        "    key = getattr(session, '_connection', session)\n"
        "    manager = getattr(server, '_tool_manager', None)\n"
        "    self._connection = None\n"
        "    from mcp.server.mcpserver import MCPServer\n"
    )
    assert private_uses(source) == [
        "1: import mcp.shared._context_streams",
        "2: from mcp.shared._stream_protocols import ...",
        "3: from mcp.server.stdio import _claim_fd",
        "5: ._lowlevel_server",
        "6: getattr(..., '_connection')",
        "7: getattr(..., '_tool_manager')",
    ]


SERIALIZER_NAME = re.compile(r"(as|to)_(json|dict)")
"""Names of hand-written JSON functions and methods: a record says what its JSON is with `to_result()`."""
THE_SERIALIZER = ("packages/common/src/codegen_lab/common/results.py", "to_json")
"""The one serializer of results, the only function allowed such a name."""


def hand_written_serializers(source: str) -> list[str]:
    """Each function or method in `source` named as a serializer of its own (`to_dict`, ...), as `line: name`."""
    return [
        f"{node.lineno}: {node.name}"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and SERIALIZER_NAME.fullmatch(node.name)
    ]


def test_results_have_one_serializer_and_no_source_writes_its_own_json_method() -> None:
    found = {
        (str(source.relative_to(ROOT)), use.split(": ", 1)[1])
        for folder in packages().values()
        for source in sorted(folder.rglob("*.py"))
        for use in hand_written_serializers(source.read_text(encoding="utf-8"))
    }
    assert sorted(found - {THE_SERIALIZER}) == []
    assert THE_SERIALIZER in found  # the check reads the file that holds the one serializer


def test_the_check_finds_functions_and_methods_named_as_serializers() -> None:
    source = (
        "class Report:\n"
        "    def as_dict(self): ...\n"
        "    async def to_json(self): ...\n"
        "    def to_result(self): ...\n"
        "def to_dict(report): ...\n"
    )
    assert sorted(hand_written_serializers(source)) == ["2: as_dict", "3: to_json", "5: to_dict"]
