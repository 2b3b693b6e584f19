from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from codegen_lab.common import _journal
from codegen_lab.common.errors import OperationError, UsageError
from codegen_lab.common.files import ChangeSet, default_state_dir, recent_changes, undo_last


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("old app\n", encoding="utf-8")
    (root / "src" / "gone.py").write_text("removed soon\n", encoding="utf-8")
    (root / "src" / "gone.py").chmod(0o640)
    return root


def test_undo_restores_written_removed_and_created_files(project: Path) -> None:
    with ChangeSet(project, "refactor") as change:
        change.write(project / "src/app.py", "new app\n")
        change.write(project / "src/new.py", b"created\n")
        change.remove(project / "src/gone.py")
    assert (project / "src/app.py").read_text(encoding="utf-8") == "new app\n"
    assert not (project / "src/gone.py").exists()
    kept = change.backup_path(project / "src/app.py")
    assert kept is not None
    assert kept.read_bytes() == b"old app\n"
    assert change.backup_path(project / "src/new.py") is None

    [listed] = recent_changes(project)
    assert (listed.id, listed.purpose, listed.complete, listed.undone) == (change.id, "refactor", True, None)
    assert [(f.path, f.action) for f in listed.files] == [
        ("src/app.py", "write"),
        ("src/new.py", "write"),
        ("src/gone.py", "remove"),
    ]

    report = undo_last(project)
    assert report.change.id == change.id
    assert sorted(report.restored) == ["src/app.py", "src/gone.py"]
    assert report.removed == ("src/new.py",)
    assert (project / "src/app.py").read_text(encoding="utf-8") == "old app\n"
    assert (project / "src/gone.py").read_text(encoding="utf-8") == "removed soon\n"
    assert (project / "src/gone.py").stat().st_mode & 0o777 == 0o640
    assert not (project / "src/new.py").exists()
    assert recent_changes(project)[0].undone is not None
    with pytest.raises(UsageError, match="nothing to undo under"):
        undo_last(project)


def test_each_undo_takes_back_the_change_before_the_last(project: Path) -> None:
    for text in ("one\n", "two\n", "three\n"):
        with ChangeSet(project, f"write {text.strip()}") as change:
            change.write(project / "src/app.py", text)
    assert [c.purpose for c in recent_changes(project)] == ["write three", "write two", "write one"]
    undo_last(project)
    assert (project / "src/app.py").read_text(encoding="utf-8") == "two\n"
    undo_last(project)
    assert (project / "src/app.py").read_text(encoding="utf-8") == "one\n"


def test_a_file_written_twice_in_one_change_comes_back_to_its_first_content(project: Path) -> None:
    with ChangeSet(project) as change:
        change.write(project / "src/app.py", "draft\n")
        change.write(project / "src/app.py", "final\n")
    assert undo_last(project).restored == ("src/app.py",)
    assert (project / "src/app.py").read_text(encoding="utf-8") == "old app\n"


def test_a_file_edited_since_stops_the_undo_unless_forced(project: Path) -> None:
    with ChangeSet(project) as change:
        change.write(project / "src/app.py", "generated\n")
        change.write(project / "src/other.py", "generated too\n")
    (project / "src/app.py").write_text("my edit after the change\n", encoding="utf-8")

    with pytest.raises(UsageError, match=r"src/app\.py changed since write") as caught:
        undo_last(project)
    assert caught.value.hint is not None
    assert "force" in caught.value.hint
    assert (project / "src/app.py").read_text(encoding="utf-8") == "my edit after the change\n"
    assert (project / "src/other.py").exists()  # nothing was undone

    report = undo_last(project, force=True)
    assert report.overwritten == ("src/app.py",)
    assert (project / "src/app.py").read_text(encoding="utf-8") == "old app\n"
    assert not (project / "src/other.py").exists()


