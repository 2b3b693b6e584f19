from __future__ import annotations

import json
import os
import sys
import zipfile
from importlib.metadata import EntryPoint, PackageNotFoundError, entry_points, version
from pathlib import Path

import pytest

from codegen_lab.server._plugins import Plugin, plugins, versions


@pytest.mark.parametrize("group", ["codegen_lab.cli", "codegen_lab.toolkits", "console_scripts", "pytest11"])
def test_the_installed_entry_points_are_those_importlib_metadata_finds(group: str) -> None:
    installed = entry_points(group=group)
    expected = {entry.name: (entry.value, entry.dist.name if entry.dist else None) for entry in installed}
    found = {name: (plugin.value, plugin.package) for name, plugin in plugins(group).items()}
    assert found == expected


def test_a_zip_on_the_path_hands_the_lookup_and_the_versions_to_importlib_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "plugins.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("zipped-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: zipped\nVersion: 1.0\n")
        bundle.writestr("zipped-1.0.dist-info/entry_points.txt", "[codegen_lab.test]\nhello = json:dumps\n")
    monkeypatch.syspath_prepend(str(archive))
    found = plugins("codegen_lab.test")
    assert list(found) == ["hello"]
    assert (found["hello"].package, found["hello"].load()) == ("zipped", __import__("json").dumps)
    assert versions("zipped", "click") == {"zipped": "1.0", "click": version("click")}


def test_the_first_distribution_of_a_name_wins_and_comments_are_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for folder, target in (("first", "json:dumps"), ("second", "json:loads")):
        info = tmp_path / folder / "Same.Name-1.0.dist-info"
        info.mkdir(parents=True)
        (info / "PKG-INFO").write_text("Name: Same.Name\n\nbody\n", encoding="utf-8")
        (info / "entry_points.txt").write_text(f"# note\n[codegen_lab.test]\n; note\nx = {target}\n", encoding="utf-8")
    monkeypatch.setattr(sys, "path", [str(tmp_path / "first"), str(tmp_path / "missing"), str(tmp_path / "second")])
    found = plugins("codegen_lab.test")
    assert (found["x"].value, found["x"].package) == ("json:dumps", "Same.Name")


def test_a_module_alone_loads_the_module_and_a_bad_reference_is_refused() -> None:
    assert Plugin("m", "json", None).load() is __import__("json")
    assert Plugin("m", "json", None).package == "an unknown package"
    with pytest.raises(ValueError, match="'no good!' is not an entry point reference"):
        Plugin("m", "no good!", None).load()


@pytest.mark.parametrize(
    ("value", "expected"),
    [("os.path:join", os.path.join), ("os : path.join", os.path.join), ("json:dumps [fast, pretty]", json.dumps)],
)
def test_a_reference_loads_as_entry_point_load_does(value: str, expected: object) -> None:
    assert Plugin("m", value, None).load() is expected
    assert EntryPoint("m", value, "g").load() is expected


@pytest.mark.parametrize("value", ["json:", ":dumps", "json:dumps [fast", "json-x:dumps", "json:dumps()"])
def test_a_malformed_reference_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="is not an entry point reference"):
        Plugin("m", value, None).load()


def test_versions_are_those_importlib_metadata_gives() -> None:
    names = ("codegen-lab-server", "codegen_lab.MCP-core", "mcp", "click", "pydantic-core")
    assert versions(*names) == {name: version(name) for name in names}
    with pytest.raises(PackageNotFoundError):
        versions("click", "no-such-distribution-here")
