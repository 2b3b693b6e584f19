"""The baseline of server_startup.py: a bare MCPServer over stdio.

With no argument it serves one trivial tool, `ping`. With `--like TOOLS.json` (a `tools/list` answer's `tools`)
it serves as many tools with the same names, titles, descriptions, annotations, input schemas and output schemas
(the same signatures, return types included), each answering an empty dict: the baseline a composed server's
`tools/list` is held against.
"""

import json
import sys
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp.types import ToolAnnotations

server = MCPServer("bare")


def ping() -> str:
    """Answer pong."""
    return "pong"


def _empty() -> dict[str, Any]:
    return {}


def add_like(tool: dict[str, Any]) -> Tool:
    """A tool with `tool`'s name, texts, annotations, input schema and output schema, answering an empty dict.

    The schemas are the listed ones, unchanged: `tools/list` costs the same per byte of schema on both sides, so
    what differs is only what each server does around the SDK's answer.
    """
    annotations = ToolAnnotations(**tool["annotations"]) if tool.get("annotations") else None
    return Tool(
        fn=_empty,
        name=tool["name"],
        title=tool.get("title"),
        description=tool.get("description") or "",
        parameters=tool.get("inputSchema", {"type": "object", "properties": {}}),
        fn_metadata=FuncMetadata(arg_model=ArgModelBase, output_schema=tool.get("outputSchema")),
        is_async=False,
        annotations=annotations,
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--like"]:
        with open(sys.argv[2], encoding="utf-8") as handle:
            server = MCPServer("bare", tools=[add_like(listed) for listed in json.load(handle)])
    else:
        server.add_tool(ping)
    server.run()
