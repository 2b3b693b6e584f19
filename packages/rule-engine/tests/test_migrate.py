from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from codegen_lab.common.files import recent_changes
from codegen_lab.common.results import to_json
from codegen_lab.rule_engine import RuleEngine, RuleEngineUsageError, RuleType, revert_last
from codegen_lab.rule_engine._migrate import TARGETS, plan_migration
from codegen_lab.rule_engine.cli import cli

MakeRepo = Callable[[dict[str, str]], Path]

CURSOR = {
    ".cursor/rules/core.mdc": "---\nalwaysApply: true\n---\nBe brief.\n",
    ".cursor/rules/python.mdc": (
        "---\ndescription: Python style\nglobs: **/*.py,!tests/**\nalwaysApply: false\n---\nTyped.\n"
    ),
    ".cursor/rules/migrations.mdc": "---\ndescription: 'Database migrations: how to write them'\n---\nUse alembic.\n",
    ".cursor/rules/release.mdc": "---\nalwaysApply: false\n---\nRelease steps.\n",
    "src/app.py": "",
}


def meaning(engine: RuleEngine) -> set[tuple[str, str, tuple[str, ...], str | None, str]]:
    return {(rule.name, str(rule.type), rule.globs, rule.description, rule.body.strip()) for rule in engine.rules}


@pytest.mark.parametrize("target", ["windsurf", "kiro", "cursor-rule-md"])
def test_a_target_that_can_express_every_type_round_trips(make_repo: MakeRepo, target: str) -> None:
    root = make_repo(CURSOR)
    before = meaning(RuleEngine.load(root))
    plan = plan_migration(RuleEngine.load(root), target, remove_sources=True)
    assert plan.losses == []
    plan.apply()
    there = RuleEngine.load(root)
    assert {rule.format for rule in there.rules} != {"cursor-mdc"}
    assert meaning(there) == before
    plan_migration(there, "cursor", remove_sources=True).apply()
    back = RuleEngine.load(root)
    assert {rule.format for rule in back.rules} == {"cursor-mdc"}
    assert meaning(back) == before


@pytest.mark.parametrize("target", ["claude", "copilot", "cline"])
def test_globbed_and_always_rules_round_trip_and_the_rest_is_reported(make_repo: MakeRepo, target: str) -> None:
    root = make_repo(CURSOR)
    before = {m for m in meaning(RuleEngine.load(root)) if m[1] in {"always", "auto_attached"} and m[0] != "core"}
    plan = plan_migration(RuleEngine.load(root), target, remove_sources=True)
    lost = {loss.rule for loss in plan.losses}
    assert {".cursor/rules/migrations.mdc", ".cursor/rules/release.mdc"} <= lost
    plan.apply()
    plan_migration(RuleEngine.load(root), "cursor", remove_sources=True).apply()
    after = meaning(RuleEngine.load(root))
    assert before <= after


def test_cursorrules_to_mdc_nested_agents_and_the_dry_run_writes_nothing(make_repo: MakeRepo) -> None:
    root = make_repo(
        {".cursorrules": "Legacy rules.\n", "api/.cursor/rules/api.mdc": "---\nglobs: '*.py'\n---\nAPI.\n"}
    )
    plan = plan_migration(RuleEngine.load(root), "cursor", sources=["cursorrules"])
    assert [planned.path for planned in plan.files] == [".cursor/rules/cursorrules.mdc"]
    assert plan.files[0].text == "---\nalwaysApply: true\n---\nLegacy rules.\n"
    assert "+++ b/.cursor/rules/cursorrules.mdc" in plan.diff()
    assert not (root / ".cursor" / "rules").exists()
    agents = plan_migration(RuleEngine.load(root), "agents-md")
    assert {planned.path for planned in agents.files} == {"AGENTS.md", "api/AGENTS.md"}


def test_write_is_atomic_and_revert_restores_everything(make_repo: MakeRepo) -> None:
    root = make_repo(CURSOR | {"AGENTS.md": "# Team notes\n"})
    originals = {path: path.read_bytes() for path in root.rglob("*") if path.is_file()}
    written = plan_migration(RuleEngine.load(root), "agents-md", remove_sources=True).apply()
    assert "AGENTS.md" in written
    agents = (root / "AGENTS.md").read_text(encoding="utf-8")
    assert agents.startswith("# Team notes\n\n## core\n\nBe brief.\n")
    assert not (root / ".cursor/rules/core.mdc").exists()
    revert_last(root)
    assert {path: path.read_bytes() for path in root.rglob("*") if path.is_file()} == originals


