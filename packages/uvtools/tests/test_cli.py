from __future__ import annotations

import gc
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from codegen_lab.uvtools.__main__ import main as program
from codegen_lab.uvtools.cli import cli


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_the_program_answers_with_the_collector_on_again(
    chain: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["codegen-lab-uvtools", "graph", "--root", str(chain), "--format", "json"])
    with pytest.raises(SystemExit) as ended:
        program()
    assert ended.value.code == 0
    assert json.loads(capsys.readouterr().out)["order"] == ["a", "b", "c", "d"]
    assert gc.isenabled()


def test_graph_json_is_the_contract(chain: Path) -> None:
    code, output = invoke("graph", "--root", str(chain), "--format", "json")
    assert code == 0
    data = json.loads(output)
    assert data["order"] == ["a", "b", "c", "d"]
    assert data["members"][2] == {
        "name": "c",
        "version": "0.1.0",
        "path": "packages/c",
        "dependencies": ["b"],
        "edges": [{"to": "b", "kinds": ["project"]}],
    }
    assert data["edges_from"]["from"] == "uv.lock"
    assert data["cycles"] == []


def test_graph_renders_and_answers_for_one_member(chain: Path) -> None:
    assert invoke("graph", "--root", str(chain), "--format", "mermaid")[1].startswith("graph LR")
    assert '"b" -> "a";' in invoke("graph", "--root", str(chain), "--format", "dot")[1]
    code, output = invoke("graph", "--root", str(chain), "--member", "b", "--format", "json")
    assert code == 0
    assert json.loads(output)["all_dependents"] == ["c"]


def test_affected_json_is_the_contract(chain: Path, git_repo: Callable[[Path], Path]) -> None:
    git_repo(chain)
    (chain / "packages" / "b" / "src" / "b" / "__init__.py").write_text("B = 1\n", encoding="utf-8")
    code, output = invoke("affected", "--since", "HEAD", "--root", str(chain), "--format", "json")
    assert code == 0
    assert json.loads(output) == {
        "changed": ["b"],
        "affected": ["b", "c"],
        "files": ["packages/b/src/b/__init__.py"],
        "reasons": {"b": ["packages/b/src/b/__init__.py"]},
    }
    code, output = invoke("affected", "--since", "HEAD", "--root", str(chain))
    assert "changed   b" in output
    assert "affected  c" in output
    code, output = invoke("affected", "--since", "HEAD", "--root", str(chain), "--format", "github-matrix")
    assert code == 0
    assert json.loads(output) == {
        "include": [{"member": "b", "path": "packages/b"}, {"member": "c", "path": "packages/c"}]
    }


def test_members_why_lint_and_release_plan(chain: Path) -> None:
    code, output = invoke("members", "--root", str(chain), "--format", "json")
    assert [member["name"] for member in json.loads(output)["members"]] == ["a", "b", "c", "d"]
    code, output = invoke("why", "typing-extensions", "--root", str(chain), "--format", "json")
    assert ["b", "typing-extensions"] in json.loads(output)["paths"]
    assert invoke("lint", "--root", str(chain)) == (0, "no findings\n")
    code, output = invoke("release", "plan", "--offline", "--root", str(chain), "--format", "json")
    assert json.loads(output)["unchecked"] == ["a", "b", "c", "d"]
    code, output = invoke("lock", "check", "--offline", "--root", str(chain), "--format", "json")
    assert (code, json.loads(output)["fresh"]) == (0, True)


def test_run_bump_and_add_from_the_command_line(chain: Path) -> None:
    code, output = invoke("run", "--root", str(chain), "--format", "json", "-j", "2", "--", sys.executable, "-c", "1")
    assert code == 0
    assert json.loads(output)["passed"] == ["a", "b", "c", "d"]
    code, output = invoke("run", "--root", str(chain), "--member", "d", "--", sys.executable, "-c", "exit(4)")
    assert code == 1
    assert "0 passed, 1 failed, 0 skipped" in output
    code, output = invoke("bump", "b", "minor", "--dry-run", "--root", str(chain), "--format", "json")
    assert json.loads(output)["versions"] == {"b": {"before": "0.1.0", "after": "0.2.0"}}
    code, output = invoke("add", "d", "anyio>=4", "--dry-run", "--root", str(chain), "--format", "json")
    assert json.loads(output)["command"][-2:] == ["--", "anyio>=4"]


