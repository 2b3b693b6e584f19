"""Paths and revisions a caller names: the regression list of real MCP server escapes, each refused."""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import pytest
from mcp import Client
from mcp.client.context import ClientRequestContext
from mcp_types import CallToolResult, ListRootsResult, Root, TextContent

from codegen_lab.common import Settings, ToolkitError, UsageError
from codegen_lab.common.guard import AllowedRoots, check_revision, open_folder_inside
from codegen_lab.common.testing import ESCAPES, hostile_project
from codegen_lab.mcp_core import Toolkit, build_server


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return hostile_project(tmp_path)


@pytest.mark.parametrize("path", ESCAPES)
def test_paths_out_of_the_root_are_refused(project: Path, path: str) -> None:
    with pytest.raises(UsageError, match=r"path '.*' is outside the root "):
        AllowedRoots(project).resolve(path, "path")


def test_a_sibling_with_the_root_as_prefix_is_outside(project: Path) -> None:
    sibling = str(project) + "-evil/secret.txt"
    with pytest.raises(UsageError, match="outside the root"):
        AllowedRoots(project).resolve(sibling, "out")


def test_nul_bytes_and_empty_paths_are_refused_by_name(project: Path) -> None:
    with pytest.raises(UsageError, match=re.escape("target 'src/main.py\\x00.txt' holds a NUL byte")):
        AllowedRoots(project).resolve("src/main.py\0.txt", "target")
    with pytest.raises(UsageError, match="html_dir is empty"):
        AllowedRoots(project).resolve("", "html_dir")


def test_paths_inside_resolve_through_links_that_stay_inside(project: Path) -> None:
    roots = AllowedRoots(project)
    real = project.resolve()
    assert roots.resolve("src/main.py", "path") == real / "src" / "main.py"
    assert roots.resolve(str(real / "src"), "path") == real / "src"
    assert roots.resolve("link_in/main.py", "path") == real / "src" / "main.py"
    assert roots.resolve("not/yet/there.py", "out") == real / "not" / "yet" / "there.py"
    assert roots.resolve(".", "path") == real


def test_client_roots_narrow_the_server_root(project: Path, tmp_path: Path) -> None:
    roots = AllowedRoots(project, (project / "src", tmp_path / "outside"))
    assert roots.folders == ((project / "src").resolve(),)
    assert roots.resolve("src/main.py", "path") == (project / "src" / "main.py").resolve()
    with pytest.raises(UsageError, match="outside the allowed roots"):
        roots.resolve("README.md", "path")
    with pytest.raises(UsageError, match="outside the allowed roots"):
        roots.resolve(str(tmp_path / "outside"), "path")


def test_a_client_root_holding_the_server_root_allows_the_server_root(project: Path, tmp_path: Path) -> None:
    assert AllowedRoots(project, (tmp_path,)).folders == (project.resolve(),)


def test_client_roots_that_miss_the_server_root_allow_nothing(project: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="none of the client's roots"):
        AllowedRoots(project, (tmp_path / "outside",)).resolve("src/main.py", "path")


@pytest.mark.parametrize("revision", ["--output=/tmp/pwned", "-p", "", "main\nHEAD", "a\0b"])
def test_revisions_that_could_pass_for_options_are_refused(revision: str) -> None:
    with pytest.raises(UsageError, match="since"):
        check_revision(revision, "since")


@pytest.mark.parametrize("revision", ["main", "HEAD~2", "v1.2.3", "origin/main", "abc123^{commit}", "HEAD@{1}"])
def test_ordinary_revisions_pass(revision: str) -> None:
    assert check_revision(revision, "since") == revision


def test_a_folder_opened_inside_is_the_checked_one(project: Path) -> None:
    descriptor = open_folder_inside(AllowedRoots(project), "src", "out")
    try:
        assert os.fstat(descriptor).st_ino == (project / "src").stat().st_ino
        assert "main.py" in os.listdir(descriptor)
    finally:
        os.close(descriptor)


