from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from codegen_lab.common.testing import anyio_backend, isolated_state  # noqa: F401 (the shared fixtures)


@pytest.fixture
def install_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Install a small distribution, as an installer lays it out, on sys.path for one test.

    The returned function takes the distribution's name, its modules ({dotted name: source}) and its entry
    points ({group: {name: "module:attribute"}}).
    """
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    added: list[str] = []

    def install(name: str, modules: dict[str, str], entry_points: dict[str, dict[str, str]]) -> Path:
        for module, source in modules.items():
            path = site / Path(*module.split(".")).with_suffix(".py")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(source), encoding="utf-8")
            added.append(module)
        dist_info = site / f"{name.replace('-', '_')}-1.2.3.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(f"Metadata-Version: 2.4\nName: {name}\nVersion: 1.2.3\n", encoding="utf-8")
        lines: list[str] = []
        for group, points in entry_points.items():
            lines.append(f"[{group}]")
            lines.extend(f"{point} = {target}" for point, target in points.items())
        (dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        return dist_info

    yield install
    for module in added:
        sys.modules.pop(module, None)
