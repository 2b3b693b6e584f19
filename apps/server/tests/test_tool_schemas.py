"""Every tool of the composed server publishes a typed output schema, and every property says what it is.

A tool that returned `dict[str, Any]` would give clients a generic schema (`{name}DictOutput`, any keys), a field
or argument typed `dict[str, Any]` (or `Any`) a property that says nothing of its values, and a field without a
docstring a property without a description. Each fails here, for every tool a toolkit adds later too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from mcp import Client
from pydantic import Field

from codegen_lab.common import Settings
from codegen_lab.common.results import Result
from codegen_lab.mcp_core import Toolkit, build_server
from codegen_lab.server import create_server


class Loose(Result):
    """A model with a field of any JSON (for the test that the check finds it)."""

    details: dict[str, Any]
    """Whatever came."""
    counts: dict[str, int]
    """Counts by name: typed values, fine."""


def nested(schema: dict[str, Any], where: str) -> Iterator[tuple[str, dict[str, Any], bool]]:
    """Every schema in `schema`, itself first, with where it is and whether it is an object's property."""
    yield where, schema, False
    for name, definition in (schema.get("$defs") or {}).items():
        yield from nested(definition, f"{where}$defs.{name}")
    for name, prop in (schema.get("properties") or {}).items():
        yield f"{where}.{name}", prop, True
        yield from list(nested(prop, f"{where}.{name}"))[1:]
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from nested(schema[key], f"{where}[]")
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key) or []:
            yield from nested(option, where)


def undescribed(schema: dict[str, Any], where: str) -> list[str]:
    """The properties of `schema` (its nested schemas and `$defs` included) that have no description."""
    return [
        place
        for place, found, is_property in nested(schema, where)
        if is_property and not str(found.get("description") or "").strip()
    ]


def untyped(schema: dict[str, Any], where: str) -> list[str]:
    """The places in `schema` that say nothing of their values: `{}` (any JSON), or an object with no properties
    whose values are any JSON (`additionalProperties` absent or true), as `dict[str, Any]` gives."""
    places: list[str] = []
    for place, found, _ in nested(schema, where):
        if "$ref" not in found and not set(found) - {"title", "description", "default"}:
            places.append(place)
        typed_values = isinstance(found.get("additionalProperties"), dict)
        if found.get("type") == "object" and not found.get("properties") and not typed_values:
            places.append(place)
    return places


def schema_problems(name: str, input_schema: dict[str, Any], output_schema: dict[str, Any] | None) -> list[str]:
    """What is wrong with one tool's schemas: no typed output, or properties without a description."""
    if output_schema is None:
        return [f"{name}: no output schema"]
    problems: list[str] = []
    if output_schema.get("type") != "object" or not output_schema.get("properties"):
        problems.append(f"{name}: the output schema has no properties ({output_schema.get('title')})")
    if set(output_schema.get("properties") or {}) == {"result"}:
        problems.append(f"{name}: the output is wrapped in `result`, not a model")
    arguments = {key: value for key, value in input_schema.items() if key != "type"}  # a tool may take none
    problems += [f"{name}: {where} is any JSON" for where in untyped(arguments, "input") if where != "input"]
    problems += [f"{name}: {where} is any JSON" for where in untyped(output_schema, "output") if where != "output"]
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

    @toolkit.tool()
    def details(options: Annotated[dict[str, Any], Field(description="Anything.")]) -> Loose:
        """A model whose field is a plain dict."""
        return Loose(details=options, counts={})

    server = build_server(Settings(root=tmp_path, state_dir=tmp_path / "state"), [toolkit])
    async with Client(server) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    plain, loose = tools["loose_report"], tools["loose_details"]
    assert schema_problems(plain.name, plain.input_schema, plain.output_schema) == [
        "loose_report: the output schema has no properties (reportDictOutput)",
        "loose_report: input.path has no description",
    ]
    assert schema_problems(loose.name, loose.input_schema, loose.output_schema) == [
        "loose_details: input.options is any JSON",
        "loose_details: output.details is any JSON",
    ]
