from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

from codegen_lab import llm
from codegen_lab.common.testing import exports_defined_elsewhere


def test_all_is_exactly_the_public_surface() -> None:
    # every name resolves, and each class or function is defined in the package unless declared a re-export here
    assert exports_defined_elsewhere(llm) == {"default_cache_dir": "codegen_lab.common"}
    public = {name for name in dir(llm) if not name.startswith("_") or name == "__version__"}
    modules = {name for name in public if type(getattr(llm, name)).__name__ == "module"}
    assert set(llm.__all__) == public - modules - {"import_module", "TYPE_CHECKING"}


def test_the_version_is_the_installed_one() -> None:
    assert llm.__version__ == version("codegen-lab-llm")


def test_the_service_imports_no_mcp_code_and_no_sdk_until_asked() -> None:
    probe = (
        "import sys\n"
        "from codegen_lab.llm import LLMService, CompletionRequest, Message\n"
        "LLMService()\n"
        "print(sorted({name.split('.')[0] for name in sys.modules} & {'mcp', 'mcp_types', 'uvicorn', 'anthropic'}))\n"
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert completed.stdout.strip() == "[]"
