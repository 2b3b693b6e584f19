from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

from codegen_lab import uvtools
from codegen_lab.common.testing import exports_defined_elsewhere


def test_all_is_exactly_the_public_surface() -> None:
    # every name resolves, and each class or function is defined in the package unless declared a re-export here
    assert exports_defined_elsewhere(uvtools) == {}
    public = {name for name in dir(uvtools) if not name.startswith("_") or name == "__version__"}
    modules = {name for name in public if type(getattr(uvtools, name)).__name__ == "module"}
    assert set(uvtools.__all__) == public - modules - {"import_module", "TYPE_CHECKING"}


def test_the_version_is_the_installed_one() -> None:
    declared = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text(encoding="utf-8"))
    assert uvtools.__version__ == version("codegen-lab-uvtools") == declared["project"]["version"]


def test_the_core_and_cli_import_nothing_of_mcp() -> None:
    probe = (
        "import json, sys\n"
        "import codegen_lab.uvtools as u\n"
        "for name in u.__all__: getattr(u, name)\n"
        "import codegen_lab.uvtools.cli\n"
        "print(json.dumps(sorted(n for n in sys.modules if n.split('.')[0] in {'mcp', 'mcp_types', 'pydantic'})))\n"
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(completed.stdout) == []
