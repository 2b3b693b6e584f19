from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).parent.parent / "README.md"


@pytest.mark.slow
def test_the_readme_example_runs(tmp_path: Path) -> None:
    (example,) = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    tmp_path.chmod(0o755)  # the sandbox's uid reads the project
    # the example's budget holds on a quiet machine; the final check may take longer on a loaded one
    example = example.replace("budget=30)", "budget=30, min_run_seconds=120)")
    assert "min_run_seconds=120" in example
    completed = subprocess.run(
        [sys.executable, "-c", example], cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False
    )
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert lines == [
        "['test_price_of_zero_is_zero', 'test_price_of_1_is_1_0', 'test_price_of_100_and_101_raises_value_error']",
        "kept 3 tests; 100.0% of lines",
        "3 passed, 0 failed",
        lines[3],
    ]
    assert lines[3] in {"isolation: bubblewrap", "isolation: namespaces", "isolation: uid"}
