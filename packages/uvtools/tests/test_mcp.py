from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from mcp import Client
from mcp_types import CallToolResult, TextContent

from codegen_lab.common import Settings
from codegen_lab.mcp_core import ServerContext, build_server
from codegen_lab.uvtools.cli import cli
from codegen_lab.uvtools.mcp import create_toolkit

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def server(root: Path):
    settings = Settings(root=root)
    return build_server(settings, [create_toolkit(ServerContext(settings))])


def structured(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


def text_of(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


async def test_the_tools_are_prefixed_ws(chain: Path) -> None:
    async with Client(server(chain)) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
    assert names >= {
        "ws_members",
        "ws_graph",
        "ws_lock_check",
        "ws_affected",
        "ws_why",
        "ws_lock_diff",
        "ws_deps_check",
        "ws_lint",
        "ws_release_plan",
        "ws_run",
        "ws_bump",
        "ws_add",
        "ws_remove",
        "ws_venv",
        "ws_sync",
        "ws_upgrade",
        "ws_outdated",
        "ws_audit",
    }


async def test_graph_and_why(chain: Path) -> None:
    async with Client(server(chain)) as client:
        graph = structured(await client.call_tool("ws_graph", {"output_format": "mermaid"}))
        why = structured(await client.call_tool("ws_why", {"package": "idna"}))
    assert graph["order"] == ["a", "b", "c", "d"]
    assert graph["rendering"].startswith("graph LR")
    assert ["d", "idna"] in why["paths"]


async def test_changes_are_only_shown_until_applied(chain: Path) -> None:
    pyproject = chain / "packages" / "a" / "pyproject.toml"
    before = pyproject.read_text()
    async with Client(server(chain)) as client:
        plan = structured(await client.call_tool("ws_bump", {"member": "a", "part": "patch"}))
        assert plan["applied"] is False
        assert pyproject.read_text() == before
        added = structured(await client.call_tool("ws_add", {"member": "a", "requirements": ["idna>=3"]}))
        assert added["applied"] is False
        assert added["command"][:2] == ["uv", "add"]
        assert added["command"][4:6] == ["--package", "a"]
        assert added["command"][-2:] == ["--", "idna>=3"]
        applied = structured(await client.call_tool("ws_bump", {"member": "a", "part": "patch", "apply": True}))
    assert applied["applied"] is True
    assert 'version = "0.1.1"' in pyproject.read_text()


async def test_run_reports_progress_and_results(chain: Path) -> None:
    progress: list[float] = []

    record = progress.append

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        del total, message
        record(progress)  # the SDK's callback protocol names its first parameter `progress`

    command = [sys.executable, "-c", "print('hi')"]
    async with Client(server(chain)) as client:
        dry = structured(await client.call_tool("ws_run", {"command": command}))
        assert dry["applied"] is False
        assert dry["results"] == []
        ran = await client.call_tool("ws_run", {"command": command, "apply": True}, progress_callback=on_progress)
    data = structured(ran)
    assert data["passed"] == ["a", "b", "c", "d"]
    assert data["outputs"]["a"] == "hi\n"
    assert progress == [1, 2, 3, 4]


async def test_paths_stay_inside_the_root(chain: Path) -> None:
    async with Client(server(chain / "packages")) as client:
        result = await client.call_tool("ws_graph", {"path": "../.."})
        assert result.is_error
        assert "outside the root" in text_of(result)
        inner = await client.call_tool("ws_graph", {"path": "a"})
        assert inner.is_error  # the workspace of packages/a is at the chain root, above this server's root
        assert "outside the root" in text_of(inner)


async def test_usage_errors_reach_the_model(chain: Path) -> None:
    async with Client(server(chain)) as client:
        result = await client.call_tool("ws_affected", {"since": "HEAD"})
    assert result.is_error
    assert "not a git repository" in text_of(result)


@pytest.fixture
def changed(chain: Path, git_repo: Callable[[Path], Path], h: SimpleNamespace) -> Path:
    """`chain` in git, with anyio added to d since HEAD, locked and synced (the .venv deps check reads)."""
    git_repo(chain)
    pyproject = chain / "packages" / "d" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"idna>=3"', '"idna>=3", "anyio>=4"'), encoding="utf-8")
    h.uv(chain, "sync", "--all-packages")
    return chain


async def test_affected_lock_diff_and_hygiene_through_the_toolkit(changed: Path) -> None:
    chain = changed
    async with Client(server(chain)) as client:
        touched = structured(await client.call_tool("ws_affected", {"since": "HEAD"}))
        diff = structured(await client.call_tool("ws_lock_diff", {"before": "HEAD"}))
        lint = structured(await client.call_tool("ws_lint", {}))
        deps = structured(await client.call_tool("ws_deps_check", {"members": ["d"]}))
        plan = structured(await client.call_tool("ws_release_plan", {"offline": True}))
        outdated = structured(await client.call_tool("ws_outdated", {"offline": True}))
    assert (touched["changed"], touched["affected"]) == (["d"], ["d"])
    assert touched["files"] == ["packages/d/pyproject.toml", "uv.lock"]
    assert [change["name"] for change in diff["members"]["d"]] == ["anyio", "typing-extensions"]
    assert lint == {"findings": []}
    assert {(f["kind"], f["subject"]) for f in deps["findings"]} == {("unused", "idna"), ("unused", "anyio")}
    assert plan["unchecked"] == ["a", "b", "c", "d"]
    assert set(outdated["unchecked"]) == {"a", "b", "c", "d"}


async def test_audit_through_the_toolkit_says_why_it_could_not_check(chain: Path) -> None:
    async with Client(server(chain)) as client:
        offline = structured(await client.call_tool("ws_audit", {"members": ["d"], "offline": True}))
        refused = structured(await client.call_tool("ws_audit", {}))  # UV_OFFLINE=1: the real uv refuses
        unknown = await client.call_tool("ws_audit", {"members": ["nope"], "offline": True})
    assert offline == {
        "checked": False,
        "reason": "offline: the vulnerability service was not asked",
        "audited_packages": 0,
        "findings": [],
        "members": {},
    }
    assert refused["checked"] is False
    assert refused["reason"].startswith("offline: uv audit needs the network")
    assert unknown.is_error
    assert "no workspace member is called 'nope'" in text_of(unknown)


async def test_members_graph_neighbours_and_lock_freshness(chain: Path) -> None:
    lock = (chain / "uv.lock").read_text()
    async with Client(server(chain)) as client:
        members = structured(await client.call_tool("ws_members", {}))
        graph = structured(await client.call_tool("ws_graph", {"member": "b"}))
        fresh = structured(await client.call_tool("ws_lock_check", {"offline": True}))
        plans = [
            structured(await client.call_tool(tool, arguments))
            for tool, arguments in (
                ("ws_sync", {"member": "d"}),
                ("ws_upgrade", {"packages": ["idna"]}),
                ("ws_remove", {"member": "d", "requirements": ["idna"]}),
            )
        ]
        unknown = await client.call_tool("ws_graph", {"member": "zed"})
    c = next(member for member in members["members"] if member["name"] == "c")
    assert (c["extras"], c["groups"], c["dependencies"]) == (["net"], ["dev"], ["b"])
    assert {"requirement": "idna>=3", "kind": "optional", "group": "net"} in c["external"]
    assert graph["member"] == {
        "member": "b",
        "dependencies": ["a"],
        "all_dependencies": ["a"],
        "dependents": ["c"],
        "all_dependents": ["c"],
    }
    assert fresh["fresh"] is True
    assert [(plan["applied"], plan["command"][:2]) for plan in plans] == [
        (False, ["uv", "sync"]),
        (False, ["uv", "lock"]),
        (False, ["uv", "remove"]),
    ]
    assert (chain / "uv.lock").read_text() == lock
    assert unknown.is_error
    assert "no workspace member is called 'zed'" in text_of(unknown)


async def test_the_graph_answers_with_a_dev_group_cycle(dev_cycle: Path) -> None:
    async with Client(server(dev_cycle)) as client:
        data = structured(await client.call_tool("ws_graph", {"output_format": "text"}))
    assert data["order"] == ["app", "stories"]
    assert data["cycles"][0]["kinds"] == ["group:dev", "project"]
    assert data["edges_from"]["from"] == "uv.lock"
    assert "cycle (not in the order: group:dev, project): app -> stories -> app" in data["rendering"]


async def test_a_change_is_journaled_in_the_servers_state_folder(
    chain: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server passes its state folder: a server built from code with `state_dir` keeps one journal."""
    from codegen_lab.common.files import recent_changes

    elsewhere = tmp_path / "environment-state"
    monkeypatch.setenv("CODEGEN_LAB_STATE_DIR", str(elsewhere))
    settings = Settings(root=chain, state_dir=tmp_path / "server-state")
    async with Client(build_server(settings, [create_toolkit(ServerContext(settings))])) as client:
        structured(await client.call_tool("ws_bump", {"member": "a", "part": "patch", "apply": True}))
    assert [change.purpose for change in recent_changes(chain, state_dir=tmp_path / "server-state")] == ["bump a patch"]
    assert recent_changes(chain, state_dir=elsewhere) == []


async def test_the_clis_json_is_the_tools_structured_output(changed: Path) -> None:
    chain = changed
    same_input = [  # the command, its exit status, the tool and its arguments
        (["members"], 0, "ws_members", {}),
        (["why", "idna"], 0, "ws_why", {"package": "idna"}),
        (["lock", "diff", "HEAD"], 0, "ws_lock_diff", {"before": "HEAD"}),
        (["affected", "--since", "HEAD"], 0, "ws_affected", {"since": "HEAD"}),
        (["outdated", "--offline"], 0, "ws_outdated", {"offline": True}),
        (["audit", "--offline"], 3, "ws_audit", {"offline": True}),
        (["venv"], 0, "ws_venv", {}),
        (["lint"], 0, "ws_lint", {}),
        (["release", "plan", "--offline"], 0, "ws_release_plan", {"offline": True}),
        (["deps", "check"], 1, "ws_deps_check", {}),  # 1: it found unused dependencies
        (["sync", "--member", "d", "--dry-run"], 0, "ws_sync", {"member": "d"}),
        (["lock", "check", "--offline"], 0, "ws_lock_check", {"offline": True}),
    ]
    async with Client(server(chain)) as client:
        for command, status, tool, arguments in same_input:
            printed = CliRunner().invoke(cli, [*command, "--root", str(chain), "--format", "json"])
            assert printed.exit_code == status, printed.output
            assert json.loads(printed.stdout) == structured(await client.call_tool(tool, arguments)), command
    assert json.loads(printed.stdout)["fresh"] is True
