"""The graph of workspace members: who depends on whom, a dependency-first order, and its renderings."""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable, Mapping
from typing import Any

from codegen_lab.uvtools._model import Workspace, normalize_name
from codegen_lab.uvtools.errors import CycleError, WorkspaceError

__all__ = ["Graph"]


class Graph:
    """The members of a workspace and their direct dependencies on each other (every kind: project, extra, group).

    Args:
        edges: Each member's name mapped to the names of the members it depends on directly.
        info: Optional per-member JSON fields (`version`, `path`) for the JSON rendering.

    Raises:
        WorkspaceError: When an edge names a member that is not in the graph.
    """

    def __init__(self, edges: Mapping[str, Iterable[str]], info: Mapping[str, Mapping[str, Any]] | None = None):
        self._deps: dict[str, tuple[str, ...]] = {name: tuple(targets) for name, targets in sorted(edges.items())}
        self._rdeps: dict[str, list[str]] = {name: [] for name in self._deps}
        for name, targets in self._deps.items():
            for target in targets:
                if target not in self._rdeps:
                    raise WorkspaceError(f"member {name!r} depends on {target!r}, which is not a member")
                self._rdeps[target].append(name)
        self._info = {name: dict(fields) for name, fields in (info or {}).items()}
        self._order: list[str] | None = None

    @classmethod
    def of(cls, workspace: Workspace) -> Graph:
        """The graph of `workspace`'s members."""
        return cls(
            {member.name: member.internal_dependencies for member in workspace.members},
            {member.name: {"version": member.version, "path": member.relative} for member in workspace.members},
        )

    @property
    def names(self) -> tuple[str, ...]:
        """Every member's name, sorted."""
        return tuple(self._deps)

    def _check(self, name: str) -> str:
        key = normalize_name(name)
        if key not in self._deps:
            raise WorkspaceError(f"no workspace member is called {name!r}", hint=f"Members: {', '.join(self._deps)}")
        return key

    def dependencies(self, name: str, *, transitive: bool = False) -> list[str]:
        """The members `name` depends on: directly, or with `transitive` through any path. Sorted.

        Raises:
            WorkspaceError: When `name` is not a member.
        """
        return self._walk(self._check(name), self._deps, transitive)

    def dependents(self, name: str, *, transitive: bool = False) -> list[str]:
        """The members that depend on `name`: directly, or with `transitive` through any path. Sorted.

        Raises:
            WorkspaceError: When `name` is not a member.
        """
        return self._walk(self._check(name), self._rdeps, transitive)

    def neighbours(self, name: str) -> dict[str, Any]:
        """`{"member", "dependencies", "all_dependencies", "dependents", "all_dependents"}` of member `name`.

        Raises:
            WorkspaceError: When `name` is not a member.
        """
        return {
            "member": self._check(name),
            "dependencies": self.dependencies(name),
            "all_dependencies": self.dependencies(name, transitive=True),
            "dependents": self.dependents(name),
            "all_dependents": self.dependents(name, transitive=True),
        }

    def dependents_of(self, names: Iterable[str]) -> list[str]:
        """`names` and every member that depends on any of them, transitively, sorted."""
        seen: set[str] = set()
        stack = [self._check(name) for name in names]
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(self._rdeps[current])
        return sorted(seen)

    @staticmethod
    def _walk(start: str, adjacency: Mapping[str, Iterable[str]], transitive: bool) -> list[str]:
        if not transitive:
            return sorted(set(adjacency[start]) - {start})
        seen: set[str] = set()
        stack = list(adjacency[start])
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(adjacency[current])
        return sorted(seen - {start})

    def find_cycle(self) -> tuple[str, ...] | None:
        """A cycle among the members, as `("a", "b", "a")`, or None when there is none."""
        remaining = self._kahn()[1]
        if not remaining:
            return None
        current = min(remaining)
        path: list[str] = []
        index: dict[str, int] = {}
        while current not in index:
            index[current] = len(path)
            path.append(current)
            current = min(target for target in self._deps[current] if target in remaining)
        return (*path[index[current] :], current)

    def _kahn(self) -> tuple[list[str], set[str]]:
        waiting = {name: len(set(targets) - {name}) for name, targets in self._deps.items()}
        self_loops = {name for name, targets in self._deps.items() if name in targets}
        ready = [name for name, count in waiting.items() if count == 0 and name not in self_loops]
        heapq.heapify(ready)
        order: list[str] = []
        while ready:
            name = heapq.heappop(ready)
            order.append(name)
            for dependent in set(self._rdeps[name]):
                waiting[dependent] -= 1
                if waiting[dependent] == 0 and dependent not in self_loops:
                    heapq.heappush(ready, dependent)
        return order, set(self._deps) - set(order)

    def order(self) -> list[str]:
        """Every member, each after all its dependencies; ties broken by name.

        Raises:
            CycleError: When members depend on each other in a cycle; it carries the cycle.
        """
        if self._order is None:
            order, remaining = self._kahn()
            if remaining:
                raise CycleError(self.find_cycle() or tuple(sorted(remaining)))
            self._order = order
        return list(self._order)

    def levels(self) -> list[list[str]]:
        """The order in waves: each member in the first wave after all its dependencies' waves.

        Raises:
            CycleError: When members depend on each other in a cycle.
        """
        level: dict[str, int] = {}
        for name in self.order():
            level[name] = 1 + max((level[dep] for dep in self._deps[name] if dep != name), default=-1)
        waves: list[list[str]] = [[] for _ in range(1 + max(level.values(), default=-1))]
        for name in self.order():
            waves[level[name]].append(name)
        return waves

    def as_json(self) -> dict[str, Any]:
        """`{"members": [{"name", "version", "path", "dependencies"}], "order": [...]}`.

        Raises:
            CycleError: When there is no order because of a cycle.
        """
        return {
            "members": [
                {
                    "name": name,
                    "version": self._info.get(name, {}).get("version"),
                    "path": self._info.get(name, {}).get("path"),
                    "dependencies": sorted(set(targets)),
                }
                for name, targets in self._deps.items()
            ],
            "order": self.order(),
        }

    def render(self, output_format: str) -> str:
        """The graph as `text`, `json`, `dot` (Graphviz) or `mermaid`.

        Raises:
            WorkspaceError: When the format is none of these.
            CycleError: For `text` and `json`, which show the order, when there is a cycle.
        """
        if output_format == "json":
            return json.dumps(self.as_json(), indent=2)
        if output_format == "dot":
            lines = ["digraph workspace {", "  rankdir=LR;", "  node [shape=box];"]
            lines += [f'  "{name}";' for name in self._deps]
            lines += [f'  "{name}" -> "{target}";' for name, targets in self._deps.items() for target in targets]
            return "\n".join([*lines, "}"])
        if output_format == "mermaid":
            ids = {name: f"m{index}" for index, name in enumerate(self._deps)}
            lines = ["graph LR"]
            lines += [f'  {ids[name]}["{name}"]' for name in self._deps]
            lines += [f"  {ids[name]} --> {ids[target]}" for name, targets in self._deps.items() for target in targets]
            return "\n".join(lines)
        if output_format == "text":
            lines: list[str] = []
            for name in self.order():
                targets = self.dependencies(name)
                lines.append(f"{name}" + (f" -> {', '.join(targets)}" if targets else ""))
            return "\n".join(lines)
        raise WorkspaceError(f"unknown graph format {output_format!r}", hint="Use text, json, dot or mermaid")
