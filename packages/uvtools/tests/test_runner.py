from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from codegen_lab.common.results import to_json
from codegen_lab.uvtools import MemberResult, WorkspaceError, load_workspace, run_many
from codegen_lab.uvtools.cli import cli

# Appends the member's name to a shared file, then fails when the member's folder holds a file named FAIL.
RECORD = "import os, pathlib, sys; {path!r} and open({path!r}, 'a').write(os.environ['UVTOOLS_MEMBER'] + '\\n'); "
RECORD += "print('hello from', os.environ['UVTOOLS_MEMBER']); sys.exit(3 if pathlib.Path('FAIL').exists() else 0)"


def command(record: Path) -> list[str]:
    return [sys.executable, "-c", RECORD.format(path=str(record))]


def test_members_run_dependency_first_in_their_folders(chain: Path, tmp_path: Path) -> None:
    record = tmp_path / "order.txt"
    seen: list[MemberResult] = []
    summary = run_many(load_workspace(chain), command(record), log_dir=tmp_path / "logs", on_done=seen.append)
    assert summary.ok
    assert record.read_text().split() == ["a", "b", "c", "d"]
    assert [result.member for result in seen] == ["a", "b", "c", "d"]
    assert (tmp_path / "logs" / "c.log").read_text() == "hello from c\n"
    data = to_json(summary)
    assert data["passed"] == ["a", "b", "c", "d"]
    assert data["failed"] == data["skipped"] == []
    assert data["order"] == ["a", "b", "c", "d"]


def test_parallel_runs_keep_dependencies_first(chain: Path, tmp_path: Path) -> None:
    record = tmp_path / "order.txt"
    summary = run_many(load_workspace(chain), command(record), jobs=3)
    assert summary.ok
    order = record.read_text().split()
    assert sorted(order) == ["a", "b", "c", "d"]
    assert order.index("a") < order.index("b") < order.index("c")


def test_a_failure_stops_the_run(chain: Path, tmp_path: Path) -> None:
    (chain / "packages" / "a" / "FAIL").touch()
    record = tmp_path / "order.txt"
    summary = run_many(load_workspace(chain), command(record))
    assert not summary.ok
    assert record.read_text().split() == ["a"]
    data = to_json(summary)
    assert data["failed"] == ["a"]
    assert data["skipped"] == ["b", "c", "d"]
    assert data["results"][0]["returncode"] == 3


def test_keep_going_runs_what_does_not_depend_on_the_failure(chain: Path, tmp_path: Path) -> None:
    (chain / "packages" / "b" / "FAIL").touch()
    record = tmp_path / "order.txt"
    summary = run_many(load_workspace(chain), command(record), keep_going=True, jobs=2)
    data = to_json(summary)
    assert sorted(record.read_text().split()) == ["a", "b", "d"]
    assert data["failed"] == ["b"]
    assert data["skipped"] == ["c"]
    (skipped,) = [result for result in summary.results if result.member == "c"]
    assert skipped.reason == "a dependency did not pass: b"


def test_a_selection_and_a_dry_run(chain: Path, tmp_path: Path) -> None:
    record = tmp_path / "order.txt"
    plan = run_many(load_workspace(chain), command(record), members=["c", "A"], apply=False)
    assert plan.order == ["a", "c"]
    assert plan.results == []
    assert not record.exists()
    assert to_json(plan)["applied"] is False


def test_a_missing_program_fails_its_member_not_the_run(chain: Path) -> None:
    summary = run_many(load_workspace(chain), ["definitely-not-a-program-uvtools"], members=["d"])
    (result,) = summary.results
    assert (result.status, result.returncode) == ("failed", 127)


@pytest.mark.parametrize(("arguments", "message"), [({"command": []}, "empty"), ({"jobs": 0}, "at least 1")])
def test_bad_arguments(chain: Path, arguments: dict[str, object], message: str) -> None:
    options: dict[str, object] = {"command": ["true"], **arguments}
    with pytest.raises(WorkspaceError, match=message):
        run_many(load_workspace(chain), **options)  # pyright: ignore[reportArgumentType]


def test_isolated_runs_each_member_in_an_environment_of_its_own(chain: Path) -> None:
    workspace = load_workspace(chain)
    probe = ["python", "-c", "import anyio"]
    summary = run_many(workspace, probe, members=["a", "d"], isolated=True, keep_going=True)
    status = {result.member: result.status for result in summary.results}
    assert status == {"a": "passed", "d": "failed"}  # d does not declare anyio: alone, it does not have it
    with pytest.raises(WorkspaceError, match="one at a time"):
        run_many(workspace, probe, isolated=True, jobs=2)


def test_graph_on_a_single_project_says_so(tmp_path: Path, h: SimpleNamespace) -> None:
    h.write(tmp_path / "pyproject.toml", h.project("solo"))
    outcome = CliRunner().invoke(cli, ["graph", "--root", str(tmp_path)])
    assert outcome.exit_code == 0
    assert outcome.stdout == "solo\n"
    assert "is a single project, not a uv workspace" in outcome.stderr
