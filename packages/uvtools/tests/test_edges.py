"""Edges from uv's resolution: real workspaces locked by the real uv, checked against uv.lock and uv's answers."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from codegen_lab.uvtools import CycleError, Graph, load_workspace, parse_lock, release_plan, run_many
from codegen_lab.uvtools._edges import Edge, workspace_edges
from codegen_lab.uvtools.cli import cli


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def lock_edges(root: Path) -> set[Edge]:
    """The member edges uv.lock holds, read with tomllib: what uv resolved."""
    document = tomllib.loads((root / "uv.lock").read_text(encoding="utf-8"))
    members = set(document["manifest"]["members"])
    found: set[Edge] = set()
    for package in document["package"]:
        if package["name"] not in members:
            continue
        tables = [("project", package.get("dependencies", []))]
        tables += [(f"extra:{k}", v) for k, v in package.get("optional-dependencies", {}).items()]
        tables += [(f"group:{k}", v) for k, v in package.get("dev-dependencies", {}).items()]
        found |= {
            Edge(package["name"], item["name"], kind)
            for kind, items in tables
            for item in items
            if item["name"] in members and item["name"] != package["name"]
        }
    return found


def uv_members(h: SimpleNamespace, root: Path) -> list[str]:
    return sorted(h.uv(root, "workspace", "list").stdout.split())


@pytest.fixture
def dynamic(tmp_path: Path, h: SimpleNamespace) -> Path:
    """`a`; `dyn`, whose dependencies (`a`) a build backend fills in; `top`, which needs `dyn`. Locked by uv."""
    root = tmp_path / "dynamic"
    h.write(root / "pyproject.toml", '[tool.uv.workspace]\nmembers = ["packages/*"]\n')
    h.write(root / "packages" / "a" / "pyproject.toml", h.project("a"))
    h.dynamic(root / "packages" / "dyn", "a")
    h.write(root / "packages" / "top" / "pyproject.toml", h.project("top", workspace_deps=("dyn",)))
    for name in ("a", "top"):
        h.module(root, name, name)
    h.uv(root, "lock")
    return root


def test_a_dynamic_members_edges_come_from_the_fresh_lock(dynamic: Path, h: SimpleNamespace) -> None:
    workspace = load_workspace(dynamic)
    assert list(workspace.names) == uv_members(h, dynamic) == ["a", "dyn", "top"]
    edges = workspace_edges(workspace)
    assert edges.origin == "uv.lock"
    assert edges.lock.state == "fresh"
    assert edges.lock.unchecked == ("dyn",)
    assert set(edges.edges) == lock_edges(dynamic) == {Edge("dyn", "a", "project"), Edge("top", "dyn", "project")}
    assert Graph.of(workspace).order() == ["a", "dyn", "top"]
    tree = h.uv(dynamic, "tree", "--frozen", "--package", "top").stdout
    assert "dyn v0.1.0" in tree
    assert "a v0.1.0" in tree


def test_a_stale_lock_is_said_and_the_dynamic_members_edges_are_unknown(dynamic: Path, h: SimpleNamespace) -> None:
    h.write(dynamic / "packages" / "late" / "pyproject.toml", h.project("late", workspace_deps=("a",)))
    workspace = load_workspace(dynamic)
    assert "late" in uv_members(h, dynamic)
    edges = workspace_edges(workspace)
    assert edges.origin == "pyproject"
    assert edges.lock.state == "stale"
    assert edges.lock.reasons == ("member late is not in uv.lock",)
    assert edges.unknown == ("dyn",)
    assert "dyn (dynamic dependencies) are unknown" in edges.reason
    assert set(edges.edges) == {Edge("late", "a", "project"), Edge("top", "dyn", "project")}
    code, output, errors = invoke("graph", "--root", str(dynamic))
    assert code == 0
    assert "late -> a" in output
    assert "uv.lock is stale: member late is not in uv.lock" in errors


def test_a_changed_requirement_makes_the_lock_stale(chain: Path, h: SimpleNamespace) -> None:
    h.write(chain / "packages" / "d" / "pyproject.toml", h.project("d", workspace_deps=("a",)))
    edges = workspace_edges(load_workspace(chain))
    assert edges.origin == "pyproject"
    assert edges.lock.reasons == (
        "d declares a (project), uv.lock does not",
        "uv.lock records idna (project) for d, no longer declared",
    )
    assert Edge("d", "a", "project") in edges.edges


def test_edges_without_a_lock_come_from_the_pyproject_files(chain: Path) -> None:
    (chain / "uv.lock").unlink()
    edges = workspace_edges(load_workspace(chain))
    assert (edges.origin, edges.lock.state) == ("pyproject", "missing")
    assert set(edges.edges) == {Edge("b", "a", "project"), Edge("c", "b", "project")}


def test_a_cycle_through_a_dev_group_is_reported_not_fatal(dev_cycle: Path, h: SimpleNamespace) -> None:
    workspace = load_workspace(dev_cycle)
    assert list(workspace.names) == uv_members(h, dev_cycle)
    edges = workspace_edges(workspace)
    assert edges.origin == "uv.lock"
    assert (
        set(edges.edges)
        == lock_edges(dev_cycle)
        == {
            Edge("app", "stories", "group:dev"),
            Edge("stories", "app", "project"),
        }
    )
    graph = Graph.of(workspace)
    assert graph.order() == ["app", "stories"]
    assert graph.find_cycle() is None
    assert graph.cycles() == [
        {
            "cycle": ["app", "stories", "app"],
            "members": ["app", "stories"],
            "kinds": ["group:dev", "project"],
            "blocks_order": False,
        }
    ]
    code, output, _ = invoke("graph", "--root", str(dev_cycle))
    assert code == 0
    assert output.splitlines() == [
        "app -> stories (group:dev)",
        "stories -> app",
        "cycle (not in the order: group:dev, project): app -> stories -> app",
    ]
    code, output, _ = invoke("graph", "--root", str(dev_cycle), "--format", "json")
    assert code == 0
    assert json.loads(output)["cycles"][0]["blocks_order"] is False
    code, output, _ = invoke("graph", "--root", str(dev_cycle), "--format", "dot")
    assert '"app" -> "stories" [style=dashed, label="group:dev"];' in output
    summary = run_many(workspace, ["true"])
    assert summary.order == ["app", "stories"]
    assert summary.ok


def test_ordering_over_every_kind_names_the_cycle(dev_cycle: Path) -> None:
    graph = Graph.of(load_workspace(dev_cycle), order_kinds=("all",))
    with pytest.raises(CycleError, match="app -> stories -> app"):
        graph.order()
    code, _, errors = invoke("graph", "--root", str(dev_cycle), "--edges", "all")
    assert code != 0
    assert "app -> stories -> app" in errors
    assert invoke("graph", "--root", str(dev_cycle), "--edges", "project", "--edges", "extra")[0] == 0


def test_a_cycle_through_an_extra_is_reported_not_fatal(tmp_path: Path, h: SimpleNamespace) -> None:
    h.write(tmp_path / "pyproject.toml", '[tool.uv.workspace]\nmembers = ["p/*"]\n')
    h.write(
        tmp_path / "p" / "x" / "pyproject.toml",
        h.project("x", extra='[project.optional-dependencies]\nfull = ["y"]\n')
        + "\n[tool.uv.sources]\ny = { workspace = true }\n",
    )
    h.write(tmp_path / "p" / "y" / "pyproject.toml", h.project("y", workspace_deps=("x",)))
    for name in "xy":
        h.write(tmp_path / "p" / name / "src" / name / "__init__.py", "")
    h.uv(tmp_path, "lock")
    workspace = load_workspace(tmp_path)
    edges = workspace_edges(workspace)
    assert edges.origin == "uv.lock"
    assert set(edges.edges) == lock_edges(tmp_path) == {Edge("x", "y", "extra:full"), Edge("y", "x", "project")}
    graph = Graph.of(workspace)
    assert graph.order() == ["x", "y"]
    assert graph.cycles()[0]["kinds"] == ["extra:full", "project"]
    assert graph.dependents_of(["y"]) == ["x", "y"]  # every kind counts for who is affected


def test_the_fast_lock_reader_reads_conflicts_and_metadata() -> None:
    text = """
