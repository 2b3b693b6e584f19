from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from codegen_lab.rule_engine import RuleIndex

MakeRepo = Callable[[dict[str, str]], Path]

REPO = {"AGENTS.md": "agents\n", ".cursor/rules/py.mdc": "---\nglobs: **/*.py\n---\npy\n", "src/a.py": ""}


def _touch_later(path: Path) -> None:
    """Move the mtime on, as a later edit would (file systems with a coarse clock may not have moved it yet)."""
    status = path.stat()
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000_000))


def test_an_unchanged_tree_is_not_loaded_again(make_repo: MakeRepo) -> None:
    index = RuleIndex()
    root = make_repo(REPO)
    first = index.engine(root)
    assert index.engine(root) is first
    assert index.engine(str(root / "src" / "..")) is first
    assert index.loads == 1


@pytest.mark.parametrize(
    "change",
    ["edit a rule", "add a rule in a new folder", "remove a rule", "ignore a folder", "add a file"],
)
def test_a_change_reloads(make_repo: MakeRepo, change: str) -> None:
    index = RuleIndex(rescan_interval=0)
    root = make_repo(REPO)
    before = index.engine(root)
    if change == "edit a rule":
        (root / "AGENTS.md").write_text("agents, edited at length\n", encoding="utf-8")
        _touch_later(root / "AGENTS.md")
    elif change == "add a rule in a new folder":
        (root / "src/deep").mkdir()
        _touch_later(root / "src")
        (root / "src/deep/AGENTS.md").write_text("deep\n", encoding="utf-8")
    elif change == "remove a rule":
        (root / ".cursor/rules/py.mdc").unlink()
        _touch_later(root / ".cursor/rules")
    elif change == "ignore a folder":
        (root / ".gitignore").write_text("src/\n", encoding="utf-8")
        _touch_later(root)
    else:
        (root / "src/b.py").write_text("", encoding="utf-8")
        _touch_later(root / "src")
    after = index.engine(root)
    assert after is not before
    assert index.loads == 2
    expected = {
        "edit a rule": 2,
        "add a rule in a new folder": 3,
        "remove a rule": 1,
        "ignore a folder": 2,
        "add a file": 2,
    }[change]
    assert len(after.rules) == expected


def test_forget_drops_the_engine(make_repo: MakeRepo) -> None:
    index = RuleIndex()
    root = make_repo(REPO)
    index.engine(root)
    index.forget(root)
    index.engine(root)
    index.forget()
    index.engine(root)
    assert index.loads == 3


def test_an_edited_rule_is_seen_at_once_a_new_file_at_the_next_folder_sweep(make_repo: MakeRepo) -> None:
    index = RuleIndex(rescan_interval=3600)
    root = make_repo(REPO)
    first = index.engine(root)
    (root / "src/AGENTS.md").write_text("new\n", encoding="utf-8")
    _touch_later(root / "src")
    assert index.engine(root) is first  # folders are swept once an hour here
    (root / "AGENTS.md").write_text("edited\n", encoding="utf-8")
    _touch_later(root / "AGENTS.md")
    assert [rule.relpath for rule in index.engine(root).rules] == [".cursor/rules/py.mdc", "AGENTS.md", "src/AGENTS.md"]


def test_a_watched_tree_learns_of_new_files_from_events_without_a_sweep(make_repo: MakeRepo) -> None:
    index = RuleIndex(rescan_interval=10_000, watch=True)  # the sweep never runs: only events can tell
    root = make_repo(REPO)
    try:
        first = index.engine(root)
        assert index.watching(root)
        (root / "src" / "b.py").write_text("x = 1\n", encoding="utf-8")  # a new file is a relevant change
        assert index.wait_for_events(1, timeout=60)
        assert index.engine(root) is not first
        second = index.engine(root)
        (root / "src" / "b.py").write_text("x = 2\n", encoding="utf-8")  # an edit of a source file is not
        (root / ".cursor" / "rules" / "new.mdc").write_text("---\nalwaysApply: true\n---\nnew\n", encoding="utf-8")
        assert index.wait_for_events(2, timeout=60)
        third = index.engine(root)
        assert third is not second
        assert ".cursor/rules/new.mdc" in [rule.relpath for rule in third.rules]
        assert index.loads == 3
    finally:
        index.close()


def test_where_watching_fails_the_sweep_takes_over(make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    from codegen_lab.rule_engine import _watch

    def refuse(root: Path) -> None:
        raise OSError("inotify watch limit reached")

    monkeypatch.setattr(_watch.TreeWatcher, "__init__", refuse)
    index = RuleIndex(rescan_interval=0, watch=True)
    root = make_repo(REPO)
    first = index.engine(root)
    assert not index.watching(root)
    (root / ".cursor" / "rules" / "new.mdc").write_text("---\nalwaysApply: true\n---\nnew\n", encoding="utf-8")
    _touch_later(root / ".cursor" / "rules")
    assert index.engine(root) is not first


def test_only_changes_that_matter_to_rules_count(tmp_path: Path) -> None:
    from codegen_lab.rule_engine._watch import relevant

    root = tmp_path
    modified, added = 2, 1
    assert relevant(root, modified, str(root / "src/app.py")) is None
    assert relevant(root, added, str(root / "src/app.py")) == "src/app.py"
    assert relevant(root, modified, str(root / ".cursor/rules/a.mdc")) == ".cursor/rules/a.mdc"
    assert relevant(root, modified, str(root / "sub/.gitignore")) == "sub/.gitignore"
    assert relevant(root, added, str(root / "node_modules/x/AGENTS.md")) is None
    assert relevant(root, modified, str(root / ".git/info/exclude")) == ".git/info/exclude"
    assert relevant(root, added, str(root / ".git/objects/ab")) is None
    assert relevant(root, added, "/elsewhere/x.md") is None


def test_a_tree_watcher_times_out_reports_changes_and_stops_when_closed(tmp_path: Path) -> None:
    import threading

    from codegen_lab.rule_engine._watch import TreeWatcher

    watcher = TreeWatcher(tmp_path)
    assert watcher.changes(timeout_ms=300) is None  # nothing happened: the wait ends at its own timeout
    (tmp_path / "AGENTS.md").write_text("new\n", encoding="utf-8")  # made after the watcher: never missed
    batches: list[list[str] | None] = []
    while not batches or batches[-1] == []:
        batches.append(watcher.changes(timeout_ms=60_000))
    assert batches[-1] == ["AGENTS.md"]
    ended = threading.Event()

    def wait() -> None:
        watcher.changes()  # waits for ever, until closed
        ended.set()

    thread = threading.Thread(target=wait)
    thread.start()
    watcher.close()
    assert ended.wait(30)
    thread.join(30)
    assert watcher.changes() is None
