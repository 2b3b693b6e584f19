"""The graph of workspace members: who depends on whom, a dependency-first order, and its renderings."""

from __future__ import annotations

import heapq
import itertools
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from codegen_lab.uvtools._edges import EdgeSet, edges_by_member, kind_selected, workspace_edges
from codegen_lab.uvtools._model import Workspace, normalize_name
from codegen_lab.uvtools.errors import CycleError, WorkspaceError

if TYPE_CHECKING:
    from codegen_lab.uvtools._tool_results import GraphResult, MembersResult

__all__ = ["Graph", "members_result"]


class Graph:
    """The members of a workspace and their direct dependencies on each other, each edge with its kinds.

    Every kind (project, extra, group) counts for `dependencies`, `dependents` and `dependents_of`; only the
    `order_kinds` (by default `project`: what building and installing needs) count for `order`, `levels` and
    `find_cycle`. A cycle through other kinds (a dev group that needs a member that needs the group's owner) is
    reported by `cycles`, never an error.

    Args:
        edges: Each member's name mapped to the names of the members it depends on directly.
        info: Optional per-member JSON fields (`version`, `path`, `requires_python`) for the JSON rendering.
        kinds: The kinds of each edge `(member, target)`: `project`, `extra:NAME`, `group:NAME` (default
            `project`).
        order_kinds: The kinds the order is computed over: `all`, a family (`project`, `extra`, `group`) or a
            kind (`group:dev`).
        provenance: Where the edges were read (the `EdgeSet` they come from), for the JSON rendering.

    Raises:
        WorkspaceError: When an edge names a member that is not in the graph.
    """

    def __init__(
        self,
        edges: Mapping[str, Iterable[str]],
        info: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        kinds: Mapping[tuple[str, str], Iterable[str]] | None = None,
        order_kinds: Iterable[str] = ("project",),
        provenance: EdgeSet | None = None,
    ):
        self._deps: dict[str, tuple[str, ...]] = {name: tuple(targets) for name, targets in sorted(edges.items())}
        self._rdeps: dict[str, list[str]] = {name: [] for name in self._deps}
        for name, targets in self._deps.items():
            for target in targets:
                if target not in self._rdeps:
                    raise WorkspaceError(f"member {name!r} depends on {target!r}, which is not a member")
                self._rdeps[target].append(name)
        given = kinds or {}
        self._kinds: dict[tuple[str, str], tuple[str, ...]] = {
            (name, target): tuple(sorted(given.get((name, target), ("project",))))
            for name, targets in self._deps.items()
            for target in targets
        }
        self.order_kinds: tuple[str, ...] = tuple(order_kinds)
        self._build: dict[str, tuple[str, ...]] = {
            name: tuple(t for t in targets if any(kind_selected(k, self.order_kinds) for k in self._kinds[(name, t)]))
            for name, targets in self._deps.items()
        }
        self._build_rdeps: dict[str, list[str]] = {name: [] for name in self._deps}
        for name, targets in self._build.items():
            for target in targets:
                self._build_rdeps[target].append(name)
        self._info = {name: dict(fields) for name, fields in (info or {}).items()}
        self._provenance = provenance
        self._order: list[str] | None = None

    @classmethod
    def of(
        cls, workspace: Workspace, *, order_kinds: Iterable[str] = ("project",), edges: EdgeSet | None = None
    ) -> Graph:
        """The graph of `workspace`'s members, its edges from uv.lock when it is fresh (see `workspace_edges`).

        Args:
            workspace: The workspace.
            order_kinds: The edge kinds the order is computed over (default `project`).
            edges: The edges, when already read.
        """
        found = edges if edges is not None else workspace_edges(workspace)
        by_member = edges_by_member(found, workspace.names)
        return cls(
            {name: list(targets) for name, targets in by_member.items()},
            {
                member.name: {
                    "version": member.version,
                    "path": member.relative,
                    "requires_python": member.requires_python,
                }
                for member in workspace.members
            },
            kinds={(name, target): kinds for name, targets in by_member.items() for target, kinds in targets.items()},
            order_kinds=order_kinds,
            provenance=found,
        )

    @property
    def provenance(self) -> EdgeSet | None:
        """Where the edges were read (uv.lock or the pyproject files, and why), None when they were given."""
        return self._provenance

    def kinds(self, name: str, target: str) -> tuple[str, ...]:
        """The kinds of the edge from member `name` to member `target` (empty when there is none)."""
        return self._kinds.get((normalize_name(name), normalize_name(target)), ())

    @property
    def names(self) -> tuple[str, ...]:
        """Every member's name, sorted."""
        return tuple(self._deps)

    def _check(self, name: str) -> str:
        key = normalize_name(name)
        if key not in self._deps:
            raise WorkspaceError(f"no workspace member is called {name!r}", hint=f"Members: {', '.join(self._deps)}")
        return key

    def _adjacency(self, kinds: Iterable[str] | None, reverse: bool) -> Mapping[str, Iterable[str]]:
        if kinds is None:
            return self._rdeps if reverse else self._deps
        chosen = tuple(kinds)
        if chosen == self.order_kinds:
            return self._build_rdeps if reverse else self._build
        forward = {
            name: [t for t in targets if any(kind_selected(k, chosen) for k in self._kinds[(name, t)])]
            for name, targets in self._deps.items()
        }
        if not reverse:
            return forward
        backward: dict[str, list[str]] = {name: [] for name in self._deps}
        for name, targets in forward.items():
            for target in targets:
                backward[target].append(name)
        return backward

    def dependencies(self, name: str, *, transitive: bool = False, kinds: Iterable[str] | None = None) -> list[str]:
        """The members `name` depends on: directly, or with `transitive` through any path. Sorted.

        Args:
            name: A member.
            transitive: Follow the edges through other members.
            kinds: Only edges of these kinds (as `order_kinds`); default every kind.

        Raises:
            WorkspaceError: When `name` is not a member.
        """
        return self._walk(self._check(name), self._adjacency(kinds, False), transitive)

    def dependents(self, name: str, *, transitive: bool = False, kinds: Iterable[str] | None = None) -> list[str]:
        """The members that depend on `name`: directly, or with `transitive` through any path. Sorted.

        Args:
            name: A member.
            transitive: Follow the edges through other members.
            kinds: Only edges of these kinds (as `order_kinds`); default every kind.

        Raises:
            WorkspaceError: When `name` is not a member.
        """
        return self._walk(self._check(name), self._adjacency(kinds, True), transitive)

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
        """`names` and every member that depends on any of them (any kind), transitively, sorted."""
        return self._closure(names, self._rdeps)

    def dependencies_of(self, names: Iterable[str]) -> list[str]:
        """`names` and every member any of them depends on (any kind), transitively, sorted."""
        return self._closure(names, self._deps)

    def _closure(self, names: Iterable[str], adjacency: Mapping[str, Iterable[str]]) -> list[str]:
        seen: set[str] = set()
        stack = [self._check(name) for name in names]
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(adjacency[current])
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
        """A cycle among the members through the `order_kinds`, as `("a", "b", "a")`, or None when there is none."""
        remaining = self._kahn()[1]
        return _cycle_in(self._build, remaining) if remaining else None

    def cycles(self) -> list[dict[str, Any]]:
        """Every cycle through any kind of edge, one per strongly connected group of members.

        Each is `{"cycle": ["a", "b", "a"], "members": [...], "kinds": [...], "blocks_order": bool}`: `kinds`
        are those of the cycle's edges, `blocks_order` whether the cycle runs through the `order_kinds` alone.
        """
        found: list[dict[str, Any]] = []
        for group in _strongly_connected(self._deps):
            inside = set(group)
            cycle = _cycle_in(self._deps, inside) or (*group, group[0])  # a strongly connected group has one
            kinds = sorted({k for a, b in itertools.pairwise(cycle) for k in self._kinds[(a, b)]})
            blocking = bool(
                _strongly_connected({name: [t for t in self._build[name] if t in inside] for name in group})
            )
            found.append({"cycle": list(cycle), "members": sorted(group), "kinds": kinds, "blocks_order": blocking})
        return found

    def _kahn(self) -> tuple[list[str], set[str]]:
        deps = self._build
        waiting = {name: len(set(targets) - {name}) for name, targets in deps.items()}
        self_loops = {name for name, targets in deps.items() if name in targets}
        ready = [name for name, count in waiting.items() if count == 0 and name not in self_loops]
        heapq.heapify(ready)
        order: list[str] = []
        while ready:
            name = heapq.heappop(ready)
            order.append(name)
            for dependent in set(self._build_rdeps[name]):
                waiting[dependent] -= 1
                if waiting[dependent] == 0 and dependent not in self_loops:
                    heapq.heappush(ready, dependent)
        return order, set(deps) - set(order)

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
            level[name] = 1 + max((level[dep] for dep in self._build[name] if dep != name), default=-1)
        waves: list[list[str]] = [[] for _ in range(1 + max(level.values(), default=-1))]
        for name in self.order():
            waves[level[name]].append(name)
        return waves

    def to_result(self) -> GraphResult:
        """The graph as `ws_graph` returns it: `{"members": [...], "order", "order_kinds", "cycles", ...}`.

        Each member is `{"name", "version", "path", "dependencies", "edges": [{"to", "kinds"}]}`; `dependencies`
        holds every kind. `edges_from` says where the edges were read (`Graph.of`), else it is absent;
        `requires_python` is each member's, from `info`.

        Raises:
            CycleError: When there is no order because of a cycle through the `order_kinds`.
        """
        from codegen_lab.uvtools._tool_results import GraphResult  # noqa: PLC0415

        data: dict[str, Any] = {
            "members": [
                {
                    "name": name,
                    "version": self._info.get(name, {}).get("version"),
                    "path": self._info.get(name, {}).get("path"),
                    "dependencies": sorted(set(targets)),
                    "edges": [{"to": t, "kinds": self._kinds[(name, t)]} for t in sorted(set(targets))],
                }
                for name, targets in self._deps.items()
            ],
            "order": self.order(),
            "order_kinds": self.order_kinds,
            "cycles": self.cycles(),
            "requires_python": {name: self._info.get(name, {}).get("requires_python") for name in self._deps},
        }
        if self._provenance is not None:
            data["edges_from"] = self._provenance.to_result()
        return GraphResult.model_validate(data)

    def _label(self, name: str, target: str) -> str:
        kinds = [kind for kind in self._kinds[(name, target)] if kind != "project"]
        return f"{target} ({', '.join(kinds)})" if kinds else target

    def render(self, output_format: str) -> str:
        """The graph as `text`, `json`, `dot` (Graphviz) or `mermaid`.

        Raises:
            WorkspaceError: When the format is none of these.
            CycleError: For `text` and `json`, which show the order, when there is a cycle through the `order_kinds`.
        """
        if output_format == "json":
            from codegen_lab.common.results import to_json  # noqa: PLC0415

            return json.dumps(to_json(self), indent=2)
        if output_format == "dot":
            lines = ["digraph workspace {", "  rankdir=LR;", "  node [shape=box];"]
            lines += [f'  "{name}";' for name in self._deps]
            lines += [
                f'  "{name}" -> "{target}";'
                if self._kinds[(name, target)] == ("project",)
                else f'  "{name}" -> "{target}" [style=dashed, label="{", ".join(self._kinds[(name, target)])}"];'
                for name, targets in self._deps.items()
                for target in targets
            ]
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
                targets = [self._label(name, target) for target in self.dependencies(name)]
                lines.append(f"{name}" + (f" -> {', '.join(targets)}" if targets else ""))
            lines += [
                f"cycle (not in the order: {', '.join(c['kinds'])}): {' -> '.join(c['cycle'])}"
                for c in self.cycles()
                if not c["blocks_order"]
            ]
            return "\n".join(lines)
        raise WorkspaceError(f"unknown graph format {output_format!r}", hint="Use text, json, dot or mermaid")