def test_paths_outside_the_root_are_refused_before_anything_is_written(project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep\n", encoding="utf-8")
    (project / "link.txt").symlink_to(outside)
    with ChangeSet(project) as change:
        for path in (outside, project / "../outside.txt", project / "link.txt", project, project / "src"):
            with pytest.raises(UsageError, match=r"refusing to change|is outside the root"):
                change.write(path, "overwritten\n")
    assert outside.read_text(encoding="utf-8") == "keep\n"
    assert recent_changes(project) == []


def test_a_write_that_failed_is_journaled_and_undo_passes_over_it(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = _journal.replace_atomically

    def failing_on_the_project(path: Path, data: bytes, *, mode: int | None = None, root: Path | None = None) -> None:
        if path.is_relative_to(project) and path.name == "other.py":
            raise OSError(28, "No space left on device")
        real(path, data, mode=mode, root=root)

    with monkeypatch.context() as patched, ChangeSet(project) as change:
        patched.setattr(_journal, "replace_atomically", failing_on_the_project)
        change.write(project / "src/app.py", "new app\n")
        (project / "src/other.py").write_text("other\n", encoding="utf-8")
        with pytest.raises(OperationError, match=r"could not write src/other\.py: No space left on device"):
            change.write(project / "src/other.py", "never written\n")
    report = undo_last(project)
    assert report.restored == ("src/app.py",)
    assert report.unchanged == ("src/other.py",)
    assert (project / "src/other.py").read_text(encoding="utf-8") == "other\n"


def test_snapshots_record_what_another_program_changed(project: Path) -> None:
    with ChangeSet(project, "uv add") as change:
        change.snapshot(project / "src/app.py")
        change.snapshot(project / "src/gone.py")
        change.snapshot(project / "uv.lock")
        (project / "src/app.py").write_text("rewritten by uv\n", encoding="utf-8")
        (project / "uv.lock").write_text("created by uv\n", encoding="utf-8")
    assert [(f.path, f.after is not None) for f in recent_changes(project)[0].files] == [
        ("src/app.py", True),
        ("uv.lock", True),
    ]  # gone.py did not change: dropped
    report = undo_last(project)
    assert (report.restored, report.removed) == (("src/app.py",), ("uv.lock",))
    assert (project / "src/app.py").read_text(encoding="utf-8") == "old app\n"

    with ChangeSet(project, "uv add that failed") as change:
        change.snapshot(project / "src/app.py")
    assert [c.purpose for c in recent_changes(project)] == ["uv add"]
    assert not (default_state_dir() / "backups" / change.id).exists()


def test_backups_survive_edits_made_in_place_afterwards(project: Path) -> None:
    def overwrite_in_place(path: Path, data: bytes) -> None:
        with path.open("r+b") as sink:  # same inode: a hard-linked backup of it would change too
            sink.write(data)
            sink.truncate()

    with ChangeSet(project, "uv lock") as change:
        change.snapshot(project / "src/app.py")
        overwrite_in_place(project / "src/app.py", b"rewritten in place by another program\n")
    assert undo_last(project).restored == ("src/app.py",)
    assert (project / "src/app.py").read_text(encoding="utf-8") == "old app\n"

    with ChangeSet(project) as change:
        change.write(project / "src/app.py", "new\n")
    overwrite_in_place(project / "src/app.py", b"edited in place since\n")
    undo_last(project, force=True)
    assert (project / "src/app.py").read_text(encoding="utf-8") == "old app\n"


def test_rollback_takes_the_change_back_at_once(project: Path) -> None:
    change = ChangeSet(project, "all or nothing")
    change.write(project / "src/app.py", "half done\n")
    report = change.rollback()
    assert report.restored == ("src/app.py",)
    assert (project / "src/app.py").read_text(encoding="utf-8") == "old app\n"
    with pytest.raises(UsageError, match="nothing to undo"):
        undo_last(project)


def test_a_change_still_being_made_is_not_undone_unless_forced(project: Path) -> None:
    change = ChangeSet(project, "long job")
    change.write(project / "src/app.py", "step one\n")
    with pytest.raises(UsageError, match=f"still being made by process {os.getpid()}"):
        undo_last(project)
    assert undo_last(project, force=True).restored == ("src/app.py",)


def test_an_unreadable_newer_entry_is_named_instead_of_undoing_an_older_change(project: Path) -> None:
    with ChangeSet(project) as change:
        change.write(project / "src/app.py", "new\n")
    broken = default_state_dir() / "changes" / "99990101T000000.000000000-1-0.jsonl"
    broken.write_text('{"id": "99990101T000000.000000000-1-0"\n{"file": \n', encoding="utf-8")
    with pytest.raises(OperationError, match="cannot be read") as caught:
        undo_last(project)
    assert str(broken) in str(caught.value)
    broken.unlink()
    assert undo_last(project).restored == ("src/app.py",)


def test_a_record_cut_short_by_a_crash_is_ignored(project: Path) -> None:
    with ChangeSet(project) as change:
        change.write(project / "src/app.py", "new\n")
    entry = default_state_dir() / "changes" / f"{change.id}.jsonl"
    with entry.open("ab") as sink:
        sink.write(b'{"file": {"path": "src/gone.py", "act')  # the kill came in the middle of this append
    [listed] = recent_changes(project)
    assert [item.path for item in listed.files] == ["src/app.py"]
    assert undo_last(project).restored == ("src/app.py",)


def test_a_lost_backup_is_reported_and_no_file_is_touched(project: Path) -> None:
    with ChangeSet(project) as change:
        change.write(project / "src/app.py", "new\n")
        change.write(project / "src/gone.py", "new too\n")
    lost = change.backup_path(project / "src/app.py")
    assert lost is not None
    lost.unlink()
    with pytest.raises(OperationError, match=r"the backup of src/app\.py .* is gone"):
        undo_last(project)
    assert (project / "src/app.py").read_text(encoding="utf-8") == "new\n"
    assert (project / "src/gone.py").read_text(encoding="utf-8") == "new too\n"  # nothing half undone


def test_old_entries_and_their_backups_are_pruned(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_journal, "KEEP", 3)
    ids: list[str] = []
    for number in range(5):
        with ChangeSet(project) as change:
            change.write(project / "src/app.py", f"version {number}\n")
        ids.append(change.id)
    state = default_state_dir()
    assert sorted(p.stem for p in (state / "changes").glob("*.jsonl")) == ids[2:]
    assert sorted(p.name for p in (state / "backups").iterdir()) == ids[2:]


def test_two_processes_writing_at_once_leave_a_journal_that_reads(project: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from codegen_lab.common.files import ChangeSet

        root, name = Path(sys.argv[1]), sys.argv[2]
        for number in range(25):
            with ChangeSet(root, f"{name} {number}") as change:
                change.write(root / f"{name}.txt", f"{name} {number}\\n")
                change.write(root / "shared.txt", f"{name} {number}\\n")
        """
    )
    workers = [subprocess.Popen([sys.executable, "-c", script, str(project), name]) for name in ("left", "right")]
    assert [worker.wait(timeout=60) for worker in workers] == [0, 0]
    entries = recent_changes(project, limit=100)
    assert len(entries) == 50
    assert all(entry.complete and len(entry.files) == 2 for entry in entries)
    assert _journal._read(default_state_dir())[1] == []  # every entry reads
    assert not list(project.glob(".*.tmp"))


def test_a_folder_swapped_for_a_link_after_the_check_does_not_redirect_the_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race of a filesystem server: the path is checked, then a folder on it becomes a link out of the root."""
    root = tmp_path / "project"
    (root / "src").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    checked = ChangeSet._inside  # pyright: ignore[reportPrivateUsage]

    def check_then_swap(self: ChangeSet, path: Path) -> tuple[str, Path]:
        found = checked(self, path)
        (root / "src").rename(root / "src-moved")
        (root / "src").symlink_to(outside, target_is_directory=True)
        return found

    monkeypatch.setattr(ChangeSet, "_inside", check_then_swap)
    with pytest.raises(UsageError), ChangeSet(root, "race", state_dir=tmp_path / "state") as change:
        change.write(root / "src" / "app.py", "print('written')\n")
    assert list(outside.iterdir()) == []
