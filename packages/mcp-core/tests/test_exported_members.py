from __future__ import annotations

from importlib.metadata import version

from codegen_lab import mcp_core
from codegen_lab.common.testing import exports_defined_elsewhere


def test_all_is_exactly_the_public_surface() -> None:
    # every name resolves, and each class or function is defined in the package unless declared a re-export here
    assert exports_defined_elsewhere(mcp_core) == {"Context": "mcp", "ToolAnnotations": "mcp_types"}
    public = {name for name in dir(mcp_core) if not name.startswith("_") or name == "__version__"}
    modules = {name for name in public if type(getattr(mcp_core, name)).__name__ == "module"}
    assert set(mcp_core.__all__) == public - modules - {"import_module", "TYPE_CHECKING"}


def test_the_version_is_the_installed_one() -> None:
    assert mcp_core.__version__ == version("codegen-lab-mcp-core")
