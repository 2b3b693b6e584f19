from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version

from codegen_lab import testgen
from codegen_lab.common.testing import exports_defined_elsewhere


def test_all_is_exactly_the_public_surface() -> None:
    # every name resolves, and each class or function is defined in the package unless declared a re-export here
    assert exports_defined_elsewhere(testgen) == {}
    public = {name for name in dir(testgen) if not name.startswith("_") or name == "__version__"}
    modules = {name for name in public if type(getattr(testgen, name)).__name__ == "module"}
    assert set(testgen.__all__) == public - modules - {"import_module", "TYPE_CHECKING"}


def test_the_version_is_the_installed_one() -> None:
    assert testgen.__version__ == version("codegen-lab-testgen")


def test_the_core_imports_no_mcp_no_llm_sdk_and_no_heavy_dependency() -> None:
    probe = (
        "import json, sys\n"
        "from codegen_lab.testgen import generate, run_tests, measure_coverage\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    loaded = {name.split(".")[0] for name in json.loads(completed.stdout)}
    assert not loaded & {"mcp", "mcp_types", "anthropic", "openai", "hypothesis", "coverage", "pytest", "rich"}
