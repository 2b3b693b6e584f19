"""The composition root of Codegen Lab: the `codegen-lab` command and the MCP server composed of every toolkit.

Names are imported when first used: `codegen-lab ws ...` or `codegen-lab --version` do not import the MCP SDK.
"""

from typing import TYPE_CHECKING

from codegen_lab.common.exports import declared_exports as _declared_exports

if TYPE_CHECKING:
    from codegen_lab.server._app import create_server as create_server
    from codegen_lab.server._cli import CLI_ENTRY_POINT_GROUP as CLI_ENTRY_POINT_GROUP, cli as cli

__version__: str
"""The installed version of codegen-lab-server, read from its metadata when first asked for."""


__getattr__, __dir__ = _declared_exports(__name__, "codegen-lab-server", defined_here=("main",))


def main() -> None:
    """Run the `codegen-lab` command (`python -m codegen_lab.server` too).

    The garbage collector is off from here until the command's work begins (for `serve`, until the server is
    built): starting imports thousands of modules and classes, objects that live as long as the process and form
    few cycles, and collecting while they pile up costs about a tenth of the start for nothing. They are frozen
    when the work begins (or when the command ends before any), so neither later collections nor the one at exit
    look at them again.
    """
    import gc  # noqa: PLC0415

    gc.disable()
    from codegen_lab.server._cli import main as run  # noqa: PLC0415

    try:
        run()
    finally:
        if not gc.isenabled():  # it ended before any work began (`--version`, `--help`, a usage error)
            gc.freeze()  # all of it is the start's, which the collection at exit need not look at
