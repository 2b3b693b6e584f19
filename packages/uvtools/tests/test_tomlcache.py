"""The pyproject cache: parsed files reused across runs while unchanged, and never a stale one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from codegen_lab.uvtools import _tomlcache as tomlcache, load_workspace


def workspace(root: Path, h: SimpleNamespace) -> Path:
    h.write(root / "pyproject.toml", '[tool.uv.workspace]\nmembers = ["packages/*"]\n')
    h.write(root / "packages" / "a" / "pyproject.toml", h.project("a", dependencies=("anyio>=4",)))
    h.write(root / "packages" / "b" / "pyproject.toml", h.project("b", workspace_deps=("a",)))
    return root


def cache_file(root: Path) -> Path:
    found = tomlcache.TomlCache(root).file
    assert found is not None
    return found


def test_a_file_edited_just_after_it_was_read_is_read_again(tmp_path: Path, h: SimpleNamespace) -> None:
    root = workspace(tmp_path, h)
    pyproject = root / "packages" / "a" / "pyproject.toml"
    assert load_workspace(root, members_from="pyproject").member("a").version == "0.1.0"
    before = os.stat(pyproject)
    pyproject.write_text(pyproject.read_text().replace('"0.1.0"', '"0.1.1"'), encoding="utf-8")  # same size
    os.utime(pyproject, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same time, as within one tick
    assert load_workspace(root, members_from="pyproject").member("a").version == "0.1.1"
    assert not cache_file(root).exists()  # nothing was old enough to keep


def test_settled_files_are_read_from_the_disk_cache_until_they_change(
    tmp_path: Path, h: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = workspace(tmp_path, h)
    monkeypatch.setattr(tomlcache, "_RACY_NS", -(10**18))  # every file counts as settled: as if written long ago
    first = load_workspace(root, members_from="pyproject")
    stored = json.loads(cache_file(root).read_text())["files"]
    assert set(stored) == {str(root / "pyproject.toml"), *(str(root / "packages" / n / "pyproject.toml") for n in "ab")}

    def nothing(name: str) -> dict[str, object]:  # the root's file too: finding the root reads it from the cache
        raise AssertionError(f"{name} was parsed again")

    tomlcache.clear_memory()  # as a new process
    with monkeypatch.context() as patched:
        patched.setattr(tomlcache, "_parse", nothing)
        again = load_workspace(root, members_from="pyproject")
    assert again.members == first.members

    pyproject = root / "packages" / "b" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"0.1.0"', '"2.0.0"'), encoding="utf-8")
    tomlcache.clear_memory()
    assert load_workspace(root, members_from="pyproject").member("b").version == "2.0.0"
    assert json.loads(cache_file(root).read_text())["files"][str(pyproject)][4]["project"]["version"] == "2.0.0"


def test_a_broken_or_foreign_cache_is_ignored_and_off_means_off(
    tmp_path: Path, h: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = workspace(tmp_path, h)
    monkeypatch.setattr(tomlcache, "_RACY_NS", -(10**18))
    load_workspace(root, members_from="pyproject")
    stored = cache_file(root)
    for text in ("{not json", json.dumps({"format": 1, "root": "/elsewhere", "files": {}}), "[]"):
        stored.write_text(text, encoding="utf-8")
        tomlcache.clear_memory()
        assert load_workspace(root, members_from="pyproject").names == ("a", "b")
    stored.unlink()
    monkeypatch.setenv("CODEGEN_LAB_UVTOOLS_CACHE", "off")
    tomlcache.clear_memory()
    assert load_workspace(root, members_from="pyproject").names == ("a", "b")
    assert not stored.exists()


def test_the_deepest_member_owns_a_file(tmp_path: Path, h: SimpleNamespace) -> None:
    h.write(tmp_path / "pyproject.toml", h.project("top") + '\n[tool.uv.workspace]\nmembers = ["lib", "lib/inner"]\n')
    h.write(tmp_path / "lib" / "pyproject.toml", h.project("lib"))
    h.write(tmp_path / "lib" / "inner" / "pyproject.toml", h.project("inner"))
    found = load_workspace(tmp_path, members_from="pyproject")
    owners = {path: getattr(found.owner_of(path), "name", None) for path in ("lib/inner/x.py", "lib/x.py", "x.py")}
    assert owners == {"lib/inner/x.py": "inner", "lib/x.py": "lib", "x.py": "top"}
    assert getattr(found.owner_of("lib/inner"), "name", None) == "inner"
    assert getattr(found.owner_of("lib/innerx/y.py"), "name", None) == "lib"
    assert found.owner_of("../lib/x.py") is None


GRAPH_PROBE = """
import contextlib, io, json, sys
from codegen_lab.uvtools import _tomlcache
_tomlcache._RACY_NS = -(10**18)  # every file counts as settled, as if written long ago
from codegen_lab.uvtools.cli import cli
with contextlib.redirect_stdout(io.StringIO()) as out:
    cli.main(["graph", "--root", sys.argv[1]], standalone_mode=False)
print(json.dumps({"graph": out.getvalue(), "modules": sorted(sys.modules)}))
"""


def test_a_graph_of_cached_files_parses_no_toml_and_configures_no_logging(
    tmp_path: Path, h: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The start-up of `ws graph` on an unchanged workspace: no TOML parser, no `logging`, no `packaging`."""
    root = workspace(tmp_path / "ws", h)
    monkeypatch.setenv("CODEGEN_LAB_UVTOOLS_CACHE", str(tmp_path / "cache"))

    def run() -> dict[str, Any]:
        completed = subprocess.run(
            [sys.executable, "-c", GRAPH_PROBE, str(root)], capture_output=True, text=True, timeout=60, check=False
        )
        assert completed.returncode == 0, completed.stderr
        return json.loads(completed.stdout)

    first, again = run(), run()
    assert again["graph"] == first["graph"]
    assert "b -> a" in again["graph"]
    assert "tomllib" in first["modules"]  # the first run parsed the files and filled the cache
    assert [name for name in again["modules"] if name.split(".")[0] in {"tomllib", "logging", "packaging"}] == []
