from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

from codegen_lab import common
from codegen_lab.common.testing import exports_defined_elsewhere


def test_all_is_exactly_the_public_surface() -> None:
    # every name resolves, and each class or function is defined in the package unless declared a re-export here
    assert exports_defined_elsewhere(common) == {}
    public = {name for name in dir(common) if not name.startswith("_") or name == "__version__"}
    modules = {name for name in public if type(getattr(common, name)).__name__ == "module"}
    assert set(common.__all__) == public - modules - {"import_module", "TYPE_CHECKING"}


def test_the_version_is_the_installed_one() -> None:
    assert common.__version__ == version("codegen-lab-common")


def test_a_library_can_use_the_errors_settings_and_file_helpers_without_the_mcp_sdk_or_an_llm_sdk() -> None:
    probe = (
        "import sys\n"
        "from codegen_lab.common.errors import UsageError\n"
        "from codegen_lab.common import Settings, SettingsError\n"
        "import codegen_lab.common.files\n"
        "assert issubclass(SettingsError, UsageError)\n"
        "heavy = {'mcp', 'mcp_types', 'uvicorn', 'anthropic'}\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in heavy))\n"
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert completed.stdout.strip() == "[]"