def test_a_folder_swapped_for_a_link_after_the_check_is_not_opened(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race: the path is checked, then `src` becomes a link out of the root before it is opened."""
    roots = AllowedRoots(project)
    checked = roots.resolve

    def check_then_swap(path: str | os.PathLike[str], argument: str) -> Path:
        resolved = checked(path, argument)
        (project / "src").rename(project / "src-moved")
        (project / "src").symlink_to(tmp_path / "outside")
        return resolved

    monkeypatch.setattr(AllowedRoots, "resolve", lambda self, path, argument: check_then_swap(path, argument))  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType]
    with pytest.raises(UsageError, match="without following links"):
        open_folder_inside(roots, "src", "out")


def test_a_declared_argument_the_tool_does_not_take_is_a_toolkit_error() -> None:
    kit = Toolkit("demo", description="A demo.")
    with pytest.raises(ToolkitError, match="no argument named target"):

        @kit.tool(paths=["target"])
        def read(path: str) -> str:  # pyright: ignore[reportUnusedFunction]
            return path


def path_kit() -> Toolkit:
    kit = Toolkit("demo", description="A demo.")

    @kit.tool(paths=["path", "more"], revisions=["since"])
    def read(path: str, more: list[str] | None = None, since: str | None = None) -> str:
        return f"read {path}"

    return kit


def text_of(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


@pytest.mark.anyio
async def test_a_tool_call_with_a_path_out_of_the_root_is_an_error_before_the_tool_runs(project: Path) -> None:
    async with Client(build_server(Settings(root=project), [path_kit()])) as client:
        inside = await client.call_tool("demo_read", {"path": "src/main.py"})
        outside = await client.call_tool("demo_read", {"path": "../app-evil/secret.txt"})
        in_list = await client.call_tool("demo_read", {"path": "src", "more": ["src", "/etc"]})
        option = await client.call_tool("demo_read", {"path": "src", "since": "--output=/tmp/x"})

    assert not inside.is_error
    assert outside.is_error
    assert "path '../app-evil/secret.txt' is outside the root" in text_of(outside)
    assert in_list.is_error
    assert "more[1] '/etc' is outside" in text_of(in_list)
    assert option.is_error
    assert "looks like an option" in text_of(option)


@pytest.mark.anyio
async def test_the_roots_a_client_declares_narrow_what_tools_may_name(project: Path) -> None:
    declared = [(project / "src").as_uri()]
    asked: list[int] = []

    async def list_roots(context: ClientRequestContext) -> ListRootsResult:
        asked.append(1)
        return ListRootsResult(roots=[Root(uri=uri) for uri in declared])  # pyright: ignore[reportArgumentType]

    server = build_server(Settings(root=project), [path_kit()])
    # roots/list is a server-to-client request: the initialize handshake gives the back-channel it needs
    async with Client(server, list_roots_callback=list_roots, mode="legacy") as client:
        inside = await client.call_tool("demo_read", {"path": "src/main.py"})
        beside = await client.call_tool("demo_read", {"path": "link_in/../README.md"})
        again = await client.call_tool("demo_read", {"path": "src"})
        assert len(asked) == 1  # asked once per connection

        declared[:] = [project.as_uri()]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # roots are deprecated from protocol 2026-07-28 on
            await client.send_roots_list_changed()  # pyright: ignore[reportDeprecated]
        widened = await client.call_tool("demo_read", {"path": "README.md"})

    assert not inside.is_error
    assert beside.is_error
    assert "outside the allowed roots" in text_of(beside)
    assert not again.is_error
    assert not widened.is_error
    assert len(asked) == 2


@pytest.mark.anyio
async def test_a_client_that_cannot_be_asked_for_its_roots_is_held_to_the_server_root(project: Path) -> None:
    """On protocol 2026-07-28 in process there is no back-channel: the server's root alone applies."""

    async def list_roots(context: ClientRequestContext) -> ListRootsResult:
        raise AssertionError("never asked")

    async with Client(build_server(Settings(root=project), [path_kit()]), list_roots_callback=list_roots) as client:
        inside = await client.call_tool("demo_read", {"path": "README.md"})
        outside = await client.call_tool("demo_read", {"path": "/etc/passwd"})

    assert not inside.is_error
    assert outside.is_error


def test_a_program_may_be_a_link_out_of_the_root_but_must_be_named_inside_it(project: Path, tmp_path: Path) -> None:
    """A virtual environment's `bin/python` links to the Python it was made from, outside the project."""
    (project / ".venv" / "bin").mkdir(parents=True)
    (project / ".venv" / "bin" / "python").symlink_to(tmp_path / "outside" / "python3")
    roots = AllowedRoots(project)
    assert roots.resolve(".venv/bin/python", "python", follow_links=False) == project.resolve() / ".venv/bin/python"
    with pytest.raises(UsageError, match="outside the root"):
        roots.resolve(".venv/bin/python", "python")
    for escape in ("../outside/python3", "/usr/bin/python3", "/proc/self/root/usr/bin/python3"):
        with pytest.raises(UsageError, match="outside the root"):
            roots.resolve(escape, "python", follow_links=False)


@pytest.mark.anyio
async def test_a_client_that_lists_no_roots_is_held_to_the_server_root(project: Path) -> None:
    """The MCP Inspector declares the roots capability with no folder open."""

    async def no_roots(context: ClientRequestContext) -> ListRootsResult:
        return ListRootsResult(roots=[])

    server = build_server(Settings(root=project), [path_kit()])
    async with Client(server, list_roots_callback=no_roots, mode="legacy") as client:
        inside = await client.call_tool("demo_read", {"path": "src/main.py"})
        outside = await client.call_tool("demo_read", {"path": "/etc/passwd"})

    assert not inside.is_error, text_of(inside)
    assert outside.is_error