def test_a_migration_is_one_journaled_change_and_an_edit_since_stops_its_revert(make_repo: MakeRepo) -> None:
    root = make_repo(CURSOR)
    plan_migration(RuleEngine.load(root), "agents-md", remove_sources=True).apply()
    [change] = recent_changes(root)
    assert change.purpose == "migrate to agents-md"
    assert {(item.path, item.action) for item in change.files} >= {
        ("AGENTS.md", "write"),
        (".cursor/rules/core.mdc", "remove"),
    }
    (root / "AGENTS.md").write_text("edited by hand\n", encoding="utf-8")
    with pytest.raises(RuleEngineUsageError, match=r"AGENTS\.md changed since migrate to agents-md"):
        revert_last(root)
    assert (root / "AGENTS.md").read_text(encoding="utf-8") == "edited by hand\n"
    assert not (root / ".cursor/rules/core.mdc").exists()


def test_existing_files_are_never_clobbered(make_repo: MakeRepo) -> None:
    root = make_repo(CURSOR | {".windsurf/rules/python.md": "mine\n"})
    plan = plan_migration(RuleEngine.load(root), "windsurf")
    assert ".windsurf/rules/python-2.md" in [planned.path for planned in plan.files]
    plan.apply()
    assert (root / ".windsurf/rules/python.md").read_text(encoding="utf-8") == "mine\n"


def test_unknown_targets_and_nothing_to_do_are_usage_errors(make_repo: MakeRepo) -> None:
    engine = RuleEngine.load(make_repo(CURSOR))
    with pytest.raises(RuleEngineUsageError, match="unknown target format 'vim'"):
        plan_migration(engine, "vim")
    with pytest.raises(RuleEngineUsageError, match="no rule to migrate"):
        plan_migration(engine, "cursor")
    assert set(TARGETS) == {
        "cursor",
        "cursor-rule-md",
        "agents-md",
        "claude",
        "copilot",
        "windsurf",
        "kiro",
        "cline",
        "codex",
        "opencode",
        "gemini",
        "roo",
        "zed",
        "junie",
        "continue",
    }


def test_the_cli_shows_a_diff_then_writes_then_reverts(make_repo: MakeRepo) -> None:
    root = make_repo(CURSOR)
    runner = CliRunner()
    dry = runner.invoke(cli, ["migrate", "--to", "kiro", "--root", str(root)])
    assert dry.exit_code == 0
    assert "+++ b/.kiro/steering/python.md" in dry.stdout
    assert not (root / ".kiro").exists()
    wrote = runner.invoke(cli, ["migrate", "--to", "kiro", "--write", "--root", str(root)])
    assert wrote.exit_code == 0
    assert (root / ".kiro/steering/python.md").read_text(encoding="utf-8").startswith("---\ninclusion: fileMatch\n")
    assert next(r for r in RuleEngine.load(root).rules if r.relpath == ".kiro/steering/python.md").type is (
        RuleType.AUTO_ATTACHED
    )
    assert runner.invoke(cli, ["revert", "--root", str(root)]).exit_code == 0
    assert not (root / ".kiro/steering/python.md").exists()


def test_a_written_migration_reports_what_it_changed_in_json(make_repo: MakeRepo) -> None:
    root = make_repo(CURSOR)
    command = ["migrate", "--to", "agents-md", "--write", "--remove-sources", "--format", "json", "--root", str(root)]
    wrote = CliRunner().invoke(cli, command)
    assert wrote.exit_code == 0, wrote.output
    report = json.loads(wrote.stdout)
    assert report["written"][0] == "AGENTS.md"
    assert sorted(report["written"][1:]) == sorted(path for path in CURSOR if path.endswith(".mdc"))
    assert "+++ b/AGENTS.md" in report["diff"]  # the diff is what the write changed, not the disk after it
    assert "--- a/.cursor/rules/python.mdc" in report["diff"]
    assert not (root / ".cursor/rules/python.mdc").exists()


