from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from codegen_lab.common import DuplicateNameError, Settings, SettingsError, ToolkitError
from codegen_lab.mcp_core import ENTRY_POINT_GROUP, build_server, discover_toolkits, installed_toolkits

Install = Callable[[str, dict[str, str], dict[str, dict[str, str]]], Path]

PLUGIN = """
from codegen_lab.mcp_core import Toolkit

toolkit = Toolkit("echo", description="Says things back.")


@toolkit.tool()
def say(text: str) -> str:
    '''Say `text` back.'''
    return text
"""

FACTORY = """
from codegen_lab.mcp_core import ServerContext, Toolkit


def make(context: ServerContext) -> Toolkit:
    toolkit = Toolkit("rooted")

    @toolkit.tool()
    def root() -> str:
        return str(context.settings.root)

    return toolkit
"""


@pytest.fixture
def install(install_distribution: Any) -> Install:
    return install_distribution


def test_an_installed_toolkit_is_discovered_and_served(install: Install, tmp_path: Path) -> None:
    install("echo-plugin", {"echo_plugin": PLUGIN}, {ENTRY_POINT_GROUP: {"echo": "echo_plugin:toolkit"}})
    assert "echo" in installed_toolkits()
    toolkits = discover_toolkits(Settings(root=tmp_path))
    echo = next(kit for kit in toolkits if kit.name == "echo")
    assert echo.package == "echo-plugin"
    assert [tool.name for tool in echo.tools] == ["echo_say"]


@pytest.mark.anyio
async def test_a_discovered_toolkit_answers_through_the_composed_server(install: Install, tmp_path: Path) -> None:
    install("echo-plugin", {"echo_plugin": PLUGIN}, {ENTRY_POINT_GROUP: {"echo": "echo_plugin:toolkit"}})
    settings = Settings(root=tmp_path, include=("echo",))
    async with Client(build_server(settings, discover_toolkits(settings))) as client:
        result = await client.call_tool("echo_say", {"text": "hi"})
        info = (await client.call_tool("server_info", {})).structured_content or {}
    assert result.structured_content == {"result": "hi"}
    assert info["packages"]["echo-plugin"] == "1.2.3"
    assert [(kit["name"], kit["version"]) for kit in info["toolkits"]] == [
        ("server", info["packages"]["codegen-lab-mcp-core"]),
        ("echo", "1.2.3"),
    ]


def test_a_factory_gets_the_settings(install: Install, tmp_path: Path) -> None:
    install("rooted-plugin", {"rooted_plugin": FACTORY}, {ENTRY_POINT_GROUP: {"rooted": "rooted_plugin:make"}})
    (toolkit,) = discover_toolkits(Settings(root=tmp_path, include=("rooted",)))
    assert toolkit.tools[0].fn() == str(tmp_path.resolve())


def test_excluded_toolkits_are_not_even_imported(install: Install, tmp_path: Path) -> None:
    install(
        "boom-plugin",
        {"boom_plugin": "raise RuntimeError('imported!')"},
        {ENTRY_POINT_GROUP: {"boom": "boom_plugin:x"}},
    )
    assert all(kit.name != "boom" for kit in discover_toolkits(Settings(root=tmp_path, exclude=("boom",))))
    with pytest.raises(ToolkitError) as caught:
        discover_toolkits(Settings(root=tmp_path, include=("boom",)))
    message = str(caught.value)
    assert "toolkit 'boom' (boom-plugin) failed to load from 'boom_plugin:x': RuntimeError: imported!" in message
    assert "CODEGEN_LAB_EXCLUDE=boom" in message


def test_an_entry_point_that_is_not_a_toolkit(install: Install, tmp_path: Path) -> None:
    install("odd-plugin", {"odd_plugin": "thing = 42"}, {ENTRY_POINT_GROUP: {"odd": "odd_plugin:thing"}})
    with pytest.raises(ToolkitError, match=r"'odd' \(odd-plugin\): 'odd_plugin:thing' gave int, not a Toolkit"):
        discover_toolkits(Settings(root=tmp_path, include=("odd",)))


def test_a_toolkit_must_use_its_entry_point_name(install: Install, tmp_path: Path) -> None:
    install("echo-plugin", {"echo_plugin": PLUGIN}, {ENTRY_POINT_GROUP: {"parrot": "echo_plugin:toolkit"}})
    with pytest.raises(ToolkitError, match="installed under the name 'parrot' but calls itself 'echo'"):
        discover_toolkits(Settings(root=tmp_path, include=("parrot",)))


def test_two_packages_installing_the_same_toolkit_name(install: Install, tmp_path: Path) -> None:
    install("echo-plugin", {"echo_plugin": PLUGIN}, {ENTRY_POINT_GROUP: {"echo": "echo_plugin:toolkit"}})
    install("echo-fork", {"echo_fork": PLUGIN}, {ENTRY_POINT_GROUP: {"echo": "echo_fork:toolkit"}})
    with pytest.raises(DuplicateNameError, match=r"toolkit 'echo' .* \(echo-(plugin|fork)\) .* \(echo-(plugin|fork)\)"):
        discover_toolkits(Settings(root=tmp_path))


def test_no_installed_toolkit_may_be_called_server(install: Install, tmp_path: Path) -> None:
    install("fake-server", {"fake_server": PLUGIN}, {ENTRY_POINT_GROUP: {"server": "fake_server:toolkit"}})
    with pytest.raises(ToolkitError, match=r"'server' \(fake-server\): the name 'server' is reserved"):
        installed_toolkits()


def test_include_of_a_toolkit_that_is_not_installed(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"include = \['nope'\]: no toolkit named 'nope' is installed; installed: "):
        discover_toolkits(Settings(root=tmp_path, include=("nope",)))
