from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

from codegen_lab import server
from codegen_lab.common.testing import exports_defined_elsewhere


def test_all_is_exactly_the_public_surface() -> None:
    # every name resolves, and each class or function is defined in the package unless declared a re-export here
    assert exports_defined_elsewhere(server) == {}
    public = {name for name in dir(server) if not name.startswith("_")} | {"__version__"}
    modules = {name for name in public if type(getattr(server, name)).__name__ == "module"}
    assert set(server.__all__) == public - modules - {"TYPE_CHECKING"}


def test_the_version_is_the_installed_one() -> None:
    assert server.__version__ == version("codegen-lab-server")


def test_the_command_line_imports_the_mcp_sdk_only_to_serve() -> None:
    """`codegen-lab --version` and the libraries' commands start without the SDK (about 1 s of CPU here)."""
    probe = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from codegen_lab.server import cli\n"
        "assert CliRunner().invoke(cli, ['--version']).exit_code == 0\n"
        "print(sorted(name for name in sys.modules if name == 'mcp' or name.startswith('mcp.')))\n"
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert completed.stdout.strip() == "[]"
