from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import anyio

from codegen_lab.common import load_settings
from codegen_lab.server import create_server

README = Path(__file__).parent.parent / "README.md"


def test_the_readme_example_runs(tmp_path: Path) -> None:
    (example,) = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    completed = subprocess.run(
        [sys.executable, "-c", example], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stderr
    printed = ast.literal_eval(completed.stdout.strip())
    served = [tool.name for tool in anyio.run(create_server(load_settings(tmp_path)).list_tools)]
    assert printed[0] == "server_info"
    assert printed == served
