"""The `codegen-lab-rules-lint` hook that .pre-commit-hooks.yaml offers works from another repository."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.packaging, pytest.mark.slow]

ROOT = Path(__file__).parent.parent


def test_the_hook_lints_another_repository(tmp_path: Path) -> None:
    repo = tmp_path / "project"
    rules = repo / ".cursor" / "rules"
    rules.mkdir(parents=True)
    (rules / "bad.mdc").write_text('---\nalwaysApply: "true"\n---\nx\n', encoding="utf-8")
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "cache"),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    env.pop("VIRTUAL_ENV", None)

    # What `pre-commit try-repo` does, done once: a clone of this checkout with its uncommitted changes committed.
    # A config naming that commit (as a user's names a tag) lets the second run reuse the hook's environment, where
    # two `try-repo` runs would each commit anew and build the environment twice.
    shadow = tmp_path / "shadow"
    git = ["git", f"--git-dir={shadow / '.git'}", f"--work-tree={ROOT}"]
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(ROOT), str(shadow)], env=env, check=True, timeout=120)
    subprocess.run([*git, "add", "-A"], env=env, check=True, timeout=120)
    subprocess.run([*git, "commit", "-qm", "the checkout as it is", "--allow-empty"], env=env, check=True, timeout=60)
    rev = subprocess.run([*git, "rev-parse", "HEAD"], env=env, check=True, capture_output=True, text=True).stdout
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {shadow}\n    rev: {rev.strip()}\n    hooks:\n      - id: codegen-lab-rules-lint\n",
        encoding="utf-8",
    )
    for command in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "rules"]):
        subprocess.run(command, cwd=repo, env=env, check=True, timeout=60)

    def hook() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "run", "codegen-lab-rules-lint", "--all-files"],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    completed = hook()
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert ".cursor/rules/bad.mdc:2: error RE004" in completed.stdout
    (rules / "bad.mdc").write_text("---\nalwaysApply: true\n---\nx\n", encoding="utf-8")
    completed = hook()
    assert completed.returncode == 0, completed.stdout + completed.stderr
