from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from codegen_lab.uvtools import WorkspaceError, load_workspace
from codegen_lab.uvtools._select import select_members
from codegen_lab.uvtools.cli import cli


def test_filters_choose_as_pnpm_does(chain: Path) -> None:
    workspace = load_workspace(chain)
    assert select_members(workspace, []) is None
    assert select_members(workspace, ["b"]) == ["b"]
    assert select_members(workspace, ["B"]) == ["b"]
    assert select_members(workspace, ["[ab]"]) == ["a", "b"]
    assert select_members(workspace, ["a..."]) == ["a", "b", "c"]
    assert select_members(workspace, ["...c"]) == ["a", "b", "c"]
    assert select_members(workspace, ["...b..."]) == ["a", "b", "c"]
    assert select_members(workspace, ["d", "...b"]) == ["a", "b", "d"]
    assert select_members(workspace, ["./packages/c"], cwd=chain) == ["c"]
    assert select_members(workspace, ["{./packages}"], cwd=chain) == ["a", "b", "c", "d"]
    assert select_members(workspace, ["."], cwd=chain / "packages" / "d") == ["d"]
    assert select_members(workspace, ["./packages/b..."], cwd=chain) == ["b", "c"]
    with pytest.raises(WorkspaceError, match="--member 'zz\\*' chooses no member"):
        select_members(workspace, ["zz*"])


def test_every_multi_member_command_takes_the_filters(chain: Path) -> None:
    runner = CliRunner()
    outcome = runner.invoke(cli, ["run", "--dry-run", "--member", "a...", "--root", str(chain), "--", "true"])
    assert outcome.exit_code == 0, outcome.output
    assert "would run in order: a, b, c" in outcome.stdout
    outcome = runner.invoke(
        cli, ["outdated", "--offline", "--member", "...b", "--root", str(chain), "--format", "json"]
    )
    assert outcome.exit_code == 0, outcome.output
    assert sorted(json.loads(outcome.stdout)["unchecked"]) == ["a", "b"]
    outcome = runner.invoke(cli, ["run", "--dry-run", "--member", "nope", "--root", str(chain), "--", "true"])
    assert outcome.exit_code == 2
    assert "no workspace member is called 'nope'" in outcome.output