def members_result(workspace: Workspace, graph: Graph | None = None) -> MembersResult:
    """The members with each one's `dependencies` from its edges (uv.lock when fresh), and `edges_from`.

    What the CLI prints as JSON and the MCP tool returns (`Workspace.to_result()` without a graph at hand).
    """
    from codegen_lab.uvtools._tool_results import MembersResult  # noqa: PLC0415

    found = graph or Graph.of(workspace)
    edges_from = found.provenance if found.provenance is not None else workspace_edges(workspace)
    members = [
        member.to_result().model_copy(update={"dependencies": found.dependencies(member.name)})
        for member in workspace.members
    ]
    return MembersResult(
        root=str(workspace.root),
        discovered_by=workspace.discovered_by,
        members=members,
        edges_from=edges_from.to_result(),
    )


def _cycle_in(adjacency: Mapping[str, Iterable[str]], inside: set[str]) -> tuple[str, ...] | None:
    """A cycle among `inside` (a set in which every member has an edge to another of the set), or None."""
    current = min(inside)
    path: list[str] = []
    index: dict[str, int] = {}
    while current not in index:
        index[current] = len(path)
        path.append(current)
        following = [target for target in adjacency[current] if target in inside]
        if not following:
            return None
        current = min(following)
    return (*path[index[current] :], current)


def _strongly_connected(adjacency: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The groups of two or more members that reach each other (Tarjan's algorithm, iterative), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for start in sorted(adjacency):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(set(adjacency[start]))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(set(adjacency.get(target, ()))))))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return sorted(groups)
