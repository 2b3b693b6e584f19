"""Every place that checks that a path stays inside the root does it with the one guard, with the same verdicts."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from codegen_lab.common import UsageError
from codegen_lab.common.files import ChangeSet
from codegen_lab.common.testing import hostile_project
from codegen_lab.rule_engine import resolve_inside
from codegen_lab.rule_engine.errors import RuleEngineUsageError
from codegen_lab.testgen._paths import inside_root  # pyright: ignore[reportPrivateUsage]
from codegen_lab.testgen.errors import TestgenUsageError


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return hostile_project(tmp_path).resolve()


def journal_write(root: Path, path: str) -> None:
    with ChangeSet(root, "guard test", state_dir=root.parent / "state") as change:
        change.write(root / path, "changed\n")


CHECKS: dict[str, tuple[Callable[[Path, str], object], type[UsageError]]] = {
    "rule engine": (resolve_inside, RuleEngineUsageError),
    "testgen": (lambda root, path: inside_root(root, path, "path", must_exist=False), TestgenUsageError),
    "journal": (journal_write, UsageError),
}


@pytest.mark.parametrize("check", sorted(CHECKS))
@pytest.mark.parametrize("path", ["../outside/secret.txt", "src/../../outside/secret.txt", "link_out/secret.txt"])
def test_every_check_refuses_the_same_escapes_in_the_same_words(project: Path, check: str, path: str) -> None:
    run, error = CHECKS[check]
    with pytest.raises(error, match=rf"^path '.*' is outside the root {re.escape(str(project))}"):
        run(project, path)
    assert (project.parent / "outside" / "secret.txt").read_text(encoding="utf-8") == "secret\n"


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_every_check_refuses_a_loop_of_links(project: Path, check: str) -> None:
    run, error = CHECKS[check]
    with pytest.raises(error, match="cannot be resolved: a symbolic link on the way loops"):
        run(project, "loop/x.py")