version = 1
revision = 3
requires-python = ">=3.12"
conflicts = [[
    { package = "p", group = "dev" },
    { package = "p", extra = "x" },
], [
    { package = "p", extra = "x" },
]]

[options]
exclude-newer = "2025-01-01T00:00:00Z"

[options.exclude-newer-package]
idna = "2025-01-01T00:00:00Z"

[manifest]
members = ["p"]

[[package]]
name = "p"
version = "0.1.0"
source = { editable = "." }

[package.metadata]
requires-dist = [{ name = "idna", marker = "extra == 'x'", specifier = ">=3" }]
provides-extras = ["x"]

[package.metadata.requires-dev]
dev = [{ name = "anyio", specifier = ">=4" }]
""".lstrip()
    from codegen_lab.uvtools._lock import _fast_parse

    assert _fast_parse(text)["conflicts"][1] == [{"package": "p", "extra": "x"}]
    (package,) = parse_lock(text).packages
    assert [(d.name, d.marker) for d in package.requires_dist] == [("idna", "extra == 'x'")]
    assert [d.name for d in package.requires_dev["dev"]] == ["anyio"]


def test_members_and_the_release_plan_see_what_the_lock_knows(dynamic: Path) -> None:
    outcome = CliRunner().invoke(cli, ["members", "--root", str(dynamic), "--format", "json"])
    data = json.loads(outcome.stdout)
    assert {m["name"]: m["dependencies"] for m in data["members"]} == {"a": [], "dyn": ["a"], "top": ["dyn"]}
    assert data["edges_from"]["from"] == "uv.lock"
    pyproject = dynamic / "packages" / "a" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "0.1.0"', 'dynamic = ["version"]'), encoding="utf-8")
    plan = release_plan(load_workspace(dynamic), offline=True)
    assert [(step.member, step.status) for step in plan.steps] == [
        ("a", "unchecked"),
        ("dyn", "unchecked"),
        ("top", "unchecked"),
    ]
    assert plan.steps[0].reason == "the version is dynamic (set when it is built): the index was not compared"


def test_legacy_dev_dependencies_count_as_the_dev_group(tmp_path: Path, h: SimpleNamespace) -> None:
    h.write(tmp_path / "pyproject.toml", '[tool.uv.workspace]\nmembers = ["p/*"]\n')
    h.write(tmp_path / "p" / "a" / "pyproject.toml", h.project("a"))
    h.write(
        tmp_path / "p" / "b" / "pyproject.toml",
        h.project("b", extra='[tool.uv]\ndev-dependencies = ["a", "anyio>=4"]\n')
        + "\n[tool.uv.sources]\na = { workspace = true }\n",
    )
    for name in "ab":
        h.write(tmp_path / "p" / name / "src" / name / "__init__.py", "")
    h.uv(tmp_path, "lock")
    edges = workspace_edges(load_workspace(tmp_path))
    assert (edges.origin, edges.lock.reasons) == ("uv.lock", ())
    assert set(edges.edges) == lock_edges(tmp_path) == {Edge("b", "a", "group:dev")}
