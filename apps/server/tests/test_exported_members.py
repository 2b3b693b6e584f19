from __future__ import annotations

from importlib.metadata import version

from codegen_lab import server


def test_all_is_exactly_the_public_surface() -> None:
    public = {name for name in vars(server) if not name.startswith("_")} | {"__version__"}
    modules = {name for name in public if type(getattr(server, name)).__name__ == "module"}
    assert set(server.__all__) == public - modules


def test_the_version_is_the_installed_one() -> None:
    assert server.__version__ == version("codegen-lab-server")