@pytest.mark.parametrize(
    ("target", "expected"),
    [("windsurf", "trigger: glob\nglobs: api/**"), ("kiro", 'inclusion: fileMatch\nfileMatchPattern: "api/**"')],
)
def test_a_nested_always_rule_becomes_a_folder_glob_where_rules_do_not_nest(
    make_repo: MakeRepo, target: str, expected: str
) -> None:
    root = make_repo({"api/AGENTS.md": "API rules.\n"})
    plan = plan_migration(RuleEngine.load(root), target)
    (planned,) = plan.files
    assert expected in planned.text
    assert [loss.message.split(":")[0] for loss in plan.losses] == [
        f"{'Windsurf rules are' if target == 'windsurf' else 'Kiro steering is'} not nested"
    ]
    plan.apply()
    (rule,) = [r for r in RuleEngine.load(root).rules if r.relpath == planned.path]
    assert (rule.type, rule.globs) == (RuleType.AUTO_ATTACHED, ("api/**",))


def test_cline_patterns_keep_their_meaning_both_ways(make_repo: MakeRepo) -> None:
    root = make_repo({**CURSOR, ".clinerules/ts.md": "---\npaths: ['*.ts']\n---\nRoot ts.\n", "a.py": "", "b.ts": ""})
    to_cline = plan_migration(RuleEngine.load(root), "cline", sources=["cursor-mdc"])
    python = next(f for f in to_cline.files if f.path == ".clinerules/python.md")
    assert 'paths: ["**/*.py", "!tests/**"]' in python.text
    to_cursor = plan_migration(RuleEngine.load(root), "cursor", sources=["cline"])
    assert any(
        "*.ts matches root files only in cline; in cursor it matches at any depth" in loss.message
        for loss in to_cursor.losses
    )


def test_the_loss_report_has_the_always_on_cost_and_the_links(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            ".cursor/rules/python.mdc": "---\nglobs: src/**/*.py\n---\n" + "Typed. " * 100 + "\n",
            ".cursor/rules/core.mdc": "---\nalwaysApply: true\n---\nSee [db](mdc:docs/db.md) and @./local.md\n",
            "docs/db.md": "db\n",
            ".cursor/rules/local.md": "x\n",
        }
    )
    plan = plan_migration(RuleEngine.load(root), "agents-md")
    before, after = plan.always_on_tokens
    assert after > before > 0
    messages = [loss.message for loss in plan.losses]
    assert any("always-on rules cost about" in message for message in messages)
    # The links are rewritten to point at the same files from AGENTS.md.
    (agents,) = [planned for planned in plan.files if planned.path == "AGENTS.md"]
    assert "See [db](docs/db.md) and @.cursor/rules/local.md" in agents.text
    assert to_json(plan)["links"] == [
        {"rule": ".cursor/rules/core.mdc", "before": "@./local.md", "after": "@.cursor/rules/local.md"},
        {"rule": ".cursor/rules/core.mdc", "before": "mdc:docs/db.md", "after": "docs/db.md"},
    ]
    assert to_json(plan)["always_on_tokens"] == {"before": before, "after": after}


def test_the_cli_says_removed_for_the_files_it_deletes(make_repo: MakeRepo) -> None:
    root = make_repo(CURSOR)
    result = CliRunner().invoke(
        cli, ["migrate", "--to", "windsurf", "--write", "--remove-sources", "--root", str(root)]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "removed .cursor/rules/core.mdc" in lines
    assert "wrote .windsurf/rules/core.md" in lines
    assert not any(line.startswith("wrote .cursor") for line in lines)


def test_links_to_migrated_rules_follow_them_and_dangling_ones_are_reported(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            ".cursor/rules/a.mdc": "---\nalwaysApply: true\n---\nAlso [b](mdc:.cursor/rules/b.mdc), [gone](mdc:x.md)\n",
            ".cursor/rules/b.mdc": "---\nglobs: '**/*.py'\n---\nB.\n",
            "api/CLAUDE.md": "API. @../docs/api.md\n",
            "docs/api.md": "api docs\n",
        }
    )
    to_windsurf = plan_migration(RuleEngine.load(root), "windsurf", sources=["cursor-mdc"])
    texts = {planned.path: planned.text for planned in to_windsurf.files}
    assert "Also [b](b.md), [gone](mdc:x.md)" in texts[".windsurf/rules/a.md"]
    dangling = [loss.message for loss in to_windsurf.losses if "points at" in loss.message]
    assert dangling == ["line 4: mdc:x.md points at no file; left as written"]
    to_gemini = plan_migration(RuleEngine.load(root), "gemini", sources=["claude-md"])
    assert [planned.text for planned in to_gemini.files] == ["## CLAUDE\n\nAPI. @../docs/api.md\n"]
    to_codex = plan_migration(RuleEngine.load(root), "codex", sources=["claude-md"])
    assert to_codex.files[0].path == "api/AGENTS.md"
    assert to_codex.files[0].text == "## CLAUDE\n\nAPI. @docs/api.md\n"


