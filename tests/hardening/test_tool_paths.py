"""Every path and revision argument of every tool of the composed server, fed the regression list of escapes.

The list comes from real MCP server vulnerabilities: `..`, absolute paths, a link out of the root, a sibling
folder whose name starts with the root's, NUL bytes, `/proc/self/root`, and git revisions that are options.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp_types import CallToolResult, TextContent

from codegen_lab.common import Settings
from codegen_lab.common.testing import hostile_project
from codegen_lab.mcp_core import ServerContext, discover_toolkits
from codegen_lab.server import create_server
from codegen_lab.server._app import codegen_toolkit, deferred_llm

pytestmark = pytest.mark.anyio

PATH_LIKE = {"path", "paths", "target", "target_path", "context_paths", "tests", "out", "source", "html_dir", "python"}
"""Argument names that name files or folders; a tool taking one must declare it."""

REVISION_LIKE = {"since", "before", "after", "diff_ref", "ref", "revision"}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return hostile_project(tmp_path)


def declared_specs(settings: Settings) -> list[Any]:
    context = ServerContext(settings, llm=deferred_llm(settings))
    toolkits = [codegen_toolkit(context), *discover_toolkits(settings, context=context)]
    return [spec for toolkit in toolkits for spec in toolkit.tools]


def hostile_paths(project: Path) -> list[tuple[str, str]]:
    return [
        ("dot-dot", "../outside/secret.py"),
        ("absolute", "/etc/passwd"),
        ("link out", "link_out/secret.py"),
        ("sibling prefix", f"{project}-evil/secret.py"),
        ("proc root", "/proc/self/root/etc/passwd"),
        ("NUL byte", "src/main.py\0.txt"),
    ]


def required_arguments(schema: dict[str, Any]) -> dict[str, Any]:
    """Schema-valid values for a tool's required arguments."""
    values: dict[str, Any] = {}
    for name in schema.get("required", []):
        prop = schema["properties"][name]
        kind = prop.get("type")
        if "enum" in prop:
            values[name] = prop["enum"][0]
        elif kind == "array":
            values[name] = ["x"]
        elif kind in {"integer", "number"}:
            values[name] = 1
        elif kind == "boolean":
            values[name] = False
        else:
            values[name] = "HEAD" if name in REVISION_LIKE else "x"
    return values


def text_of(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


def test_every_path_like_argument_of_every_tool_is_declared(project: Path) -> None:
    undeclared: list[str] = []
    for spec in declared_specs(Settings(root=project)):
        code = spec.fn.__code__
        for name in code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]:
            if name in PATH_LIKE and name not in (*spec.paths, *spec.programs):
                undeclared.append(f"{spec.name}({name}) is not in paths")
            if name in REVISION_LIKE and name not in spec.revisions:
                undeclared.append(f"{spec.name}({name}) is not in revisions")
    assert undeclared == []


async def test_every_declared_path_argument_refuses_every_escape(project: Path) -> None:
    settings = Settings(root=project)
    specs = [spec for spec in declared_specs(settings) if spec.paths or spec.programs]
    assert len(specs) >= 20, "the toolkits declare fewer path arguments than expected"
    accepted: list[str] = []
    async with Client(create_server(settings)) as client:
        schemas = {tool.name: tool.input_schema for tool in (await client.list_tools()).tools}
        for spec in specs:
            schema = schemas[spec.name]
            for argument in (*spec.paths, *spec.programs):
                is_list = schema["properties"][argument].get("type") == "array" or any(
                    option.get("type") == "array" for option in schema["properties"][argument].get("anyOf", [])
                )
                for label, hostile in hostile_paths(project):
                    if label == "link out" and argument in spec.programs:
                        continue  # a virtual environment's interpreter is a link out of the root
                    arguments = required_arguments(schema) | {argument: [hostile] if is_list else hostile}
                    result = await client.call_tool(spec.name, arguments)
                    message = text_of(result)
                    if not result.is_error or not ("outside the root" in message or "NUL" in message):
                        accepted.append(f"{spec.name}({argument}={hostile!r}) [{label}]: {message[:120]}")
    assert accepted == []


async def test_every_declared_revision_argument_refuses_an_option(project: Path) -> None:
    settings = Settings(root=project)
    specs = [spec for spec in declared_specs(settings) if spec.revisions]
    assert {spec.name for spec in specs} >= {"ws_affected", "ws_lock_diff", "ws_run", "testgen_coverage"}
    marker = project.parent / "pwned"
    accepted: list[str] = []
    async with Client(create_server(settings)) as client:
        schemas = {tool.name: tool.input_schema for tool in (await client.list_tools()).tools}
        for spec in specs:
            for argument in spec.revisions:
                arguments = required_arguments(schemas[spec.name]) | {argument: f"--output={marker}"}
                result = await client.call_tool(spec.name, arguments)
                if not result.is_error or "looks like an option" not in text_of(result):
                    accepted.append(f"{spec.name}({argument}): {text_of(result)[:120]}")
    assert accepted == []
    assert not marker.exists()


async def test_a_path_inside_the_root_gets_past_the_check(project: Path) -> None:
    """The check refuses escapes, not paths: the same tools accept the root's own files."""
    async with Client(create_server(Settings(root=project))) as client:
        result = await client.call_tool("rules_for_path", {"path": "src/main.py"})
        linked = await client.call_tool("rules_for_path", {"path": str(project / "src" / "main.py")})
    assert not result.is_error, text_of(result)
    assert not linked.is_error, text_of(linked)


def test_no_module_runs_a_shell() -> None:
    """No call passes `shell=True`, and none calls os.system or os.popen: commands are argument lists.

    The scan reads the syntax tree, so code that only mentions them in a string (the validator of generated
    code looks for them) does not count.
    """
    repository = Path(__file__).resolve().parents[2]
    offenders: list[str] = []
    scanned = 0
    for folder in ("packages", "apps", "benchmarks", "scripts", "tests"):
        for path in sorted((repository / folder).rglob("*.py")):
            if "node_modules" in path.parts:
                continue
            scanned += 1
            for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
                if not isinstance(node, ast.Call):
                    continue
                shell = any(
                    keyword.arg == "shell" and not (isinstance(keyword.value, ast.Constant) and not keyword.value.value)
                    for keyword in node.keywords
                )
                called = ast.unparse(node.func)
                if shell or called in {"os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput"}:
                    offenders.append(f"{path.relative_to(repository)}:{node.lineno}: {ast.unparse(node)[:100]}")
    assert offenders == []
    assert scanned > 100
