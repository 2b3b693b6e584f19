from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).parent.parent / "README.md"


def test_the_readme_example_runs(repository_root: Path) -> None:
    (example,) = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    completed = subprocess.run(
        [sys.executable, "-c", example], cwd=repository_root, capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[0].startswith("order: codegen-lab-common, ")
    assert lines[1] == "codegen-lab-uvtools is needed by: codegen-lab-server"
    assert lines[2].startswith("why click: codegen-lab-")
    assert lines[2].endswith(" -> click")
    assert lines[3] == "edges from: uv.lock"
