from __future__ import annotations

import os
from pathlib import Path

import pytest

from codegen_lab.common.files import replace_atomically


def test_a_new_file_and_a_replaced_one_keep_their_permissions(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "rule.mdc"
    replace_atomically(path, b"one")
    assert path.read_bytes() == b"one"
    path.chmod(0o640)
    replace_atomically(path, b"two")
    assert path.read_bytes() == b"two"
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in path.parent.iterdir()] == ["rule.mdc"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "rule.mdc"
    path.write_bytes(b"old")

    def broken(source: str, target: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        replace_atomically(path, b"new")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["rule.mdc"]
