"""The composition root of Codegen Lab: the `codegen-lab` command and the MCP server composed of every toolkit."""

from importlib.metadata import version as _version

from codegen_lab.server._app import create_server
from codegen_lab.server._cli import CLI_ENTRY_POINT_GROUP, cli, main

__all__ = ["CLI_ENTRY_POINT_GROUP", "__version__", "cli", "create_server", "main"]

__version__ = _version("codegen-lab-server")
