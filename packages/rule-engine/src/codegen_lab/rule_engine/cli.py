"""`codegen-lab rules ...` (and `codegen-lab-rules ...`): list, show, which, lint, render, migrate, revert, watch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import click

from codegen_lab.common.cli import reported_errors, result_json, root_option

__all__ = ["cli", "main"]

_FORMATS = click.Choice(["text", "json"])
_root_option = root_option("The repository root (default: the current directory).")
_format_option = click.option(
    "--format",
    "output_format",
    type=_FORMATS,
    default="text",
    show_default=True,
    help="text for people, json for programs.",
)
_reported = reported_errors


def _assistant_option(default: str | None) -> Any:
    from codegen_lab.rule_engine._assistants import ASSISTANTS  # noqa: PLC0415

    names = [assistant.name for assistant in ASSISTANTS]
    return click.option(
        "--assistant",
        type=click.Choice([*names, "all"] if default == "all" else names),
        default=default,
        show_default=default is not None,
        help="What this assistant would load (its files, precedence and imports)"
        + ("; all: every assistant that reads a rule here, grouped." if default == "all" else "."),
    )


_mode_option = click.option(
    "--mode",
    default=None,
    help="Roo Code's mode for Roo's view: architect (Roo's default), code, ask, debug, orchestrator, or a custom "
    "mode of .roomodes.",
)


def _emit(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _console() -> Any:
    from rich.console import Console  # noqa: PLC0415

    return Console(highlight=False, soft_wrap=True)


def _engine(root: Path | None, *, only: Path | None = None, loose: bool = False) -> Any:
    from rich.console import Console  # noqa: PLC0415
    from rich.progress import Progress  # noqa: PLC0415

    from codegen_lab.rule_engine._engine import RuleEngine  # noqa: PLC0415

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("reading rules", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return RuleEngine.load(root or Path.cwd(), only=only, loose=loose, progress=advance)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
def cli() -> None:
    """Read, explain and lint AI-assistant rule files.

    Cursor (.mdc, RULE.md, .cursorrules), AGENTS.md, CLAUDE.md, Copilot, Windsurf, Cline, Gemini, Kiro, Roo, Zed,
    Junie and Continue; --assistant says what one assistant (also Codex and OpenCode) loads.
    """


@cli.command("list")
@_root_option
@_format_option
def list_rules(root: Path | None, output_format: str) -> None:
    """List every rule under the root: format, type and globs."""
    with _reported():
        engine = _engine(root)
    if output_format == "json":
        _emit({"root": str(engine.root), "rules": [rule.summary() for rule in engine.rules]})
        return
    from rich.table import Table  # noqa: PLC0415

    table = Table(title=f"{len(engine.rules)} rules under {engine.root}", title_justify="left")
    for column in ("rule", "format", "type", "globs", "description"):
        table.add_column(column)
    for rule in engine.rules:
        table.add_row(rule.relpath, rule.format, str(rule.type), ", ".join(rule.globs), rule.description or "")
    _console().print(table)


@cli.command()
@click.argument("file")
@_root_option
@_format_option
def show(file: str, root: Path | None, output_format: str) -> None:
    """Show how FILE (a rule file) is read: its type, globs, parse mode and diagnostics."""
    from codegen_lab.rule_engine._discovery import loose_format  # noqa: PLC0415
    from codegen_lab.rule_engine._engine import resolve_inside  # noqa: PLC0415
    from codegen_lab.rule_engine._formats import format_for, formats  # noqa: PLC0415
    from codegen_lab.rule_engine._lint import validate_rule  # noqa: PLC0415
    from codegen_lab.rule_engine._reader import read_rule  # noqa: PLC0415
    from codegen_lab.rule_engine.errors import RuleEngineUsageError  # noqa: PLC0415

    with _reported():
        base = (root or Path.cwd()).resolve()
        path = resolve_inside(base, file)
        if not path.is_file():
            raise RuleEngineUsageError(f"{file!r} is not a file")
        relpath = path.relative_to(base).as_posix()
        fmt = format_for(relpath) or loose_format(relpath, formats())
        if fmt is None:
            raise RuleEngineUsageError(
                f"{file!r} is not a rule file of any assistant",
                hint="Give a rule file (.cursor/rules/*.mdc, AGENTS.md, CLAUDE.md, ...), or an .mdc file anywhere; "
                "`codegen-lab rules list` lists them",
            )
        rule = read_rule(path, base, fmt)
        rule.diagnostics = list(validate_rule(rule).diagnostics)
    summary = rule.summary()
    if output_format == "json":
        _emit(summary)
        return
    console = _console()
    console.print(f"[bold]{summary['path']}[/] ({summary['format']}, read by {summary['parse_mode']})")
    console.print(f"  type: {summary['type']}")
    console.print(f"  description: {summary['description'] or '-'}")
    console.print(f"  globs: {', '.join(summary['globs']) or '-'}")
    console.print(f"  alwaysApply: {str(summary['always_apply']).lower()}")
    if summary["scope"]:
        console.print(f"  scope: {summary['scope']}/")
    for key, value in summary["unknown_keys"].items():
        console.print(f"  unknown key {key}: {value!r}")
    for diagnostic in summary["diagnostics"]:
        line = f":{diagnostic['line']}" if diagnostic["line"] else ""
        console.print(f"  {diagnostic['severity']} {diagnostic['code']}{line} {diagnostic['message']}")


@cli.command()
@click.argument("path")
@_assistant_option("all")
@_mode_option
@_root_option
@_format_option
def which(path: str, assistant: str, mode: str | None, root: Path | None, output_format: str) -> None:
    """Which rules attach to PATH (relative to the root, or absolute inside it), and why the others do not.

    By default for every assistant that reads a rule file here, grouped by assistant. Each assistant's view is
    what it loads for you: your own rule files (~/.claude/CLAUDE.md, ~/.codex/AGENTS.md, ...) and settings
    (~/.codex/config.toml, .gemini/settings.json, opencode.json, .roomodes, ...) count, and are named.
    """
    with _reported():
        explanation = _engine(root).explain(path, assistant, mode=mode)
    if output_format == "json":
        _emit(result_json(explanation))
        return
    console = _console()
    console.print(f"[bold]{explanation.path}[/]")
    for view in explanation.views:
        mode = f", {view.mode} mode" if view.mode else ""
        console.print(f"[bold]{view.assistant.title}[/] (about {view.tokens:,} tokens{mode})")
        for setting in view.settings:
            console.print(f"  [cyan]setting[/] {setting}")
        for warning in view.warnings:
            console.print(f"  [yellow]warning[/] {warning}")
        for entry in view.attached:
            console.print(f"  [green]attached[/] {entry.rule.relpath} ({entry.rule.type}): {entry.reason}")
        for file, by in view.imports:
            console.print(f"  [green]imported[/] {file} by {by}")
        for entry in view.not_attached:
            console.print(f"  [dim]not attached[/] {entry.rule.relpath}: {entry.reason}")
    if not explanation.views:
        console.print("  no assistant reads a rule file here")


@cli.command()
@click.argument("paths", nargs=-1)
@click.option("--fix", is_flag=True, help="Apply the safe fixes (each file written atomically, with a backup).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "sarif"]),
    default="text",
    show_default=True,
    help="text for people, json for programs, sarif (SARIF 2.1.0) for code-scanning dashboards.",
)
@_assistant_option(None)
@_mode_option
@_root_option
def lint(
    paths: tuple[str, ...], fix: bool, output_format: str, assistant: str | None, mode: str | None, root: Path | None
) -> None:
    """Lint the rules under the root, or under each PATH (a folder is searched for every rule file below it).

    Totals are given per assistant; with --assistant, only the files that assistant reads are linted.

    Exit code: 0 when nothing is at error level, 1 when errors are found, 2 for a usage error.
    """
    from codegen_lab.rule_engine._engine import RuleEngine  # noqa: PLC0415
    from codegen_lab.rule_engine._lint import LintReport, lint as run_lint  # noqa: PLC0415
    from codegen_lab.rule_engine._write import journaled_writes  # noqa: PLC0415

    with _reported():
        base = _lint_root(paths, root)
        reports: list[LintReport] = []
        # One change set for the whole command: one `revert` takes back every file it fixed.
        with journaled_writes(base, "rules lint --fix") as journaled:
            for target in paths or (str(base),):
                engine: RuleEngine = _engine(base, only=_folder_of(base, target), loose=bool(paths))
                if paths and Path(target).is_file():
                    wanted = _relative(base, target)
                    engine = RuleEngine(
                        engine.root,
                        [r for r in engine.rules if r.relpath == wanted],
                        repository_paths=engine.repository_paths,
                    )
                reports.append(
                    run_lint(
                        engine,
                        fix=fix,
                        write=lambda rule, text: journaled(rule.path, text),
                        assistant=assistant,
                        mode=mode,
                    )
                )
    report = LintReport(
        [d for r in reports for d in r.diagnostics],
        files=sum(r.files for r in reports),
        always_on_tokens=sum(r.always_on_tokens for r in reports),
        fixed=[f for r in reports for f in r.fixed],
        assistants=_summed([r.assistants for r in reports]),
    )
    if output_format == "json":
        _emit(result_json(report))
    elif output_format == "sarif":
        from codegen_lab.rule_engine._sarif import to_sarif  # noqa: PLC0415

        _emit(to_sarif(report, version=_version()))
    else:
        _print_report(report)
    sys.exit(1 if report.counts.get("error", 0) else 0)


def _summed(totals: list[dict[str, dict[str, int]]]) -> dict[str, dict[str, int]]:
    """Per-assistant totals of several lint runs, added up."""
    summed: dict[str, dict[str, int]] = {}
    for one in totals:
        for name, counts in one.items():
            into = summed.setdefault(name, dict.fromkeys(counts, 0))
            for key, value in counts.items():
                into[key] = into.get(key, 0) + value
    return summed


def _lint_root(paths: tuple[str, ...], root: Path | None) -> Path:
    """The root: `--root`, else the git work tree of the first path, else the folder above its assistant folder.

    The assistant folder is `.cursor`, `.claude`, ... ; without one, the path's folder; without a path, the current one.
    """
    if root is not None or not paths:
        return (root or Path.cwd()).resolve()
    first = Path(paths[0]).resolve()
    folder = first if first.is_dir() else first.parent
    try:
        top = subprocess.run(  # noqa: S603 (a fixed git command)
            ["git", "-C", str(folder), "rev-parse", "--show-toplevel"],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        top = ""
    if top:
        return Path(top).resolve()
    # Outside git: the folder above the assistant's own folder (`.cursor/rules/py.mdc` is a rule of the folder
    # that holds `.cursor`), else the folder of the path.
    return next((parent.parent for parent in (folder, *folder.parents) if parent.name in _RULE_FOLDERS), folder)


_RULE_FOLDERS = frozenset({".cursor", ".claude", ".github", ".windsurf", ".clinerules", ".kiro"})


def _relative(base: Path, target: str) -> str:
    from codegen_lab.rule_engine._engine import resolve_inside  # noqa: PLC0415

    return resolve_inside(base, Path(target).resolve()).relative_to(base).as_posix()


def _folder_of(base: Path, target: str) -> Path:
    from codegen_lab.rule_engine._engine import resolve_inside  # noqa: PLC0415
    from codegen_lab.rule_engine.errors import RuleEngineUsageError  # noqa: PLC0415

    path = resolve_inside(base, Path(target).resolve() if not Path(target).is_absolute() else target)
    if not path.exists():
        raise RuleEngineUsageError(f"{target!r} does not exist")
    return path if path.is_dir() else path.parent


def _print_report(report: Any) -> None:
    console = _console()
    colours = {"error": "red", "warning": "yellow", "info": "blue"}
    for d in report.diagnostics:
        where = f"{d.path}:{d.line}" if d.line else d.path
        fix = " [dim](fixable)[/]" if d.fixable else ""
        console.print(f"{where}: [{colours[str(d.severity)]}]{d.severity}[/] {d.code} {d.message}{fix}")
    counts = report.counts
    fixed = f"; fixed {len(report.fixed)} files" if report.fixed else ""
    console.print(
        f"\n{report.files} rule files: {counts.get('error', 0)} errors, {counts.get('warning', 0)} warnings, "
        f"{counts.get('info', 0)} infos; always-on rules cost about {report.always_on_tokens:,} tokens a request{fixed}"
    )
    for name, totals in report.assistants.items():
        console.print(
            f"  {name}: {totals['files']} files, {totals['errors']} errors, {totals['warnings']} warnings, "
            f"about {totals['always_on_tokens']:,} always-on tokens"
        )


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--request", default=None, help="The developer's request, put first in the text.")
@click.option("--max-chars", type=click.IntRange(min=1000), default=200_000, show_default=True)
@click.option(
    "--budget", type=click.IntRange(min=100), default=8_000, show_default=True, help="Tokens the text takes at most."
)
@click.option("--inline-references", is_flag=True, help="Put the files that rules reference in the text too.")
@_assistant_option(None)
@_mode_option
@_root_option
@_format_option
def render(
    paths: tuple[str, ...],
    request: str | None,
    max_chars: int,
    budget: int,
    inline_references: bool,
    assistant: str | None,
    mode: str | None,
    root: Path | None,
    output_format: str,
) -> None:
    """The text an assistant should follow for the files PATHS: the rules that apply, in priority order.

    Always-on rules, then those attached by a pattern, then the agent-requested ones by description, then the
    other rules by name, within the budget; what does not fit is listed, and reported on stderr.
    """
    with _reported():
        engine = _engine(root)
        result = engine.render_context(
            paths,
            request,
            budget=budget,
            inline_references=inline_references,
            max_chars=max_chars,
            assistant=assistant,
            mode=mode,
        )
    if output_format == "json":
        _emit({"paths": list(paths), "assistant": assistant, **result_json(result)})
        return
    click.echo(result.text)
    for setting in result.settings:
        click.echo(f"setting: {setting}", err=True)
    if result.truncated:
        left = ", ".join(result.omitted) or "some of the rule lists"
        click.echo(f"truncated to fit {budget:,} tokens: left out {left}", err=True)


@cli.command()
@click.option(
    "--to",
    "target",
    required=True,
    help="The format to write: cursor, cursor-rule-md, agents-md, claude, copilot, windsurf, kiro, cline, codex, "
    "opencode, gemini, roo, zed, junie or continue.",
)
@click.option("--from", "sources", multiple=True, help="Only rules of this format (repeatable), e.g. cursorrules.")
@click.option("--write", is_flag=True, help="Write the files (atomically, with backups that `revert` restores).")
@click.option("--remove-sources", is_flag=True, help="Also delete the files the rules came from.")
@_root_option
@_format_option
def migrate(
    target: str, sources: tuple[str, ...], write: bool, remove_sources: bool, root: Path | None, output_format: str
) -> None:
    """Move rules to another assistant's format: a dry-run diff and a loss report unless --write is given."""
    from codegen_lab.rule_engine._migrate import plan_migration  # noqa: PLC0415

    with _reported():
        plan = plan_migration(_engine(root), target, sources=sources or None, remove_sources=remove_sources)
        written = plan.apply() if write else []
    if output_format == "json":
        _emit(result_json(plan))
        return
    if not write:
        click.echo(plan.diff(), nl=False)
    for loss in plan.losses:
        click.echo(f"loss: {loss.rule}: {loss.message}", err=True)
    if write:
        removed = set(plan.removed)
        for path in written:
            click.echo(f"removed {path}" if path in removed else f"wrote {path}")
        click.echo("undo with: codegen-lab rules revert", err=True)
    else:
        click.echo(f"dry run: {len(plan.files)} files would be written; add --write to write them", err=True)


