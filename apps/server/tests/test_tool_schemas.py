"""Every tool of the composed server publishes a typed output schema, and every property says what it is.

A tool that returned `dict[str, Any]` would give clients a generic schema (`{name}DictOutput`, any keys); a
field without a docstring would give them a property without a description. Both fail here, for every tool a
toolkit adds later too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from codegen_lab.common import Settings
from codegen_lab.mcp_core import Toolkit, build_server
from codegen_lab.server import create_server


def undescribed(schema: dict[str, Any], where: str) -> list[str]:
    """The properties of `schema` (its nested schemas and `$defs` included) that have no description."""
    found: list[str] = []
    for name, definition in (schema.get("$defs") or {}).items():
        found += undescribed(definition, f"{where}$defs.{name}")
    for name, prop in (schema.get("properties") or {}).items():
        if not str(prop.get("description") or "").strip():
            found.append(f"{where}.{name}")
        found += undescribed(prop, f"{where}.{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            found += undescribed(schema[key], f"{where}[]")
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key) or []:
            found += undescribed(option, where)
    return found


def schema_problems(name: str, input_schema: dict[str, Any], output_schema: dict[str, Any] | None) -> list[str]:
    """What is wrong with one tool's schemas: no typed output, or properties without a description."""
    if output_schema is None:
        return [f"{name}: no output schema"]
    problems: list[str] = []
    if output_schema.get("type") != "object" or not output_schema.get("properties"):
        problems.append(f"{name}: the output schema has no properties ({output_schema.get('title')})")
    if set(output_schema.get("properties") or {}) == {"result"}:
        problems.append(f"{name}: the output is wrapped in `result`, not a model")
    problems += [f"{name}: {where} has no description" for where in undescribed(input_schema, "input")]
    problems += [f"{name}: {where} has no description" for where in undescribed(output_schema, "output")]
    return problems


@pytest.mark.anyio
async def test_every_tool_of_the_composed_server_has_described_typed_schemas(tmp_path: Path) -> None:
    server = create_server(Settings(root=tmp_path, state_dir=tmp_path / "state"))
    async with Client(server) as client:
        tools = (await client.list_tools()).tools
    problems = [
        problem for tool in tools for problem in schema_problems(tool.name, tool.input_schema, tool.output_schema)
    ]
    assert problems == []
    names = {tool.name for tool in tools}
    assert {"server_info", "generate_code", "rules_lint", "testgen_run", "ws_graph"} <= names


@pytest.mark.anyio
async def test_a_tool_returning_a_plain_dict_or_an_undescribed_argument_is_reported(tmp_path: Path) -> None:
    toolkit = Toolkit("loose")

    @toolkit.tool()
    def report(path: str) -> dict[str, Any]:
        """A report without a model."""
        return {"path": path}

    server = build_server(Settings(root=tmp_path, state_dir=tmp_path / "state"), [toolkit])
    async with Client(server) as client:
        tool = next(tool for tool in (await client.list_tools()).tools if tool.name == "loose_report")
    assert schema_problems(tool.name, tool.input_schema, tool.output_schema) == [
        "loose_report: the output schema has no properties (reportDictOutput)",
        "loose_report: input.path has no description",
    ]
