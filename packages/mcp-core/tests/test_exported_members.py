from __future__ import annotations

from codegen_lab import mcp_core


def test_all_is_exactly_the_public_surface() -> None:
    public = {name for name in vars(mcp_core) if not name.startswith("_") or name == "__version__"}
    modules = {name for name in public if type(getattr(mcp_core, name)).__name__ == "module"}
    assert set(mcp_core.__all__) == public - modules


def test_the_version_is_the_installed_one() -> None:
    from importlib.metadata import version

    assert mcp_core.__version__ == version("codegen-lab-mcp-core")
