from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).parent.parent / "README.md"


@pytest.mark.slow
def test_the_readme_example_runs(tmp_path: Path) -> None:
    example = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)[0]
    env = {"PATH": "/usr/bin:/bin", "CODEGEN_LAB_CACHE_DIR": str(tmp_path / "cache"), "HOME": str(tmp_path)}
    completed = subprocess.run(
        [sys.executable, "-c", example], cwd=tmp_path, capture_output=True, text=True, check=False, env=env
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines() == ["7 anthropic 1"]
