from __future__ import annotations

import json
from pathlib import Path

from codegen_lab.testgen import last_reports, save_report
from codegen_lab.testgen._models import CoverageReport, FileCoverage, Mutant, MutationReport


def _coverage() -> CoverageReport:
    measured = FileCoverage(
        path="pkg/mod.py",
        statements=3,
        covered_lines=2,
        missing_lines=[4],
        executed_lines=[1, 2],
        branches=0,
        covered_branches=0,
        missing_branches=[],
        percent=66.7,
    )
    return CoverageReport(files=[measured], percent=66.7, line_percent=66.7)


def test_the_latest_report_of_each_kind_and_target_is_kept_with_the_executed_lines(tmp_path: Path) -> None:
    state = tmp_path / "state"
    project = tmp_path / "project"
    project.mkdir()
    mutation = MutationReport(
        target="pkg.mod",
        engine="builtin",
        mutants=[Mutant(line=2, change="+ -> -", killed=False)],
        killed=0,
        survived=1,
        score=0.0,
        isolation="none",
        seconds=1.0,
    )
    assert save_report(mutation, root=project, state_dir=state) is not None
    assert save_report(_coverage(), root=project, state_dir=state) is not None
    save_report(_coverage(), root=project, state_dir=state)  # the same kind and target: replaced
    reports = last_reports(project, state_dir=state)
    assert [entry["kind"] for entry in reports] == ["coverage", "mutate"]
    assert reports[0]["report"]["files"][0]["executed_lines"] == [1, 2]
    assert last_reports(project, state_dir=state, kind="mutate")[0]["report"]["mutants"][0]["line"] == 2
    assert last_reports(tmp_path, state_dir=state) == []  # another project's


def test_an_unreadable_report_is_skipped_and_an_unwritable_folder_does_not_fail(tmp_path: Path) -> None:
    state = tmp_path / "state"
    written = save_report(_coverage(), root=tmp_path, state_dir=state)
    assert written is not None
    (written.parent / "coverage--broken.json").write_text("{", encoding="utf-8")
    assert len(last_reports(tmp_path, state_dir=state)) == 1
    blocked = tmp_path / "file"
    blocked.write_text("", encoding="utf-8")
    assert save_report(_coverage(), root=tmp_path, state_dir=blocked) is None
    assert json.loads(written.read_text(encoding="utf-8"))["kind"] == "coverage"
