from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from codegen_lab.rule_engine.cli import cli

MakeRepo = Callable[[dict[str, str]], Path]

REPO = {
    ".cursor/rules/python.mdc": "---\ndescription: Python\nglobs: **/*.py\nowner: me\n---\nTyped.\n",
    ".cursor/rules/bad.mdc": '---\nalwaysApply: "true"\n---\nBad.\n',
    "src/app.py": "",
}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_show_contract(make_repo: MakeRepo) -> None:
    root = make_repo(REPO)
    code, out, _ = run("show", ".cursor/rules/python.mdc", "--root", str(root), "--format", "json")
    assert code == 0
    shown = json.loads(out)
    assert {key: shown[key] for key in ("path", "format", "type", "description", "globs", "always_apply")} == {
        "path": ".cursor/rules/python.mdc",
        "format": "cursor-mdc",
        "type": "auto_attached",
        "description": "Python",
        "globs": ["**/*.py"],
        "always_apply": False,
    }
    assert shown["parse_mode"] == "tolerant"
    assert shown["unknown_keys"] == {"owner": "me"}
    assert {"code", "severity", "line", "message"} <= set(shown["diagnostics"][0])


def test_which_contract_with_relative_and_absolute_paths(make_repo: MakeRepo) -> None:
    root = make_repo(REPO)
    for path in ("src/app.py", str(root / "src" / "app.py")):
        code, out, _ = run("which", path, "--root", str(root), "--format", "json")
        assert code == 0
        answer = json.loads(out)
        assert answer["path"] == "src/app.py"
        assert answer["attached"] == [
            {
                "rule": ".cursor/rules/python.mdc",
                "type": "auto_attached",
                "reason": "pattern **/*.py matches",
                "pattern": "**/*.py",
            }
        ]
        assert answer["not_attached"] == [
            {"rule": ".cursor/rules/bad.mdc", "reason": "manual: attached only when mentioned as @bad"}
        ]


def test_which_refuses_a_path_outside_the_root_with_exit_code_2(make_repo: MakeRepo) -> None:
    code, _, err = run("which", "../x.py", "--root", str(make_repo(REPO)))
    assert code == 2
    assert "outside the root" in err


def test_lint_exit_codes_and_formats(make_repo: MakeRepo) -> None:
    root = make_repo(REPO)
    code, out, _ = run("lint", "--root", str(root), "--format", "json")
    assert code == 1
    report = json.loads(out)
    assert report["summary"]["errors"] == 1
    assert report["summary"]["files"] == 2
    code, out, _ = run("lint", "--root", str(root), "--format", "sarif")
    sarif = json.loads(out)
    assert sarif["version"] == "2.1.0"
    result = next(r for r in sarif["runs"][0]["results"] if r["ruleId"] == "RE004")
    assert result["level"] == "error"
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == ".cursor/rules/bad.mdc"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    (root / ".cursor/rules/bad.mdc").unlink()
    code, out, _ = run("lint", "--root", str(root))
    assert code == 0
    assert "1 rule files: 0 errors" in out


def test_lint_of_an_explicit_folder_reads_every_rule_file_wherever_it_sits(make_repo: MakeRepo) -> None:
    root = make_repo(
        {"collection/python/rule.mdc": "---\nglobs: '*.py'\n---\nx\n", "collection/js/.cursorrules": "y\n"}
    )
    code, out, _ = run("lint", str(root / "collection"), "--root", str(root), "--format", "json")
    assert code == 0
    assert json.loads(out)["summary"]["files"] == 2


def test_lint_fix_then_revert(make_repo: MakeRepo) -> None:
    root = make_repo(REPO)
    path = root / ".cursor/rules/bad.mdc"
    before = path.read_text(encoding="utf-8")
    code, _, _ = run("lint", "--fix", "--root", str(root))
    assert code == 0
    assert "alwaysApply: true\n" in path.read_text(encoding="utf-8")
    code, out, _ = run("revert", "--root", str(root))
    assert (code, out) == (0, "restored .cursor/rules/bad.mdc\n")
    assert path.read_text(encoding="utf-8") == before
    code, _, err = run("revert", "--root", str(root))
    assert code == 2
    assert "nothing to revert" in err


