from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

from codegen_lab import rule_engine


def test_all_is_exactly_the_public_surface() -> None:
    for name in rule_engine.__all__:
        assert getattr(rule_engine, name) is not None, name
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
