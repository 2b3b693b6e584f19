"""CONTRIBUTING.md speaks of this repository only: every path it names is a relative one that stays inside it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_PATH = re.compile(r"(?:^|[\s\"'`(=])((?:~|/|\.\.?/|[\w.-]+/)[\w./<>{},*-]*)")


def paths_outside(text: str, root: Path) -> list[str]:
    """The paths in `text` that are absolute, start at a home folder, or climb out of `root`."""
    found: list[str] = []
    for span in re.findall(r"`([^`]+)`", text) + re.findall(r"\]\(([^)]+)\)", text):
        for path in _PATH.findall(span):
            if "://" in span or path == "/":  # a URL, or `/` as the separator it names
                continue
            if path.startswith(("~", "/")):
                found.append(path)
                continue
            base = root / "packages" / "member" if path.startswith("../../") else root  # a member's own file
            if not (base / path).resolve().is_relative_to(root.resolve()):
                found.append(path)
    return found


def test_contributing_names_no_path_outside_the_repository() -> None:
    assert paths_outside((ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8"), ROOT) == []


def test_the_check_finds_absolute_home_and_climbing_paths(tmp_path: Path) -> None:
    text = "Run `/work/shared/STYLE.md`, see `~/notes.md` and [x](../../../elsewhere/a.md); `packages/a/b.py` is ours."
    assert paths_outside(text, tmp_path) == ["/work/shared/STYLE.md", "~/notes.md", "../../../elsewhere/a.md"]
