"""`scripts/test-each`: choosing members with `--only`, and a one-line error for a name that is no member."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "test-each"


def _script() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("test_each_script", str(SCRIPT))
    spec = importlib.util.spec_from_loader("test_each_script", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_only_accepts_folder_short_name_and_distribution() -> None:
    script = _script()
    members = ["packages/common", "packages/uvtools", "apps/server"]
    projects = {member: script.project(member) for member in members}
    chosen = script.chosen(projects, ["uvtools", "codegen-lab-server", "packages/uvtools/"])
    assert chosen == ["packages/uvtools", "apps/server"]
    assert script.chosen(projects, []) == members


def test_options_are_split_from_pytest_arguments() -> None:
    script = _script()
    assert script.split(["--only", "llm", "-m", "not slow", "--only=common", "--no-coverage"]) == (
        False,
        ["llm", "common"],
        ["-m", "not slow"],
    )
    assert script.split(["--only"]) == "test-each: --only needs a member name"


def test_unknown_member_is_a_one_line_error_before_anything_runs() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--only", "no-such-member"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert done.stdout == ""
    members = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["uv"]["workspace"]["members"]
    message = f"test-each: --only no-such-member: no such member (members: {', '.join(members)})"
    assert done.stderr.strip().splitlines() == [message]
