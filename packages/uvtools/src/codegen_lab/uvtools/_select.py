"""Choosing members as pnpm's `--filter` does: names and globs, `NAME...`, `...NAME`, `./folder`."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from pathlib import Path

from codegen_lab.uvtools._graph import Graph
from codegen_lab.uvtools._model import Workspace, normalize_name
from codegen_lab.uvtools.errors import WorkspaceError

__all__ = ["select_members"]


def _under(workspace: Workspace, folder: str, cwd: Path) -> list[str]:
    """Members whose folder is `folder` or below it (`folder` relative to `cwd`, else to the root)."""
    target = (cwd / folder).resolve()
    if not target.is_relative_to(workspace.root):
        target = (workspace.root / folder).resolve()
    return [member.name for member in workspace.members if member.path.resolve().is_relative_to(target)]


def _matching(workspace: Workspace, pattern: str, cwd: Path) -> list[str]:
    if pattern.startswith(("./", "../")) or pattern in {".", ".."}:
        return _under(workspace, pattern, cwd)
    if pattern.startswith("{") and pattern.endswith("}"):  # pnpm's `{./folder}`
        return _under(workspace, pattern[1:-1], cwd)
    wanted = normalize_name(pattern) if not any(char in pattern for char in "*?[") else pattern.lower()
    return [name for name in workspace.names if fnmatch.fnmatchcase(name, wanted)]


def select_members(
    workspace: Workspace, filters: Iterable[str], *, graph: Graph | None = None, cwd: Path | None = None
) -> list[str] | None:
    """The members `filters` choose, sorted; None when there are no filters (every member).

    Each filter is a name or a glob (`codegen-lab-*`), `./folder` or `{./folder}` (the members in that folder or
    below it), and may end in `...` (with every member that depends on them, through any kind of edge) or start
    with `...` (with every member they depend on). The union of all filters is chosen.

    Raises:
        WorkspaceError: When a filter chooses no member (the message lists the members).
    """
    chosen: set[str] = set()
    found_graph = graph
    given = list(filters)
    for text in given:
        pattern = text.strip()
        with_dependents = pattern.endswith("...") and len(pattern) > 3
        pattern = pattern.removesuffix("...") if with_dependents else pattern
        with_dependencies = pattern.startswith("...") and len(pattern) > 3
        pattern = pattern.removeprefix("...") if with_dependencies else pattern
        matched = _matching(workspace, pattern, cwd or Path.cwd())
        if not matched:
            plain = pattern == text and not any(char in text for char in "*?[{/.")
            raise WorkspaceError(
                f"no workspace member is called {text!r}" if plain else f"--member {text!r} chooses no member",
                hint=f"Members: {', '.join(workspace.names) or '(none)'}; filters: NAME, GLOB, NAME..., ...NAME, "
                "./folder",
            )
        chosen.update(matched)
        if with_dependents or with_dependencies:
            found_graph = found_graph or Graph.of(workspace)
            if with_dependents:
                chosen.update(found_graph.dependents_of(matched))
            if with_dependencies:
                chosen.update(found_graph.dependencies_of(matched))
    return sorted(chosen) if given else None
