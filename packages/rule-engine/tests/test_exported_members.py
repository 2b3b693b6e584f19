from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

from codegen_lab import rule_engine
from codegen_lab.common.testing import exports_defined_elsewhere


def test_all_is_exactly_the_public_surface() -> None:
    # every name resolves, and each class or function is defined in the package unless declared a re-export here
    assert exports_defined_elsewhere(rule_engine) == {"ChangeSet": "codegen_lab.common"}
    public = {name for name in dir(rule_engine) if not name.startswith("_")} | {"__version__"}
    modules = {name for name in public if type(getattr(rule_engine, name)).__name__ == "module"}
    assert set(rule_engine.__all__) == public - modules - {"import_module", "TYPE_CHECKING"}


def test_the_version_is_the_installed_one() -> None:
    assert rule_engine.__version__ == version("codegen-lab-rule-engine")


def test_the_core_imports_nothing_of_mcp() -> None:
    probe = (
        "import sys\n"
        "import codegen_lab.rule_engine as engine, codegen_lab.rule_engine.cli\n"
        "engine.RuleEngine.load('.').explain('x.py')\n"
        "print(sorted(name for name in sys.modules if name == 'mcp' or name.startswith(('mcp.', 'mcp_types'))))\n"
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert completed.stdout.strip() == "[]"
