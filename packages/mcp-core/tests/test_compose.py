from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, TextContent, TextResourceContents

from codegen_lab.common import DuplicateNameError, OperationError, Settings, UsageError
from codegen_lab.mcp_core import Context, Toolkit, build_server

pytestmark = pytest.mark.anyio


def text_of(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


def demo_toolkit() -> Toolkit:
    kit = Toolkit("demo", description="A demo.", package="codegen-lab-mcp-core")

    @kit.tool()
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    @kit.tool()
    async def progress(steps: int, ctx: Context) -> str:
        for step in range(steps):
            await ctx.report_progress(step + 1, steps)
        return "done"

    @kit.tool()
    def misuse(path: str) -> str:
        raise UsageError(f"path {path!r} is outside the workspace", hint="Pass a path inside the workspace root")

    @kit.tool()
    def fail() -> str:
        raise OperationError("uv exited with status 2")

    @kit.tool()
    def crash() -> str:
        secret = {"token": "hunter2"}
        return secret["missing"]

    @kit.resource("codegen-lab://demo/{name}", mime_type="text/plain")
    def greeting(name: str) -> str:
        if name == "nobody":
            raise UsageError("no greeting for 'nobody'")
        return f"hello {name}"

    @kit.prompt()
    def review_file(path: str) -> str:
        """Review a file."""
        return f"Review {path}"

    return kit


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(root=tmp_path)


async def test_tools_of_every_toolkit_are_listed(settings: Settings) -> None:
    async with Client(build_server(settings, [demo_toolkit()])) as client:
        names = [tool.name for tool in (await client.list_tools()).tools]
    assert names == ["server_info", "demo_add", "demo_progress", "demo_misuse", "demo_fail", "demo_crash"]


async def test_server_info_reports_the_composition(settings: Settings) -> None:
    server = build_server(settings, [demo_toolkit()], version="9.9.9")
    async with Client(server) as client:
        result = await client.call_tool("server_info", {})
        assert not result.is_error
        info: dict[str, Any] = result.structured_content or {}
        later = await client.call_tool("server_info", {})
        assert client.server_info is not None
        assert (client.server_info.name, client.server_info.version) == ("codegen-lab", "9.9.9")
    assert info["workspace_root"] == str(settings.root)
    assert set(info["packages"]) >= {"mcp", "codegen-lab-mcp-core"}
    assert info["protocol_versions"][0] == "2024-11-05"
    assert "2026-07-28" in info["protocol_versions"]
    assert [kit["name"] for kit in info["toolkits"]] == ["server", "demo"]
    demo = info["toolkits"][1]
    assert demo["tools"][:2] == ["demo_add", "demo_progress"]
    assert demo["resources"] == ["codegen-lab://demo/{name}"]
    assert demo["prompts"] == ["review-file"]
    assert demo["version"] == info["packages"]["codegen-lab-mcp-core"]
    assert info["uptime_seconds"] >= 0
    assert (later.structured_content or {})["uptime_seconds"] >= info["uptime_seconds"]


async def test_server_info_resource_is_the_same_report(settings: Settings) -> None:
    async with Client(build_server(settings, [])) as client:
        result = await client.read_resource("codegen-lab://server/info")
    content = result.contents[0]
    assert isinstance(content, TextResourceContents)
    assert content.mime_type == "application/json"
    assert json.loads(content.text)["toolkits"][0]["tools"] == ["server_info"]


async def test_a_tool_runs_and_reports_progress(settings: Settings) -> None:
    updates: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append(progress)

    async with Client(build_server(settings, [demo_toolkit()])) as client:
        assert (await client.call_tool("demo_add", {"a": 2, "b": 3})).structured_content == {"result": 5}
        result = await client.call_tool("demo_progress", {"steps": 3}, progress_callback=on_progress)
    assert text_of(result) == "done"
    assert updates == [1, 2, 3]


async def test_bad_arguments_say_how_to_fix_the_call(settings: Settings) -> None:
    async with Client(build_server(settings, [demo_toolkit()])) as client:
        result = await client.call_tool("demo_add", {"a": "two", "c": 1})
    assert result.is_error
    message = text_of(result)
    assert message.startswith("invalid arguments for tool 'demo_add'")
    assert "`a`: Input should be a valid integer" in message
    assert "`b` is required but missing" in message
    assert "Check the tool's input schema and call it again" in message


async def test_a_usage_error_reaches_the_model_with_its_hint(settings: Settings) -> None:
    async with Client(build_server(settings, [demo_toolkit()])) as client:
        result = await client.call_tool("demo_misuse", {"path": "../x"})
    assert result.is_error
    assert text_of(result) == "path '../x' is outside the workspace. Pass a path inside the workspace root"


async def test_an_operation_error_reaches_the_model(settings: Settings) -> None:
    async with Client(build_server(settings, [demo_toolkit()])) as client:
        result = await client.call_tool("demo_fail", {})
    assert result.is_error
    assert text_of(result) == "uv exited with status 2"


async def test_a_crash_is_logged_and_the_server_keeps_serving(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="codegen_lab.mcp_core")
    async with Client(build_server(settings, [demo_toolkit()])) as client:
        result = await client.call_tool("demo_crash", {})
        after = await client.call_tool("demo_add", {"a": 1, "b": 1})
    assert result.is_error
    message = text_of(result)
    assert message.startswith("internal error in tool 'demo_crash' (incident ")
    assert "hunter2" not in message
    assert "KeyError" not in message
    incident = message.split("incident ")[1].split(")")[0]
    records = [record for record in caplog.records if incident in record.getMessage()]
    assert len(records) == 1
    assert records[0].exc_info is not None
    assert records[0].exc_info[0] is KeyError
    assert after.structured_content == {"result": 2}


async def test_an_unknown_tool_is_an_error_result(settings: Settings) -> None:
    async with Client(build_server(settings, [])) as client:
        result = await client.call_tool("nope", {})
    assert result.is_error
    assert "Unknown tool: nope" in text_of(result)


async def test_resource_templates_and_their_errors(settings: Settings) -> None:
    async with Client(build_server(settings, [demo_toolkit()])) as client:
        templates = (await client.list_resource_templates()).resource_templates
        assert [template.uri_template for template in templates] == ["codegen-lab://demo/{name}"]
        result = await client.read_resource("codegen-lab://demo/ada")
        content = result.contents[0]
        assert isinstance(content, TextResourceContents)
        assert content.text == "hello ada"
        with pytest.raises(MCPError, match="no greeting for 'nobody'") as caught:
            await client.read_resource("codegen-lab://demo/nobody")
    assert caught.value.error.code == -32602


async def test_prompts_are_served(settings: Settings) -> None:
    async with Client(build_server(settings, [demo_toolkit()])) as client:
        prompts = (await client.list_prompts()).prompts
        rendered = await client.get_prompt("review-file", {"path": "a.py"})
    assert [prompt.name for prompt in prompts] == ["review-file"]
    assert rendered.messages[0].content.type == "text"
    assert "Review a.py" in str(rendered.messages[0].content)


def test_a_tool_name_declared_twice_names_both_toolkits(settings: Settings) -> None:
    first = Toolkit("alpha", namespace="shared", package="alpha-dist")
    second = Toolkit("beta", namespace="shared", package="beta-dist")
    first.add_tool(lambda: 1, "run")
    second.add_tool(lambda: 2, "run")
    with pytest.raises(DuplicateNameError) as caught:
        build_server(settings, [first, second])
    message = str(caught.value)
    assert (
        "tool 'shared_run' is declared by both toolkit 'alpha' (alpha-dist) and toolkit 'beta' (beta-dist)" in message
    )


def test_a_toolkit_cannot_take_the_builtin_names(settings: Settings) -> None:
    impostor = Toolkit("impostor", namespace="server", package="evil")
    impostor.add_tool(lambda: 1, "info")
    with pytest.raises(DuplicateNameError, match=r"'server_info' .* 'server' \(built in\) and toolkit 'impostor'"):
        build_server(settings, [impostor])


def test_a_resource_declared_twice_names_both_toolkits(settings: Settings) -> None:
    first, second = Toolkit("alpha"), Toolkit("beta")
    first.resource("codegen-lab://x")(lambda: "1")
    second.resource("codegen-lab://x")(lambda: "2")
    with pytest.raises(DuplicateNameError, match=r"resource 'codegen-lab://x' .* 'alpha' and toolkit 'beta'"):
        build_server(settings, [first, second])


def test_two_toolkits_of_the_same_name(settings: Settings) -> None:
    with pytest.raises(DuplicateNameError, match="toolkit 'alpha'"):
        build_server(settings, [Toolkit("alpha"), Toolkit("alpha", namespace="other")])
