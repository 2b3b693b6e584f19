from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

from codegen_lab import mcp_core


def test_all_is_exactly_the_public_surface() -> None:
    for name in mcp_core.__all__:
        assert getattr(mcp_core, name) is not None, name
    public = {name for name in dir(mcp_core) if not name.startswith("_") or name == "__version__"}
    modules = {name for name in public if type(getattr(mcp_core, name)).__name__ == "module"}
    assert set(mcp_core.__all__) == public - modules - {"import_module", "TYPE_CHECKING"}


def test_the_version_is_the_installed_one() -> None:
    assert mcp_core.__version__ == version("codegen-lab-mcp-core")


def test_a_library_can_use_the_errors_settings_and_file_helpers_without_the_mcp_sdk() -> None:
    probe = (
        "import sys\n"
        "from codegen_lab.mcp_core.errors import UsageError\n"
        "from codegen_lab.mcp_core import Settings, SettingsError\n"
        "import codegen_lab.mcp_core.files\n"
        "assert issubclass(SettingsError, UsageError)\n"
        "print(sorted(name for name in sys.modules if name == 'mcp' or name.startswith(('mcp.', 'mcp_types'))))\n"
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert completed.stdout.strip() == "[]"