@cli.command()
@_root_option
@_format_option
def revert(root: Path | None, output_format: str) -> None:
    """Take back the last change `lint --fix` or `migrate --write` made under the root."""
    from codegen_lab.rule_engine._write import revert_last  # noqa: PLC0415

    with _reported():
        restored = revert_last((root or Path.cwd()).resolve())
    if output_format == "json":
        _emit({"restored": restored})
        return
    for path in restored:
        click.echo(f"restored {path}")


@cli.command()
@click.option(
    "--interval",
    type=click.FloatRange(min=0.05),
    default=1.0,
    show_default=True,
    help="Seconds between looks, when the tree cannot be watched for events.",
)
@click.option("--max-runs", type=click.IntRange(min=1), default=None, help="Stop after this many lint runs.")
@click.option("--poll", is_flag=True, help="Compare modification times instead of waiting for file-system events.")
@click.option("--format", "output_format", type=_FORMATS, default="text", help="text, or json: one JSON line a run.")
@_root_option
def watch(interval: float, max_runs: int | None, poll: bool, output_format: str, root: Path | None) -> None:
    """Lint the rules now, then again whenever a rule file is added, changed or removed (Ctrl-C stops).

    Changes arrive as file-system events (watchfiles); where the tree cannot be watched, or with --poll, the rule
    files' modification times are compared every --interval seconds.
    """
    from codegen_lab.rule_engine._watch import watcher_for  # noqa: PLC0415

    base = (root or Path.cwd()).resolve()
    watcher = None if poll else watcher_for(base)  # watching starts before the first run: no change is missed
    runs = 0
    changed: list[str] = []
    seen: dict[str, tuple[int, int]] = {}
    try:
        while max_runs is None or runs < max_runs:
            runs += 1
            seen = _lint_run(base, runs, changed, output_format)
            if max_runs is not None and runs >= max_runs:
                break
            changed = _next_change(base, watcher, seen, interval)
    except KeyboardInterrupt:
        pass
    finally:
        if watcher is not None:
            watcher.close()
            watcher.changes()  # returns at once, releasing the watch


