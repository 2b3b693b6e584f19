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
