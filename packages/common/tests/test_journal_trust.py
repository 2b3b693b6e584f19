"""Undo never leaves the root: links swapped in, crafted journal entries, odd records; state files are private."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from codegen_lab.common._sqlite import open_store
from codegen_lab.common.errors import OperationError
from codegen_lab.common.files import ChangeSet, recent_changes, undo_last

ENTRY_ID = "20261202T000000.000000000-1-0"


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "gen").mkdir(parents=True)
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "out.py").write_text("generated\n", encoding="utf-8")
    (folder / "victim.txt").write_text("precious\n", encoding="utf-8")
    return folder


def write_entry(state: Path, records: list[Any], entry_id: str = ENTRY_ID) -> Path:
    (state / "changes").mkdir(parents=True, exist_ok=True)
    path = state / "changes" / f"{entry_id}.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def header(root: Path, entry_id: str = ENTRY_ID) -> dict[str, Any]:
    return {"id": entry_id, "root": str(root), "purpose": "crafted", "time": 1.0, "pid": 999999999}


def created(path: str, content: bytes) -> dict[str, Any]:
    digest = hashlib.sha256(content).hexdigest()
    return {"file": {"path": path, "action": "write", "before": None, "after": digest}}


@pytest.mark.parametrize("force", [False, True])
def test_undo_does_not_follow_a_folder_swapped_for_a_link(
    project: Path, outside: Path, state: Path, force: bool
) -> None:
    with ChangeSet(project, "generate", state_dir=state) as change:
        change.write(project / "gen" / "out.py", "generated\n")
    (project / "gen" / "out.py").unlink()
    (project / "gen").rmdir()
    (project / "gen").symlink_to(outside, target_is_directory=True)

    with pytest.raises(OperationError, match=r"'gen' on the way .* is a link"):
        undo_last(project, force=force, state_dir=state)
    assert (outside / "out.py").read_text(encoding="utf-8") == "generated\n"


def test_undo_removes_a_link_itself_never_what_it_points_to(project: Path, outside: Path, state: Path) -> None:
    with ChangeSet(project, "generate", state_dir=state) as change:
        change.write(project / "gen" / "out.py", "generated\n")
    (project / "gen" / "out.py").unlink()
    (project / "gen" / "out.py").symlink_to(outside / "out.py")

    report = undo_last(project, force=True, state_dir=state)
    assert report.removed == ("gen/out.py",)
    assert not (project / "gen" / "out.py").is_symlink()
    assert (outside / "out.py").read_text(encoding="utf-8") == "generated\n"


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param(lambda project, outside: ("", "../outside/victim.txt"), id="dot-dot path"),
        pytest.param(lambda project, outside: ("", str(outside / "victim.txt")), id="absolute path"),
        pytest.param(lambda project, outside: ("/../outside", "victim.txt"), id="root with dot-dot"),
    ],
)
def test_a_journal_entry_that_names_a_file_outside_the_root_is_never_acted_on(
    project: Path, outside: Path, state: Path, entry: Any
) -> None:
    root_suffix, path = entry(project, outside)
    root = Path(f"{project}{root_suffix}")
    write_entry(state, [header(root), created(path, b"precious\n"), {"complete": True}])

    with pytest.raises(OperationError, match="refusing to undo the journal entry"):
        undo_last(project, force=True, state_dir=state)
    assert (outside / "victim.txt").read_text(encoding="utf-8") == "precious\n"


def test_a_backup_name_outside_its_folder_is_refused(project: Path, outside: Path, state: Path) -> None:
    (project / "gen" / "app.py").write_text("mine\n", encoding="utf-8")
    secret = (outside / "victim.txt").read_bytes()
    record = {
        "file": {
            "path": "gen/app.py",
            "action": "write",
            "before": hashlib.sha256(secret).hexdigest(),
            "after": hashlib.sha256(b"mine\n").hexdigest(),
            "backup": "../../../outside/victim.txt",
        }
    }
    write_entry(state, [header(project), record, {"complete": True}])
    with pytest.raises(OperationError, match="is not a plain name"):
        undo_last(project, state_dir=state)
    assert (project / "gen" / "app.py").read_text(encoding="utf-8") == "mine\n"


def test_an_entry_whose_id_is_not_its_file_name_is_unreadable(
    project: Path, state: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_entry(state, [header(project, "../../elsewhere"), {"complete": True}])
    with caplog.at_level(logging.WARNING):
        assert recent_changes(project, state_dir=state) == []
    assert "is not its file's name" in caplog.text


@pytest.mark.parametrize("scalar", ["just text", 42, None, ["file"], True])
def test_a_record_that_is_a_json_scalar_is_skipped_with_a_warning(
    project: Path, state: Path, scalar: object, caplog: pytest.LogCaptureFixture
) -> None:
    (project / "gen" / "new.py").write_text("x\n", encoding="utf-8")
    write_entry(state, [scalar, header(project), scalar, created("gen/new.py", b"x\n"), {"complete": True}])
    with caplog.at_level(logging.WARNING):
        [change] = recent_changes(project, state_dir=state)
    assert [item.path for item in change.files] == ["gen/new.py"]
    assert "line 1 is not a JSON object; skipped" in caplog.text
    assert undo_last(project, state_dir=state).removed == ("gen/new.py",)


def test_a_file_record_of_the_wrong_shape_makes_the_entry_unreadable(project: Path, state: Path) -> None:
    write_entry(state, [header(project), {"file": "gen/x.py"}, {"complete": True}])
    assert recent_changes(project, state_dir=state) == []
    write_entry(state, [header(project), {"file": {"path": 7, "action": "write", "before": None, "after": None}}])
    assert recent_changes(project, state_dir=state) == []


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_state_folders_are_0700_and_state_files_0600(project: Path, state: Path) -> None:
    old = os.umask(0o022)
    try:
        (project / "gen" / "app.py").write_text("old\n", encoding="utf-8")
        with ChangeSet(project, "write", state_dir=state / "deep") as change:
            change.snapshot(project / "gen" / "app.py")
            (project / "gen" / "app.py").write_text("new\n", encoding="utf-8")
        journal = state / "deep"
        assert mode(state) == mode(journal) == 0o700
        assert mode(journal / "changes") == mode(journal / "backups") == mode(journal / "backups" / change.id) == 0o700
        assert mode(journal / "changes" / f"{change.id}.jsonl") == mode(journal / "changes" / ".lock") == 0o600
        assert {mode(path) for path in (journal / "backups" / change.id).iterdir()} == {0o600}

        store = state / "cache" / "store.sqlite3"
        connection = open_store(store, "CREATE TABLE IF NOT EXISTS t (x)")
        connection.execute("INSERT INTO t VALUES (1)")
        assert mode(store.parent) == 0o700
        assert {mode(path) for path in store.parent.iterdir()} == {0o600}  # the -wal and -shm files too
        connection.close()
    finally:
        os.umask(old)


def test_an_existing_changes_folder_is_tightened(project: Path, state: Path) -> None:
    (state / "changes").mkdir(parents=True)
    (state / "changes").chmod(0o755)
    with ChangeSet(project, "write", state_dir=state) as change:
        change.write(project / "gen" / "a.py", "a\n")
    assert mode(state / "changes") == 0o700
    assert mode(state) == 0o755  # a folder the user named is left as it is