def _lint_run(base: Path, run: int, changed: list[str], output_format: str) -> dict[str, tuple[int, int]]:
    """One lint run, printed; the rule files' stamps taken before it, for the polling fallback."""
    from codegen_lab.rule_engine._engine import RuleEngine  # noqa: PLC0415
    from codegen_lab.rule_engine._lint import lint as run_lint  # noqa: PLC0415

    stamps = _stamps(base)  # before reading: a change made while the run reads is seen by the next look
    with _reported():
        engine = RuleEngine.load(base)
    report = run_lint(engine)
    if output_format == "json":
        click.echo(json.dumps({"run": run, "changed": changed, **result_json(report)}))
    else:
        click.echo(f"--- run {run}: {len(changed)} changed")
        _print_report(report)
    return stamps


def _stamps(base: Path) -> dict[str, tuple[int, int]]:
    from codegen_lab.rule_engine._discovery import discover  # noqa: PLC0415

    return {path.relative_to(base).as_posix(): _stamp(path) for path, _ in discover(base).rules}


def _next_change(base: Path, watcher: Any, seen: dict[str, tuple[int, int]], interval: float) -> list[str]:
    """Wait for the next relevant change: the paths that changed."""
    import time  # noqa: PLC0415

    if watcher is not None:
        while (changed := watcher.changes()) is not None:
            if changed:
                return changed
        raise KeyboardInterrupt  # the watch ended (a signal)
    while True:
        time.sleep(interval)
        current = _stamps(base)
        changed = sorted(k for k in current.keys() | seen.keys() if current.get(k) != seen.get(k))
        if changed:
            return changed


def _stamp(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (0, -1)
    return (stat.st_mtime_ns, stat.st_size)


def _version() -> str:
    from importlib.metadata import version  # noqa: PLC0415

    return version("codegen-lab-rule-engine")


def main() -> None:
    """Run `codegen-lab-rules`."""
    cli(prog_name="codegen-lab-rules")


if __name__ == "__main__":
    main()
