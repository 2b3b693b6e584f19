"""Tool schemas kept between starts: the same tools either way, never a stale schema, never a failed start."""

from __future__ import annotations

import importlib
import json
import os
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult, TextContent

from codegen_lab.common import Settings
from codegen_lab.mcp_core import Context, Toolkit, build_server

pytestmark = pytest.mark.anyio


def kit() -> Toolkit:
    toolkit = Toolkit("demo", description="A demo.", package="codegen-lab-mcp-core")

    @toolkit.tool()
    def add(a: int, b: int = 2) -> int:
        """Add two numbers."""
        return a + b

    @toolkit.tool()
    async def count(steps: int, ctx: Context) -> dict[str, int]:
        """Count, reporting progress."""
        for step in range(steps):
            await ctx.report_progress(step + 1, steps)
        return {"counted": steps}

    return toolkit


async def listing(settings: Settings, toolkit: Toolkit) -> list[dict[str, Any]]:
    async with Client(build_server(settings, [toolkit])) as client:
        tools = (await client.list_tools()).tools
    return [tool.model_dump(mode="json", by_alias=True) for tool in tools]


def text_of(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


def refuse_to_build(*args: object, **kwargs: object) -> object:
    raise AssertionError("a tool was built although its schemas were in the cache")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(root=tmp_path, cache_dir=tmp_path / "cache")


async def test_a_second_start_serves_the_same_tools_from_the_cache(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await listing(settings, kit())
    monkeypatch.setattr(Tool, "from_function", refuse_to_build)

    second = await listing(settings, kit())

    assert second == first
    add = next(tool for tool in second if tool["name"] == "demo_add")
    assert add["inputSchema"]["required"] == ["a"]
    assert add["outputSchema"] is not None


async def test_tools_from_the_cache_validate_arguments_and_run(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    await listing(settings, kit())
    monkeypatch.setattr(Tool, "from_function", refuse_to_build)

    async with Client(build_server(settings, [kit()])) as client:
        added = await client.call_tool("demo_add", {"a": 40})
        wrong = await client.call_tool("demo_add", {"a": "forty"})
        progress: list[float] = []

        record = progress.append

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            record(progress)  # the SDK's callback protocol names its first parameter `progress`

        counted = await client.call_tool("demo_count", {"steps": 3}, progress_callback=on_progress)

    assert not added.is_error
    assert added.structured_content == {"result": 42}
    assert wrong.is_error
    assert "a" in text_of(wrong)
    assert "integer" in text_of(wrong).lower()
    assert counted.structured_content == {"counted": 3}
    assert progress == [1, 2, 3]


async def test_a_changed_type_module_is_not_served_from_the_cache(
    settings: Settings, install_distribution: Any, tmp_path: Path
) -> None:
    """The tool function is unchanged; only the module of the type it returns changes: the stat of that file
    is what tells the cache it is stale."""
    install = install_distribution
    install(
        "schemaplug",
        {
            "schemaplug/__init__.py": "",
            "schemaplug.types": """
                from typing import TypedDict

                class Report(TypedDict):
                    count: int
            """,
            "schemaplug.tools": """
                from codegen_lab.mcp_core import Toolkit
                from schemaplug.types import Report

                def toolkit():
                    kit = Toolkit("plug", description="A plugin.", package="schemaplug")

                    @kit.tool()
                    def report() -> Report:
                        return {"count": 1}

                    return kit
            """,
        },
        {},
    )
    import schemaplug.tools  # pyright: ignore[reportMissingImports]

    def output_properties(tools: list[dict[str, Any]]) -> dict[str, Any]:
        return next(tool for tool in tools if tool["name"] == "plug_report")["outputSchema"]["properties"]

    before = await listing(settings, schemaplug.tools.toolkit())  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
    assert set(output_properties(before)) == {"count"}

    types_file = tmp_path / "site-packages" / "schemaplug" / "types.py"
    types_file.write_text(
        textwrap.dedent("""
            from typing import TypedDict

            class Report(TypedDict):
                count: int
                failed: list[str]
        """),
        encoding="utf-8",
    )
    status = types_file.stat()
    os.utime(types_file, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000_000))
    importlib.reload(sys.modules["schemaplug.types"])
    importlib.reload(sys.modules["schemaplug.tools"])

    after = await listing(settings, sys.modules["schemaplug.tools"].toolkit())
    assert set(output_properties(after)) == {"count", "failed"}


async def test_a_changed_signature_is_not_served_from_the_cache(settings: Settings) -> None:
    await listing(settings, kit())
    changed = Toolkit("demo", description="A demo.", package="codegen-lab-mcp-core")

    @changed.tool()
    def add(a: int, b: int, c: int = 0) -> int:
        """Add three numbers."""
        return a + b + c

    tools = await listing(settings, changed)
    schema = next(tool for tool in tools if tool["name"] == "demo_add")["inputSchema"]
    assert schema["required"] == ["a", "b"]
    assert set(schema["properties"]) == {"a", "b", "c"}


async def test_a_corrupt_cache_is_built_again(settings: Settings) -> None:
    first = await listing(settings, kit())
    assert settings.cache_dir is not None
    (cache_file,) = settings.cache_dir.glob("tool-schemas-*.json")
    cache_file.write_text('{"format": 1, "files": {"/nowhere": [1, 2]}, "tools": ', encoding="utf-8")

    assert await listing(settings, kit()) == first
    assert json.loads(cache_file.read_text(encoding="utf-8"))["tools"]


async def test_an_unwritable_cache_folder_does_not_stop_the_start(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be", encoding="utf-8")
    settings = Settings(root=tmp_path, cache_dir=blocker)

    tools = await listing(settings, kit())

    assert {tool["name"] for tool in tools} >= {"demo_add", "demo_count", "server_info"}
    assert blocker.read_text(encoding="utf-8") == "a file where the cache folder should be"


async def test_result_types_served_by_a_module_getattr_are_imported_only_when_a_tool_needs_them(
    settings: Settings, install_distribution: Any
) -> None:
    """A toolkit module may keep its result types out of the start (PEP 562 `__getattr__`): the first start imports
    them to build the schemas; a start from the cache does not, and the tool's first call does."""
    install_distribution(
        "lazyplug",
        {
            "lazyplug/__init__.py": "",
            "lazyplug.types": """
                from typing import TypedDict

                class Report(TypedDict):
                    count: int
            """,
            "lazyplug.tools": """
                from __future__ import annotations

                from typing import TYPE_CHECKING

                from codegen_lab.mcp_core import Toolkit

                if TYPE_CHECKING:
                    from lazyplug.types import Report

                def __getattr__(name):
                    if name == "Report":
                        from lazyplug.types import Report
                        return Report
                    raise AttributeError(name)

                def toolkit():
                    kit = Toolkit("lazy", description="A plugin.", package="lazyplug")

                    @kit.tool()
                    def report(count: int) -> Report:
                        return {"count": count}

                    return kit
            """,
        },
        {},
    )
    importlib.import_module("lazyplug.tools")

    async def start_and_call() -> tuple[list[dict[str, Any]], bool, CallToolResult]:
        tools_module = sys.modules["lazyplug.tools"]
        vars(tools_module).pop("Report", None)
        sys.modules.pop("lazyplug.types", None)
        async with Client(build_server(settings, [tools_module.toolkit()])) as client:
            tools = [tool.model_dump(mode="json", by_alias=True) for tool in (await client.list_tools()).tools]
            imported_at_start = "lazyplug.types" in sys.modules
            result = await client.call_tool("lazy_report", {"count": 4})
        return tools, imported_at_start, result

    assert "lazyplug.types" not in sys.modules  # importing the tools module does not import its types
    first_tools, first_imported, first_result = await start_and_call()
    second_tools, second_imported, second_result = await start_and_call()

    assert first_imported  # the first start builds the schema from the type
    assert not second_imported  # a start from the cache leaves it alone
    assert second_tools == first_tools
    schema = next(tool for tool in second_tools if tool["name"] == "lazy_report")["outputSchema"]
    assert set(schema["properties"]) == {"count"}
    for result in (first_result, second_result):
        assert not result.is_error, result
        assert result.structured_content == {"count": 4}


def prompting_kit() -> Toolkit:
    toolkit = Toolkit("demo", description="A demo.", package="codegen-lab-mcp-core")

    @toolkit.prompt("review", title="Review")
    def review(path: str, passes: int = 1) -> str:
        """Review a file."""
        return f"review {path} {passes} times"

    @toolkit.prompt("plan")
    async def plan(goal: str) -> str:
        """Plan the work."""
        return f"plan {goal}"

    return toolkit


async def test_prompts_from_the_cache_list_the_same_arguments_and_still_validate_them(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mcp.server.mcpserver.prompts.base import Prompt

    async def prompts() -> tuple[list[dict[str, Any]], list[str], str]:
        async with Client(build_server(settings, [prompting_kit()])) as client:
            listed = [prompt.model_dump(mode="json") for prompt in (await client.list_prompts()).prompts]
            rendered = await client.get_prompt("review", {"path": "a.py", "passes": "2"})
            planned = await client.get_prompt("plan", {"goal": "ship"})
            with pytest.raises(Exception):  # noqa: B017, PT011 (the SDK answers any failed rendering alike)
                await client.get_prompt("review", {"path": "a.py", "passes": "many"})
        texts = [message.content.text for message in rendered.messages if isinstance(message.content, TextContent)]
        plan_block = planned.messages[0].content
        assert isinstance(plan_block, TextContent)
        return listed, texts, plan_block.text

    first = await prompts()
    monkeypatch.setattr(Prompt, "from_function", refuse_to_build)
    second = await prompts()

    assert second == first
    listed, texts, plan_text = second
    review = next(prompt for prompt in listed if prompt["name"] == "review")
    assert [(argument["name"], argument["required"]) for argument in review["arguments"]] == [
        ("path", True),
        ("passes", False),
    ]
    assert review["description"] == "Review a file."
    assert texts == ["review a.py 2 times"]  # "2" validated into the int 2
    assert plan_text == "plan ship"
