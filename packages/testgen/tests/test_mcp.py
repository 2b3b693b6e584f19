from __future__ import annotations

import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from codegen_lab.common import Settings
from codegen_lab.mcp_core import ServerContext, build_server
from codegen_lab.testgen.mcp import create_toolkit

pytestmark = pytest.mark.anyio


def test_the_toolkit_is_registered_under_its_entry_point() -> None:
    (point,) = [point for point in entry_points(group="codegen_lab.toolkits") if point.name == "testgen"]
    assert point.load() is create_toolkit


def venv_link(root: Path) -> str:
    """A virtual environment inside the root, as a project has one (here: a link to this environment)."""
    (root / ".venv").symlink_to(sys.prefix, target_is_directory=True)
    return ".venv/bin/python"


@pytest.mark.slow
async def test_run_and_coverage_through_the_composed_server(calc_project: Path) -> None:
    settings = Settings(root=calc_project)
    python = venv_link(calc_project)
    async with Client(build_server(settings, [create_toolkit(ServerContext(settings))])) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        run = await client.call_tool("testgen_run", {"paths": ["tests"], "python": python})
        coverage = await client.call_tool(
            "testgen_coverage", {"paths": ["tests"], "python": python, "html_dir": "htmlcov", "diff_ref": "HEAD"}
        )
    assert {"testgen_generate", "testgen_run", "testgen_coverage", "testgen_bench"} <= tools
    result: dict[str, Any] = run.structured_content or {}
    assert (result["passed"], result["failed"], result["skipped"]) == (1, 1, 1)
    report: dict[str, Any] = coverage.structured_content or {}
    assert report["files"][0]["path"] == "calc.py"
    assert report["html"] == str(calc_project / "htmlcov")
    assert report["diff"]["ref"] == "HEAD"


@pytest.mark.slow
async def test_generate_reports_progress_and_writes_only_where_asked(calc_project: Path) -> None:
    settings = Settings(root=calc_project)
    python = venv_link(calc_project)
    progress: list[tuple[float, float | None, str | None]] = []

    record = progress.append

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        record((progress, total, message))  # the SDK's callback protocol names its first parameter `progress`

    async with Client(build_server(settings, [create_toolkit(ServerContext(settings))])) as client:
        result = await client.call_tool(
            "testgen_generate",
            {"target": "calc.py", "python": python, "budget": 60, "out": "generated"},
            progress_callback=on_progress,
        )
    report: dict[str, Any] = result.structured_content or {}
    assert not result.is_error, result.content
    assert report["test_file"] == str(calc_project / "generated" / "test_calc_generated.py")
    assert Path(report["test_file"]).read_text(encoding="utf-8") == report["code"]
    assert progress
    assert progress[0][1] == 60
    assert progress[-1][2] is not None
    assert progress[-1][2].endswith("tests kept")


async def test_bench_times_the_chosen_functions_and_writes_only_where_asked(
    calc_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codegen_lab.common.files import recent_changes

    monkeypatch.setenv("CODEGEN_LAB_STATE_DIR", str(tmp_path / "environment-state"))
    settings = Settings(root=calc_project, state_dir=tmp_path / "server-state")  # the server's, passed down
    python = venv_link(calc_project)
    async with Client(build_server(settings, [create_toolkit(ServerContext(settings))])) as client:
        result = await client.call_tool(
            "testgen_bench",
            {"target": "calc.py", "functions": ["sign"], "python": python, "max_time": 0.05, "out": "perf"},
        )
    report: dict[str, Any] = result.structured_content or {}
    assert not result.is_error, result.content
    assert [timing["function"] for timing in report["timings"]] == ["sign"]
    assert report["timings"][0]["rounds"] >= 5
    assert Path(report["test_file"]) == calc_project / "perf" / "test_calc_benchmarks.py"
    purposes = [change.purpose for change in recent_changes(calc_project, state_dir=tmp_path / "server-state")]
    assert purposes == ["testgen bench calc"]
    assert recent_changes(calc_project, state_dir=tmp_path / "environment-state") == []


async def test_paths_and_interpreters_outside_the_root_are_refused(calc_project: Path) -> None:
    settings = Settings(root=calc_project)
    async with Client(build_server(settings, [create_toolkit(ServerContext(settings))])) as client:
        outside = await client.call_tool("testgen_generate", {"target": "calc.py", "out": "../elsewhere"})
        python = await client.call_tool("testgen_run", {"paths": ["tests"], "python": sys.executable})
        tests = await client.call_tool("testgen_run", {"paths": ["/etc/passwd"]})
    assert outside.is_error
    assert "out '../elsewhere' is outside the root" in outside.content[0].text  # type: ignore[union-attr]
    assert python.is_error
    assert "is outside the root" in python.content[0].text  # type: ignore[union-attr]
    assert tests.is_error
    assert "'/etc/passwd' is outside the root" in tests.content[0].text  # type: ignore[union-attr]