def test_mistakes_exit_2_with_a_message(chain: Path, tmp_path: Path) -> None:
    code, output = invoke("graph", "--member", "nope", "--root", str(chain))
    assert code == 2
    assert "no workspace member is called 'nope'" in output
    empty = tmp_path / "empty"
    empty.mkdir()
    code, output = invoke("members", "--root", str(empty))
    assert code == 2
    assert "no pyproject.toml here or in any parent folder" in output


@pytest.mark.parametrize("program", ["codegen-lab", "codegen-lab-uvtools"])
def test_installed_commands_mount_ws(program: str, repository_root: Path) -> None:
    prefix = [program, "ws"] if program == "codegen-lab" else [program]
    executable = shutil.which(prefix[0], path=str(Path(sys.executable).parent))
    if executable is None:
        pytest.skip(
            f"{program} is not installed beside {sys.executable} (uvtools' tests run alone, without the server)"
        )
    completed = subprocess.run(
        [executable, *prefix[1:], "graph", "--format", "json", "--root", str(repository_root)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert "codegen-lab-uvtools" in json.loads(completed.stdout)["order"]


def test_lock_diff_hygiene_and_environment_commands(chain: Path, git_repo: Callable[[Path], Path]) -> None:
    git_repo(chain)
    pyproject = chain / "packages" / "d" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"idna>=3"', '"idna>=3", "anyio>=4"'), encoding="utf-8")
    code, output = invoke("lock", "check", "--offline", "--root", str(chain))
    assert code == 1
    assert output.startswith("stale: ")
    code, output = invoke("sync", "--member", "d", "--dry-run", "--root", str(chain))
    assert (code, output.split()[:3]) == (0, ["would", "run:", "uv"]), output
    code, output = invoke("upgrade", "idna", "--root", str(chain))  # re-locks, with d's new requirement
    assert code == 0
    code, output = invoke("lock", "diff", "HEAD", "--root", str(chain))
    assert code == 0
    assert "\nd:\n  added      anyio 4." in output
    assert "->" not in output.split("\nd:\n")[1].splitlines()[0]
    code, output = invoke(
        "deps", "check", "--member", "d", "--root", str(chain), "--format", "json", "--python", sys.executable
    )
    assert code == 1  # findings: d imports neither idna nor anyio
    assert {f["subject"] for f in json.loads(output)["findings"]} == {"idna", "anyio"}
    code, output = invoke("outdated", "--offline", "--root", str(chain))
    assert "a: not checked (offline: the index was not asked)" in output
    code, output = invoke("audit", "--offline", "--root", str(chain))
    assert output == "not checked: offline: the vulnerability service was not asked\n"
    assert code == 3  # could not check: never a silent success
    code, output = invoke("upgrade", "no-such-package", "--root", str(chain))
    assert code == 2
    assert "uv.lock holds no package called 'no-such-package'" in output
    code, output = invoke("venv", "--root", str(chain))
    assert "no virtual environment" in output
    code, output = invoke("venv", "--create", "--python", sys.executable, "--dry-run", "--root", str(chain))
    assert output.startswith("would run: uv venv --directory ")


def test_a_cycle_is_a_usage_error_naming_the_cycle(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.uv.workspace]\nmembers = ["p/*"]\n', encoding="utf-8")
    for name, needs in (("x", "y"), ("y", "x")):
        folder = tmp_path / "p" / name
        folder.mkdir(parents=True)
        (folder / "pyproject.toml").write_text(
            f'[project]\nname = "{name}"\nversion = "1"\ndependencies = ["{needs}"]\n', encoding="utf-8"
        )
    code, output = invoke("graph", "--root", str(tmp_path), "--format", "json")
    assert code == 2
    assert "members depend on each other in a cycle: x -> y -> x" in output
    code, output = invoke("graph", "--root", str(tmp_path), "--format", "dot")
    assert code == 0
    assert '"y" -> "x";' in output


def test_every_command_is_listed_and_those_of_other_modules_load_when_asked_for() -> None:
    from codegen_lab.uvtools import _cli_change, _cli_env

    everything = click.Group()
    for command in cli.commands.values():
        everything.add_command(command)
    _cli_change.register(everything)
    _cli_env.register(everything)
    context = click.Context(cli)
    assert cli.list_commands(context) == sorted(everything.commands)
    for name in cli.list_commands(context):
        command = cli.get_command(context, name)
        assert command is not None
        assert command.name == name
