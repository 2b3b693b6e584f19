from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, strategies as st

from codegen_lab.uvtools import CycleError, Graph, WorkspaceError, load_workspace


def test_order_is_dependency_first(chain: Path) -> None:
    graph = Graph.of(load_workspace(chain))
    assert graph.order() == ["a", "b", "c", "d"]
    assert graph.levels() == [["a", "d"], ["b"], ["c"]]
    assert graph.dependencies("c") == ["b"]
    assert graph.dependencies("c", transitive=True) == ["a", "b"]
    assert graph.dependents("a") == ["b"]
    assert graph.dependents("a", transitive=True) == ["b", "c"]
    assert graph.dependents_of(["a", "d"]) == ["a", "b", "c", "d"]


def test_json_is_the_contract(chain: Path) -> None:
    data = json.loads(Graph.of(load_workspace(chain)).render("json"))
    assert set(data) == {"members", "order", "order_kinds", "cycles", "edges_from", "requires_python"}
    assert data["members"][1] == {
        "name": "b",
        "version": "0.1.0",
        "path": "packages/b",
        "dependencies": ["a"],
        "edges": [{"to": "a", "kinds": ["project"]}],
    }
    assert all(set(member) == {"name", "version", "path", "dependencies", "edges"} for member in data["members"])
    assert data["order_kinds"] == ["project"]
    assert data["edges_from"] == {
        "from": "uv.lock",
        "reason": "uv.lock is fresh",
        "unknown": [],
        "lock": {"state": "fresh", "reasons": [], "unchecked": []},
    }
    assert data["order"] == ["a", "b", "c", "d"]
    assert data["requires_python"] == dict.fromkeys(["a", "b", "c", "d"], ">=3.12")  # as ws_graph returns it


def test_dot_and_mermaid_hold_every_edge(chain: Path) -> None:
    graph = Graph.of(load_workspace(chain))
    dot = graph.render("dot")
    assert dot.startswith("digraph workspace {")
    assert dot.endswith("}")
    assert '"c" -> "b";' in dot
    assert '"b" -> "a";' in dot
    assert '"d";' in dot
    mermaid = graph.render("mermaid").splitlines()
    assert mermaid[0] == "graph LR"
    assert '  m1["b"]' in mermaid
    assert "  m1 --> m0" in mermaid
    assert "  m2 --> m1" in mermaid
    assert graph.render("text").splitlines() == ["a", "b -> a", "c -> b", "d"]
    with pytest.raises(WorkspaceError, match="unknown graph format 'svg'"):
        graph.render("svg")


def test_a_cycle_between_real_members_is_reported_with_the_cycle(tmp_path: Path, h: SimpleNamespace) -> None:
    h.write(tmp_path / "pyproject.toml", '[tool.uv.workspace]\nmembers = ["p/*"]\n')
    h.write(tmp_path / "p" / "x" / "pyproject.toml", h.project("x", workspace_deps=("y",)))
    h.write(tmp_path / "p" / "y" / "pyproject.toml", h.project("y", workspace_deps=("z",)))
    h.write(tmp_path / "p" / "z" / "pyproject.toml", h.project("z", workspace_deps=("x",)))
    h.write(tmp_path / "p" / "free" / "pyproject.toml", h.project("free"))
    graph = Graph.of(load_workspace(tmp_path))
    assert graph.find_cycle() == ("x", "y", "z", "x")
    with pytest.raises(CycleError, match="x -> y -> z -> x") as caught:
        graph.order()
    assert caught.value.cycle == ("x", "y", "z", "x")
    with pytest.raises(CycleError):
        graph.render("json")
    assert '"z" -> "x";' in graph.render("dot")  # a drawing still works


def test_a_member_depending_on_itself_is_a_cycle() -> None:
    assert Graph({"a": ["a"], "b": []}).find_cycle() == ("a", "a")
    assert Graph({"a": [], "b": ["a"]}).find_cycle() is None


def test_an_edge_to_a_stranger_is_refused() -> None:
    with pytest.raises(WorkspaceError, match="'a' depends on 'zz', which is not a member"):
        Graph({"a": ["zz"]})


@st.composite
def dags(draw: st.DrawFn) -> dict[str, list[str]]:
    size = draw(st.integers(min_value=0, max_value=25))
    names = [f"m{index:02d}" for index in range(size)]
    shuffled = draw(st.permutations(names))
    edges: dict[str, list[str]] = {}
    for position, name in enumerate(shuffled):
        earlier = shuffled[:position]
        edges[name] = draw(st.lists(st.sampled_from(earlier), unique=True)) if earlier else []
    return edges


@given(dags())
def test_every_member_comes_after_its_dependencies(edges: dict[str, list[str]]) -> None:
    graph = Graph(edges)
    order = graph.order()
    assert sorted(order) == sorted(edges)
    position = {name: index for index, name in enumerate(order)}
    assert all(position[dep] < position[name] for name, deps in edges.items() for dep in deps)
    waves = graph.levels()
    assert [name for wave in waves for name in wave] == order or sorted(n for w in waves for n in w) == sorted(order)
    wave_of = {name: index for index, wave in enumerate(waves) for name in wave}
    assert all(wave_of[dep] < wave_of[name] for name, deps in edges.items() for dep in deps)


@given(dags(), st.data())
def test_an_added_back_edge_makes_a_reported_cycle(edges: dict[str, list[str]], data: st.DataObject) -> None:
    candidates = [(name, dep) for name, deps in edges.items() for dep in deps]
    if not candidates:
        return
    name, dep = data.draw(st.sampled_from(candidates))
    cyclic = {**edges, dep: [*edges[dep], name]}
    cycle = Graph(cyclic).find_cycle()
    assert cycle is not None
    assert cycle[0] == cycle[-1]
    assert all(cycle[index + 1] in cyclic[cycle[index]] for index in range(len(cycle) - 1))