@pytest.mark.parametrize(
    ("target", "paths"),
    [
        ("codex", ["AGENTS.md", "src/AGENTS.md", "api/AGENTS.md"]),
        ("opencode", ["AGENTS.md", "src/AGENTS.md", "api/AGENTS.md"]),
        ("gemini", ["GEMINI.md", "src/GEMINI.md", "api/GEMINI.md"]),
        ("roo", [".roo/rules/core.md", ".roo/rules/python.md", ".roo/rules/api.md"]),
        ("zed", [".rules"]),
        ("junie", [".junie/guidelines.md"]),
        ("continue", [".continue/rules/core.md", ".continue/rules/python.md", ".continue/rules/api.md"]),
        (
            "copilot",
            [
                ".github/copilot-instructions.md",
                ".github/instructions/python.instructions.md",
                ".github/instructions/api/api.instructions.md",
            ],
        ),
    ],
)
def test_every_new_target_round_trips_through_the_engine(make_repo: MakeRepo, target: str, paths: list[str]) -> None:
    root = make_repo(
        {
            ".cursor/rules/core.mdc": "---\nalwaysApply: true\n---\nBe brief.\n",
            ".cursor/rules/python.mdc": "---\nglobs: src/**/*.py\n---\nTyped.\n",
            "api/.cursor/rules/api.mdc": "---\nalwaysApply: true\n---\nAPI rules.\n",
            "src/a.py": "",
            "api/b.py": "",
        }
    )
    plan = plan_migration(RuleEngine.load(root), target)
    assert [planned.path for planned in plan.files] == paths
    plan.apply()
    engine = RuleEngine.load(root)
    written = {rule.relpath for rule in engine.rules if not rule.relpath.endswith(".mdc")}
    assert written == set(paths)
    # Every written file is read back by the format of its assistant, and its text carries the rule.
    text = "\n".join(rule.body for rule in engine.rules if rule.relpath in written)
    assert {"Be brief.", "Typed.", "API rules."} <= {line.strip() for line in text.splitlines()}


@pytest.mark.parametrize(
    ("target", "destination", "source", "sources"),
    [
        ("codex", "AGENTS.md", "CLAUDE.md", ["claude-md"]),
        ("agents-md", "AGENTS.md", "CLAUDE.md", ["claude-md"]),
        ("claude", "CLAUDE.md", "AGENTS.md", ["agents-md"]),
        ("gemini", "GEMINI.md", "CLAUDE.md", ["claude-md"]),
    ],
)
def test_a_migration_never_writes_a_file_that_imports_itself(
    make_repo: MakeRepo, target: str, destination: str, source: str, sources: list[str]
) -> None:
    root = make_repo(
        {
            destination: "Use tabs.\n",
            source: f"@{destination}\n\nRead @{destination} first. Be kind.\n",
            "src/app.py": "",
        }
    )
    plan = plan_migration(RuleEngine.load(root), target, sources=sources)
    assert [loss.message for loss in plan.losses if loss.rule == source] == [
        f"line 1: @{destination} points at {destination}, the file the rule goes into; dropped (its text is there "
        "already)",
        f"line 3: @{destination} points at {destination}, the file the rule goes into; dropped (its text is there "
        "already)",
    ]
    plan.apply()
    written = (root / destination).read_text(encoding="utf-8")
    assert f"@{destination}" not in written
    assert written.count("Use tabs.") == 1
    assert f"Read `{destination}` first. Be kind." in written
    (written_rule,) = [rule for rule in RuleEngine.load(root).rules if rule.relpath == destination]
    assert written_rule.references == ()  # it imports nothing, itself least of all


def test_a_rule_that_only_imports_its_destination_adds_nothing(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "AGENTS.md": "Use tabs.\n",
            "CLAUDE.md": "@AGENTS.md\n",
            ".cursor/rules/a.mdc": "---\nalwaysApply: true\n---\nSee [the rules](mdc:AGENTS.md) and be brief.\n",
        }
    )
    plan = plan_migration(RuleEngine.load(root), "codex")
    assert [planned.path for planned in plan.files] == ["AGENTS.md"]
    text = plan.files[0].text
    assert "@AGENTS.md" not in text
    assert "See the rules and be brief." in text
    assert "## CLAUDE" not in text
