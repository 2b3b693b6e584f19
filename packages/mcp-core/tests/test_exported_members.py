from __future__ import annotations

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
