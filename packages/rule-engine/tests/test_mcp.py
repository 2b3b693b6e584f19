from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp_types import TextContent, TextResourceContents

from codegen_lab.common import Settings
from codegen_lab.mcp_core import ServerContext, build_server
from codegen_lab.rule_engine.mcp import create_toolkit

pytestmark = pytest.mark.anyio
MakeRepo = Callable[[dict[str, str]], Path]

REPO = {
    ".cursor/rules/python.mdc": "---\ndescription: Python\nglobs: **/*.py\n---\nTyped Python.\n",
    ".cursor/rules/core.mdc": "---\nalwaysApply: true\n---\nBe brief.\n",
    "src/app.py": "",
}


def server_for(root: Path) -> Any:
    settings = Settings(root=root)
    return build_server(settings, [create_toolkit(ServerContext(settings))])


async def test_rules_for_path_explains(make_repo: MakeRepo) -> None:
    async with Client(server_for(make_repo(REPO))) as client:
        result = await client.call_tool("rules_for_path", {"path": "src/app.py"})
    answer = result.structured_content or {}
    assert [entry["rule"] for entry in answer["attached"]] == [".cursor/rules/core.mdc", ".cursor/rules/python.mdc"]


async def test_a_path_outside_the_root_is_a_tool_error(make_repo: MakeRepo) -> None:
    async with Client(server_for(make_repo(REPO))) as client:
        result = await client.call_tool("rules_for_path", {"path": "/etc/passwd"})
    assert result.is_error
    block = result.content[0]
    assert isinstance(block, TextContent)
    assert "outside the root" in block.text


async def test_lint_reports_progress_and_diagnostics(make_repo: MakeRepo) -> None:
    updates: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append(progress)

    root = make_repo(REPO | {".cursor/rules/bad.mdc": '---\nalwaysApply: "true"\n---\nx\n'})
    async with Client(server_for(root)) as client:
        result = await client.call_tool("rules_lint", {}, progress_callback=on_progress)
    report = result.structured_content or {}
    assert report["summary"]["errors"] == 1
    assert updates == [0, 2]


async def test_list_render_resources_and_the_prompt(make_repo: MakeRepo) -> None:
    async with Client(server_for(make_repo(REPO))) as client:
        listed = (await client.call_tool("rules_list", {})).structured_content or {}
        rendered = (await client.call_tool("rules_render", {"paths": ["src/app.py"]})).structured_content or {}
        index = (await client.read_resource("codegen-lab://rules/index")).contents[0]
        one = (await client.read_resource("codegen-lab://rules/rule/python")).contents[0]
        prompt = await client.get_prompt("apply-rules", {"paths": "src/app.py"})
    assert len(listed["rules"]) == 2
    assert rendered["rules"] == [".cursor/rules/core.mdc", ".cursor/rules/python.mdc"]
    assert isinstance(index, TextResourceContents)
    assert len(json.loads(index.text)) == 2
    assert isinstance(one, TextResourceContents)
    assert one.text.startswith("Typed Python.")
    assert "Be brief." in str(prompt.messages[0].content)


async def test_migrate_is_a_dry_run_unless_asked(make_repo: MakeRepo) -> None:
    root = make_repo(REPO)
    async with Client(server_for(root)) as client:
        dry = (await client.call_tool("rules_migrate", {"to": "windsurf"})).structured_content or {}
        assert not (root / ".windsurf").exists()
        assert "+++ b/.windsurf/rules/python.md" in dry["diff"]
        wet = (await client.call_tool("rules_migrate", {"to": "windsurf", "write": True})).structured_content or {}
        bad = await client.call_tool("rules_migrate", {"to": "vim"})
    assert sorted(wet["written"]) == [".windsurf/rules/core.md", ".windsurf/rules/python.md"]
    assert (root / ".windsurf/rules/python.md").is_file()
    assert bad.is_error


async def test_a_migration_is_journaled_in_the_servers_state_folder(
    make_repo: MakeRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codegen_lab.common.files import recent_changes

    root = make_repo(REPO)
    elsewhere = tmp_path / "environment-state"
    monkeypatch.setenv("CODEGEN_LAB_STATE_DIR", str(elsewhere))
    settings = Settings(root=root, state_dir=tmp_path / "server-state")
    async with Client(build_server(settings, [create_toolkit(ServerContext(settings))])) as client:
        result = await client.call_tool("rules_migrate", {"to": "windsurf", "write": True})
    assert not result.is_error, result.content
    purposes = [change.purpose for change in recent_changes(root, state_dir=tmp_path / "server-state")]
    assert purposes == ["migrate to windsurf"]
    assert recent_changes(root, state_dir=elsewhere) == []


async def test_the_tools_take_an_assistant(make_repo: MakeRepo) -> None:
    root = make_repo(REPO | {"AGENTS.md": "Agents.\n", "api/AGENTS.md": "API agents.\n", "api/x.py": ""})
    async with Client(server_for(root)) as client:
        grouped = (await client.call_tool("rules_for_path", {"path": "api/x.py"})).structured_content or {}
        codex = (
            await client.call_tool("rules_for_path", {"path": "api/x.py", "assistant": "codex"})
        ).structured_content or {}
        rendered = (
            await client.call_tool("rules_render", {"paths": ["api/x.py"], "assistant": "agents-md"})
        ).structured_content or {}
        linted = (await client.call_tool("rules_lint", {"assistant": "codex"})).structured_content or {}
        bad = await client.call_tool("rules_for_path", {"path": "api/x.py", "assistant": "vim"})
    assert "cursor" in grouped["assistants"]
    assert [entry["rule"] for entry in codex["attached"]] == ["AGENTS.md", "api/AGENTS.md"]
    assert rendered["rules"] == ["api/AGENTS.md"]
    assert linted["summary"]["assistants"]["codex"]["files"] == 2
    assert bad.is_error


async def test_header_keys_the_format_does_not_know_keep_their_yaml_values_in_json(make_repo: MakeRepo) -> None:
    header = "owner: me\nreviewed: 2026-01-02\nlevels: [1, 2.5, true, null]\nteam: {lead: ann, 3: three}\n"
    root = make_repo({".cursor/rules/tagged.mdc": f"---\ndescription: Tagged\n{header}---\nText.\n"})
    async with Client(server_for(root)) as client:
        listed = (await client.call_tool("rules_list", {})).structured_content or {}
    assert listed["rules"][0]["unknown_keys"] == {
        "owner": "me",
        "reviewed": "2026-01-02",
        "levels": [1, 2.5, True, None],
        "team": {"lead": "ann", "3": "three"},
    }
