"""An SVG layout of the member graph: layers by dependency depth, dependencies to the left of their dependents.

No Mermaid (too large to ship): each member is placed in the column one past its deepest dependency (a cycle is
cut where the walk meets it again), ordered in its column by the mean row of its dependencies, and each edge is a
curve from a dependent to the member it needs (arched over the members between when it skips columns), styled
by its kinds' families (project, extra, group).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["layout"]

_NODE_WIDTH = 180
_NODE_HEIGHT = 34
_COLUMN = 250
_ROW = 56
_MARGIN = 20
_LIFT = 30


def layout(
    names: Sequence[str], edges: Iterable[tuple[str, str, Sequence[str]]], versions: Mapping[str, str | None]
) -> dict[str, Any]:
    """Positions of the members `names` and curves of the `edges` (dependent, dependency, kinds), for an SVG."""
    edge_list = [(source, target, tuple(kinds)) for source, target, kinds in edges if source != target]
    needs: dict[str, list[str]] = {name: [] for name in names}
    for source, target, _ in edge_list:
        needs.setdefault(source, []).append(target)
    level: dict[str, int] = {}
    for name in names:
        _depth(name, needs, level, set())
    columns: dict[int, list[str]] = {}
    for name in sorted(names):
        columns.setdefault(level[name], []).append(name)
    row: dict[str, float] = {}
    for column in sorted(columns):
        members = columns[column]
        members.sort(key=lambda name: (_mean(row[dep] for dep in needs[name] if dep in row), name))
        row.update({name: index for index, name in enumerate(members)})
    spans = [level[source] - level[target] for source, target, _ in edge_list]
    top = _MARGIN + _LIFT * max([span - 1 for span in spans if span > 1], default=0)  # room for the arcs
    place = {name: (_MARGIN + level[name] * _COLUMN, top + int(row[name]) * _ROW) for name in names}
    nodes: dict[str, dict[str, Any]] = {
        name: {
            "name": name,
            "version": versions.get(name),
            "x": place[name][0],
            "y": place[name][1],
            "width": _NODE_WIDTH,
            "height": _NODE_HEIGHT,
        }
        for name in names
    }
    curves: list[dict[str, Any]] = []
    for (source, target, kinds), span in zip(edge_list, spans, strict=True):
        (x1, top1), (x2, top2) = place[source], place[target]
        lift = _LIFT * (span - 1) if span > 1 and top1 == top2 else 0  # over the members between, not through them
        x2 += _NODE_WIDTH
        y1, y2 = top1 + _NODE_HEIGHT / 2, top2 + _NODE_HEIGHT / 2
        bend = max(40.0, abs(x1 - x2) / 2)
        families = sorted({kind.partition(":")[0] for kind in kinds})
        curves.append(
            {
                "source": source,
                "target": target,
                "kinds": list(kinds),
                "families": families,
                "path": f"M{x1},{y1} C{x1 - bend},{y1 - lift * 2} {x2 + bend},{y2 - lift * 2} {x2},{y2}",
            }
        )
    width = _MARGIN * 2 + (max(level.values(), default=0) * _COLUMN) + _NODE_WIDTH
    height = top + _MARGIN + max((len(members) for members in columns.values()), default=1) * _ROW
    return {"width": width, "height": height, "nodes": list(nodes.values()), "edges": curves}


def _depth(name: str, needs: Mapping[str, list[str]], level: dict[str, int], walking: set[str]) -> int:
    """The column of `name`: one past its deepest dependency (0 without any); a cycle is cut where it closes."""
    if name in level:
        return level[name]
    if name in walking:
        return -1
    walking.add(name)
    deepest = max((_depth(dep, needs, level, walking) for dep in needs.get(name, ())), default=-1)
    walking.discard(name)
    level[name] = deepest + 1
    return level[name]


def _mean(values: Iterable[float]) -> float:
    found = list(values)
    return sum(found) / len(found) if found else 0.0
