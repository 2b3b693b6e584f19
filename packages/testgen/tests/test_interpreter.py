from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from codegen_lab.testgen import MissingToolsError, TestgenUsageError
from codegen_lab.testgen._interpreter import probe_python


def test_this_environment_has_every_tool() -> None:
    target = probe_python(sys.executable)
    assert target.missing == []
    assert target.version[:2] == sys.version_info[:2]
    target.require()


def test_a_bare_environment_gets_the_exact_install_command(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")], check=True, timeout=120)
    python = tmp_path / "bare" / "bin" / "python"
    target = probe_python(python)
    assert target.missing == ["pytest", "coverage", "hypothesis"]
    with pytest.raises(MissingToolsError) as caught:
        target.require("pytest", "coverage")
    assert caught.value.command == f"uv pip install --python {python} pytest coverage"
    assert str(caught.value).endswith(f"Install them there with: uv pip install --python {python} pytest coverage")


def test_a_file_that_is_not_python(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho hello\n", encoding="utf-8")
    fake.chmod(0o755)
    with pytest.raises(TestgenUsageError, match=r"--python .*python: not a working Python 3 interpreter"):
        probe_python(fake)
    with pytest.raises(TestgenUsageError, match="no such file"):
        probe_python(tmp_path / "missing")
