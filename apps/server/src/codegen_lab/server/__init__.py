"""The composition root of Codegen Lab: the `codegen-lab` command and the MCP server composed of every toolkit."""

from codegen_lab.server._app import create_server
from codegen_lab.server._cli import CLI_ENTRY_POINT_GROUP, cli, main

__version__: str
"""The installed version of codegen-lab-server, read from its metadata when first asked for."""

__all__ = ["CLI_ENTRY_POINT_GROUP", "__version__", "cli", "create_server", "main"]


def __getattr__(name: str) -> str:
    if name == "__version__":
        from importlib.metadata import version  # noqa: PLC0415

        return version("codegen-lab-server")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