def test_list_and_render(make_repo: MakeRepo) -> None:
    root = make_repo(REPO)
    code, out, _ = run("list", "--root", str(root), "--format", "json")
    assert code == 0
    assert [rule["path"] for rule in json.loads(out)["rules"]] == [".cursor/rules/bad.mdc", ".cursor/rules/python.mdc"]
    code, out, _ = run("render", "src/app.py", "--root", str(root), "--format", "json")
    assert code == 0
    rendered = json.loads(out)
    assert rendered["rules"] == [".cursor/rules/python.mdc"]
    assert "Typed." in rendered["text"]


@pytest.mark.parametrize("mode", [[], ["--poll"]], ids=["events", "poll"])
def test_watch_lints_again_when_a_rule_changes(make_repo: MakeRepo, mode: list[str]) -> None:
    import subprocess
    import sys

    root = make_repo(REPO)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "codegen_lab.rule_engine.cli",
            "watch",
            "--root",
            str(root),
            "--format",
            "json",
            "--interval",
            "0.1",
            "--max-runs",
            "2",
            *mode,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    try:
        first = json.loads(process.stdout.readline())
        assert first["run"] == 1
        assert first["summary"]["errors"] == 1
        (root / ".cursor/rules/bad.mdc").write_text("---\nalwaysApply: true\n---\nFixed.\n", encoding="utf-8")
        second = json.loads(process.stdout.readline())
        assert second["run"] == 2
        assert second["changed"] == [".cursor/rules/bad.mdc"]
        assert second["summary"]["errors"] == 0
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def test_lint_of_one_rule_file_checks_its_globs_against_the_whole_repository(make_repo: MakeRepo) -> None:
    root = make_repo({".cursor/rules/py.mdc": "---\nglobs: **/*.py\n---\npy\n", "src/deep/app.py": "", "b.py": ""})
    code, out, _ = run("lint", str(root / ".cursor/rules/py.mdc"), "--root", str(root), "--format", "json")
    assert code == 0
    assert [d["code"] for d in json.loads(out)["diagnostics"]] == ["RE003"]
    code, out, _ = run("lint", str(root / ".cursor/rules"), "--root", str(root), "--format", "json")
    assert "RE008" not in [d["code"] for d in json.loads(out)["diagnostics"]]


def test_one_revert_takes_back_every_file_one_lint_fix_wrote(make_repo: MakeRepo) -> None:
    files = {f".cursor/rules/r{n}.mdc": f'---\nalwaysApply: "true"\n---\nrule {n}\u200b\n' for n in range(3)}
    root = make_repo(files)
    code, _, _ = run("lint", "--fix", "--root", str(root))
    assert code == 0
    assert all((root / relpath).read_text(encoding="utf-8") != text for relpath, text in files.items())
    code, out, _ = run("revert", "--root", str(root))
    assert (code, out.splitlines()) == (0, [f"restored {relpath}" for relpath in files])
    assert all((root / relpath).read_text(encoding="utf-8") == text for relpath, text in files.items())
    code, _, _ = run("lint", "--fix", str(root / ".cursor/rules/r0.mdc"), str(root / ".cursor/rules/r1.mdc"))
    assert code == 0
    code, out, _ = run("revert", "--root", str(root))
    assert out.splitlines() == ["restored .cursor/rules/r0.mdc", "restored .cursor/rules/r1.mdc"]


def test_sarif_gives_the_line_of_a_dead_glob(make_repo: MakeRepo) -> None:
    root = make_repo({".cursor/rules/r.mdc": "---\ndescription: d\nglobs: src/**/*.rs\n---\nx\n", "a.py": ""})
    code, out, _ = run("lint", "--root", str(root), "--format", "sarif")
    assert code == 0
    result = next(r for r in json.loads(out)["runs"][0]["results"] if r["ruleId"] == "RE008")
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 3}


def test_show_refuses_a_file_that_is_no_rule(make_repo: MakeRepo) -> None:
    root = make_repo({"README.md": "# Hello\n", "notes/x.mdc": "---\nglobs: a\n---\nx\n"})
    result = CliRunner().invoke(cli, ["show", "README.md", "--root", str(root)])
    assert result.exit_code == 2
    assert "is not a rule file of any assistant" in result.output
    code, out, _ = run("show", "notes/x.mdc", "--root", str(root), "--format", "json")
    assert (code, json.loads(out)["format"]) == (0, "cursor-mdc")


def test_format_help_names_only_the_formats_there_are() -> None:
    for command, formats in (("list", "json for programs."), ("lint", "sarif (SARIF 2.1.0)")):
        code, out, _ = run(command, "--help")
        assert code == 0
        assert formats in " ".join(out.split())
        assert "other formats" not in out
