"""The baseline of server_startup.py: a bare MCPServer over stdio.

With no argument it serves one trivial tool, `ping`. With `--like TOOLS.json` (a `tools/list` answer's `tools`)
it serves as many tools with the same names, titles, descriptions, annotations and parameters (types, defaults
and descriptions), each returning a dict: the baseline a composed server's `tools/list` is held against.
"""

import json
import sys
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

server = MCPServer("bare")


def ping() -> str:
    """Answer pong."""
    return "pong"


def _annotation(schema: dict[str, Any]) -> object:
    """A Python type for a JSON schema of the shapes tools take (plain types, enums, arrays, optional)."""
    if "anyOf" in schema:
        options = [_annotation(option) for option in schema["anyOf"] if option.get("type") != "null"]
        return options[0] | None if len(options) == 1 else Any
    if "enum" in schema:
        return Literal[tuple(schema["enum"])]
    simple = {"string": str, "boolean": bool, "integer": int, "number": float, "object": dict[str, Any]}
    if schema.get("type") == "array":
        return list[_annotation(schema.get("items", {}))]  # type: ignore[misc]
    return simple.get(schema.get("type", ""), Any)


def add_like(tool: dict[str, Any]) -> None:
    """Serve a tool with `tool`'s name, texts, annotations and parameters, answering an empty dict."""
    schema = tool.get("inputSchema", {})
    required = set(schema.get("required", []))
    names: list[str] = []
    namespace: dict[str, Any] = {"Annotated": Annotated, "Field": Field, "Any": Any}
    for index, (name, prop) in enumerate(schema.get("properties", {}).items()):
        namespace[f"T{index}"] = _annotation(prop)
        namespace[f"D{index}"] = prop.get("description")
        namespace[f"V{index}"] = prop.get("default")
        default = "" if name in required else f" = V{index}"
        names.append(f"{name}: Annotated[T{index}, Field(description=D{index})]{default}")
    ordered = sorted(names, key=lambda text: " = " in text)  # parameters with defaults last
    source = f"def {tool['name']}({', '.join(ordered)}) -> dict[str, Any]:\n    return {{}}\n"
    exec(source, namespace)  # noqa: S102 (the benchmark's own generated code)
    annotations = ToolAnnotations(**tool["annotations"]) if tool.get("annotations") else None
    server.add_tool(
        namespace[tool["name"]],
        name=tool["name"],
        title=tool.get("title"),
        description=tool.get("description"),
        annotations=annotations,
        structured_output=True,
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--like"]:
        with open(sys.argv[2], encoding="utf-8") as handle:
            for listed in json.load(handle):
                add_like(listed)
    else:
        server.add_tool(ping)
    server.run()
