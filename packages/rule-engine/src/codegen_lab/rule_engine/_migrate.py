"""Migration between rule formats: a plan, its diff, what the target cannot express, and an atomic write.

Every rule is carried by its meaning (type, description, globs, scope, body). A target that cannot say something
(AGENTS.md has no globs; Copilot has no agent-requested mode) still gets the rule, and the loss report says what
changed. Nothing is written until the plan is applied; applying writes each file atomically with a backup, as
one change set that `revert_last` takes back.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import posixpath
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from codegen_lab.rule_engine._engine import RuleEngine
from codegen_lab.rule_engine._model import Rule, RuleType
from codegen_lab.rule_engine._write import ChangeSet
from codegen_lab.rule_engine.errors import RuleEngineUsageError

if TYPE_CHECKING:
    from codegen_lab.rule_engine._tool_results import MigrationResult

__all__ = ["TARGETS", "Link", "Loss", "MigrationPlan", "PlannedFile", "plan_migration"]

_FAMILIES = {
    "cursor": {"cursor-mdc"},
    "cursor-rule-md": {"cursor-rule-md"},
    "agents-md": {"agents-md"},
    "claude": {"claude-md", "claude-rules"},
    "copilot": {"copilot", "copilot-scoped"},
    "windsurf": {"windsurf"},
    "kiro": {"kiro"},
    "cline": {"cline"},
    "codex": {"agents-md", "agents-override"},
    "opencode": {"agents-md"},
    "gemini": {"gemini-md"},
    "roo": {"roo"},
    "zed": {"zed-rules"},
    "junie": {"junie"},
    "continue": {"continue"},
}
TARGETS = tuple(_FAMILIES)
"""The formats `plan_migration` writes."""


@dataclass(frozen=True, slots=True)
class Loss:
    """Something a target cannot express about one rule, and what it does instead."""

    rule: str
    message: str


@dataclass(frozen=True, slots=True)
class Link:
    """A reference of a migrated rule, as written and as the new file says it."""

    rule: str
    before: str
    after: str


@dataclass(slots=True)
class PlannedFile:
    """A file the migration writes, and the rules it comes from."""

    path: str
    text: str
    sources: list[str] = field(default_factory=list[str])


@dataclass(slots=True)
class MigrationPlan:
    """What a migration would write, remove and lose."""

    root: Path
    target: str
    files: list[PlannedFile]
    losses: list[Loss]
    removed: list[str] = field(default_factory=list[str])
    """Source files the plan deletes (only with `remove_sources`)."""
    always_on_tokens: tuple[int, int] = (0, 0)
    """About how many tokens the always-on rules cost each request: before the migration and after it."""
    links: list[Link] = field(default_factory=list["Link"])
    """`mdc:` and `@file` references rewritten so that they still point at the file from the new location."""
    written: list[str] = field(default_factory=list[str])
    """The paths `apply` wrote or removed (empty until it has run: a dry run)."""
    _applied_diff: str | None = field(default=None, init=False, repr=False)

    def diff(self) -> str:
        """A unified diff of every change against what is on disk now; once applied, against what was there."""
        if self._applied_diff is not None:
            return self._applied_diff
        chunks: list[str] = []
        for planned in self.files:
            path = self.root / planned.path
            before = path.read_text(encoding="utf-8").splitlines(keepends=True) if path.exists() else []
            old_name = f"a/{planned.path}" if before else "/dev/null"
            after = planned.text.splitlines(keepends=True)
            chunks.extend(difflib.unified_diff(before, after, old_name, f"b/{planned.path}"))
        for removed in self.removed:
            before = (self.root / removed).read_text(encoding="utf-8").splitlines(keepends=True)
            chunks.extend(difflib.unified_diff(before, [], f"a/{removed}", "/dev/null"))
        return "".join(chunk if chunk.endswith("\n") else chunk + "\n" for chunk in chunks)

    def apply(self, *, state_dir: Path | None = None) -> list[str]:
        """Write the plan atomically with backups, as one change set; the paths written or removed.

        `state_dir` is where the journal `codegen-lab undo` reads lives (default: the user's state folder).
        """
        diff = self.diff()  # what the write changes, while the files it replaces and removes are still there
        with ChangeSet(self.root, f"migrate to {self.target}", state_dir=state_dir) as change:
            for planned in self.files:
                change.write(self.root / planned.path, planned.text)
            for removed in self.removed:
                change.remove(self.root / removed)
        self.written = [planned.path for planned in self.files] + self.removed
        self._applied_diff = diff
        return list(self.written)

    def to_result(self) -> MigrationResult:
        """The plan as the `migrate` JSON contract has it: the files with their text, the losses, the diff."""
        from codegen_lab.rule_engine._tool_results import MigrationResult  # noqa: PLC0415

        return MigrationResult.model_validate(
            {
                "target": self.target,
                "files": [{"path": f.path, "sources": f.sources, "text": f.text} for f in self.files],
                "removed": self.removed,
                "losses": [{"rule": loss.rule, "message": loss.message} for loss in self.losses],
                "always_on_tokens": {"before": self.always_on_tokens[0], "after": self.always_on_tokens[1]},
                "links": [{"rule": link.rule, "before": link.before, "after": link.after} for link in self.links],
                "diff": self.diff(),
                "written": self.written,
            }
        )


def plan_migration(
    engine: RuleEngine,
    target: str,
    *,
    sources: Sequence[str] | None = None,
    remove_sources: bool = False,
) -> MigrationPlan:
    """Plan moving the engine's rules into the format `target` (one of `TARGETS`).

    Args:
        engine: The repository's rules.
        target: The format to write.
        sources: Only rules of these formats (default: every rule not already in the target's format).
        remove_sources: Also delete the files the rules came from.

    Raises:
        RuleEngineUsageError: When `target` or a source format is unknown, or there is nothing to migrate.
    """
    if target not in _FAMILIES:
        raise RuleEngineUsageError(f"unknown target format {target!r}; targets: {', '.join(TARGETS)}")
    known = {fmt for family in _FAMILIES.values() for fmt in family} | {"cursorrules", "windsurfrules", "gemini-md"}
    unknown = sorted(set(sources or ()) - known)
    if unknown:
        raise RuleEngineUsageError(f"unknown source format {', '.join(unknown)}; formats: {', '.join(sorted(known))}")
    chosen = [
        rule
        for rule in engine.rules
        if rule.format not in _FAMILIES[target] and (sources is None or rule.format in sources)
    ]
    if not chosen:
        raise RuleEngineUsageError(f"no rule to migrate to {target} under {engine.root}")
    writer = _WRITERS[target]
    # First where each rule goes, then the files again with their links rewritten to those places.
    _, moved = _planned(engine, chosen, writer, [])
    losses: list[Loss] = []
    links: list[Link] = []
    relinked = [_relinked(engine, rule, target, moved, losses, links) for rule in chosen]
    # A rule that was only an import of its destination (`CLAUDE.md` holding `@AGENTS.md`) has nothing to add.
    relinked = [new for new, old in zip(relinked, chosen, strict=True) if new.body.strip() or not old.body.strip()]
    files, _ = _planned(engine, relinked, writer, losses)
    for rule in chosen:
        floating = [p for p in rule.globs if rule.anchored and "/" not in p.lstrip("!")]
        if floating and target != "cline":
            losses.append(
                Loss(
                    rule.relpath,
                    f"{', '.join(floating)} matches root files only in {rule.format}; in {target} it "
                    "matches at any depth",
                )
            )
    removed = sorted({rule.relpath for rule in chosen}) if remove_sources else []
    plan = MigrationPlan(engine.root, target, list(files.values()), losses, removed, links=links)
    plan.always_on_tokens = _always_on_cost(engine, plan)
    before, after = plan.always_on_tokens
    if after > before:
        losses.append(Loss("*", f"always-on rules cost about {after:,} tokens a request after, {before:,} before"))
    return plan


def _always_on_cost(engine: RuleEngine, plan: MigrationPlan) -> tuple[int, int]:
    """(before, after): the always-on rules' tokens now, and once the plan is written (new, kept and removed)."""
    from codegen_lab.rule_engine._formats import format_for  # noqa: PLC0415
    from codegen_lab.rule_engine._lint import always_on_tokens  # noqa: PLC0415
    from codegen_lab.rule_engine._reader import rule_from_text  # noqa: PLC0415

    replaced = {planned.path for planned in plan.files} | set(plan.removed)
    after = [rule for rule in engine.rules if rule.relpath not in replaced]
    for planned in plan.files:
        fmt = format_for(planned.path)
        if fmt is not None:
            after.append(rule_from_text(planned.text, path=plan.root / planned.path, relpath=planned.path, fmt=fmt))
    return always_on_tokens(engine.rules), always_on_tokens(after)


def _planned(
    engine: RuleEngine,
    rules: Sequence[Rule],
    writer: Callable[[Rule, list[Loss]], list[tuple[str, str]]],
    losses: list[Loss],
) -> tuple[dict[str, PlannedFile], dict[str, str]]:
    """The files the rules become, and where each rule went (its first file)."""
    files: dict[str, PlannedFile] = {}
    moved: dict[str, str] = {}
    for rule in rules:
        for relpath, text in writer(rule, losses):
            if relpath.rsplit("/", 1)[-1] in _SECTION_FILES:
                _add_section(files, engine.root, relpath, text, rule)
                moved.setdefault(rule.relpath, relpath)
            else:
                free = _free_path(relpath, files, engine.root)
                files[free] = PlannedFile(free, text, [rule.relpath])
                moved.setdefault(rule.relpath, free)
    return files, moved


_RELATIVE_IMPORTS = frozenset({"claude", "gemini"})
"""Targets whose `@file` imports are relative to the file that holds them (others read them from the root)."""


def _relinked(
    engine: RuleEngine, rule: Rule, target: str, moved: dict[str, str], losses: list[Loss], links: list[Link]
) -> Rule:
    """The rule with its `mdc:` and `@file` references pointing at the same files from its new location.

    A reference to another migrated rule points at that rule's new file. `mdc:` links become plain Markdown
    links (relative to the new file) outside Cursor; a reference that resolves to no file is left as written and
    reported.
    """
    destination = moved.get(rule.relpath, rule.relpath)
    folder = posixpath.dirname(destination)
    body = rule.body
    for reference in rule.references:
        marker = "@" if reference.kind == "file" else "mdc:"
        found = engine._reference_path(rule, reference.target)  # pyright: ignore[reportPrivateUsage]
        if found is None or not found.is_file():
            message = f"line {reference.line}: {marker}{reference.target} points at no file; left as written"
            losses.append(Loss(rule.relpath, message))
            continue
        where = found.relative_to(engine.root).as_posix()
        where = moved.get(where, where)
        if where == destination:
            body = _without_self_reference(body, reference.kind, reference.target)
            message = (
                f"line {reference.line}: {marker}{reference.target} points at {destination}, the file the rule "
                "goes into; dropped (its text is there already)"
            )
            losses.append(Loss(rule.relpath, message))
            continue
        relative = posixpath.relpath(where, folder or ".")
        if reference.kind == "mdc":
            before = f"(mdc:{reference.target})"
            after = f"(mdc:{where})" if target.startswith("cursor") else f"({relative})"
            pattern = re.escape(before)
        else:
            before = f"@{reference.target}"
            after = f"@{relative}" if target in _RELATIVE_IMPORTS else f"@{where}"
            pattern = re.escape(before) + r"(?![\w/.-])"
        if before != after:
            body = re.sub(pattern, after.replace("\\", "\\\\"), body)
            links.append(Link(rule.relpath, before.strip("()"), after.strip("()")))
    return dataclasses.replace(rule, body=body) if body != rule.body else rule


def _without_self_reference(body: str, kind: str, target: str) -> str:
    """`body` without its import of (or link to) `target`, the file it is being written into.

    A line that is only the import goes; within a line, an import becomes the file's name in code (no longer an
    import) and a link its text. Left as it is, the new file would import (or link to) itself.
    """
    if kind == "mdc":
        return re.sub(r"\[([^\]]*)\]\(mdc:" + re.escape(target) + r"\)", r"\1", body)
    token = "@" + re.escape(target) + r"(?![\w/.-])"
    body = re.sub(r"(?m)^[ \t]*" + token + r"[ \t]*\n?", "", body)
    return re.sub(r"(?<![\w`])" + token, f"`{target}`".replace("\\", "\\\\"), body)


_SECTION_FILES = frozenset(
    {"AGENTS.md", "CLAUDE.md", "copilot-instructions.md", "GEMINI.md", ".rules", "guidelines.md"}
)


def _add_section(files: dict[str, PlannedFile], root: Path, relpath: str, text: str, rule: Rule) -> None:
    """Several rules share AGENTS.md or CLAUDE.md, one section each, after what the file already says."""
    planned = files.get(relpath)
    if planned is None:
        existing = root / relpath
        current = existing.read_text(encoding="utf-8").rstrip("\n") + "\n\n" if existing.is_file() else ""
        files[relpath] = PlannedFile(relpath, current + text, [rule.relpath])
    else:
        planned.text = planned.text.rstrip("\n") + "\n\n" + text
        planned.sources.append(rule.relpath)


def _free_path(relpath: str, files: dict[str, PlannedFile], root: Path) -> str:
    """`relpath`, or `name-2.ext` and so on when the plan or the disk already has a file there: never clobber."""
    stem, dot, extension = relpath.rpartition(".")
    if relpath.endswith("/RULE.md"):
        stem, dot, extension = relpath.removesuffix("/RULE.md"), "/", "RULE.md"
    candidate, number = relpath, 1
    while candidate in files or (root / candidate).exists():
        number += 1
        candidate = f"{stem}-{number}{dot}{extension}"
    return candidate


def _slug(rule: Rule) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", rule.name.lstrip(".")).strip("-") or "rules"
    return "agents" if rule.format == "agents-md" else name


def _folder(scope: str) -> str:
    return f"{scope}/" if scope else ""


def _scoped(rule: Rule) -> list[str]:
    """The rule's globs relative to the root (a nested rule's patterns get its folder).

    An anchored rule (Cline: `*.ts` is a root file) keeps its patterns as written; the targets float a pattern
    without `/` to any depth, so that one is reported by `plan_migration`.
    """
    if not rule.scope or rule.anchored:
        return list(rule.globs)
    scoped: list[str] = []
    for pattern in rule.globs:
        negated = pattern.startswith("!")
        body = pattern[1:] if negated else pattern
        anchored = body if "/" in body else f"**/{body}"
        scoped.append(("!" if negated else "") + f"{rule.scope}/{anchored}")
    return scoped


def _frontmatter(pairs: Sequence[tuple[str, str | None]]) -> str:
    lines = [f"{key}: {value}" for key, value in pairs if value is not None]
    return "---\n" + "\n".join(lines) + "\n---\n" if lines else ""


def _yaml_text(text: str) -> str:
    """A one-line YAML string: plain when safe, else double-quoted JSON (valid YAML)."""
    plain = re.fullmatch(r"[A-Za-z0-9][^:#\n\"'{}\[\],&*!|>%@`]*", text.strip())
    return text.strip() if plain else json.dumps(text.strip(), ensure_ascii=False)


def _yaml_list(patterns: Sequence[str]) -> str:
    return "[" + ", ".join(json.dumps(pattern) for pattern in patterns) + "]"


def _body(rule: Rule) -> str:
    return rule.body.strip("\n") + "\n"


def _to_cursor(rule: Rule, losses: list[Loss], *, folder_layout: bool = False) -> list[tuple[str, str]]:
    always = rule.type is RuleType.ALWAYS
    pairs: list[tuple[str, str | None]] = [
        ("description", _yaml_text(rule.description) if rule.description else None),
        # Cursor's own form: patterns joined by commas, no quotes.
        ("globs", ",".join(rule.globs) if rule.type is RuleType.AUTO_ATTACHED else None),
        ("alwaysApply", "true" if always else "false"),
    ]
    folder = f"{_folder(rule.scope)}.cursor/rules/"
    path = f"{folder}{_slug(rule)}/RULE.md" if folder_layout else f"{folder}{_slug(rule)}.mdc"
    return [(path, _frontmatter(pairs) + _body(rule))]


def _folder_prefix(pattern: str) -> str | None:
    """`api/**` and `api/**/*.py` are folder prefixes (`api`); `**/*.py` and `*.md` are not."""
    match = re.fullmatch(r"((?:[^*?\[\]{}!/]+/)*[^*?\[\]{}!/]+)/\*\*(?:/.*)?", pattern)
    return match.group(1) if match else None


def _section(rule: Rule, note: str | None = None) -> str:
    heading = f"## {rule.name}"
    return f"{heading}\n\n" + (f"_{note}_\n\n" if note else "") + _body(rule)


def _to_agents(rule: Rule, losses: list[Loss]) -> list[tuple[str, str]]:
    return _to_sections("AGENTS.md", rule, losses)


def _to_sections(filename: str, rule: Rule, losses: list[Loss]) -> list[tuple[str, str]]:
    if rule.type is RuleType.ALWAYS:
        return [(f"{_folder(rule.scope)}{filename}", _section(rule))]
    if rule.type is RuleType.AUTO_ATTACHED:
        prefixes = {_folder_prefix(pattern) for pattern in _scoped(rule)}
        if len(prefixes) == 1 and None not in prefixes:
            (prefix,) = prefixes
            narrowed = [p for p in _scoped(rule) if p not in {f"{prefix}/**", f"{prefix}/**/*"}]
            if narrowed:
                losses.append(
                    Loss(
                        rule.relpath,
                        f"{filename} in {prefix}/ applies to every file there, not only {', '.join(narrowed)}",
                    )
                )
            return [(f"{prefix}/{filename}", _section(rule))]
        patterns = ", ".join(_scoped(rule))
        losses.append(
            Loss(
                rule.relpath,
                f"{filename} has no globs: the rule is always on, with a note that it is meant for {patterns}",
            )
        )
        return [(filename, _section(rule, f"For files matching {patterns}."))]
    mode = "agent-requested" if rule.type is RuleType.AGENT_REQUESTED else "manual"
    losses.append(Loss(rule.relpath, f"{filename} has no {mode} rules: the rule is always on, with a note"))
    note = f"When relevant: {rule.description}" if rule.description else "Apply only when asked to."
    return [(f"{_folder(rule.scope)}{filename}", _section(rule, note))]


def _to_claude(rule: Rule, losses: list[Loss]) -> list[tuple[str, str]]:
    if rule.type is RuleType.AUTO_ATTACHED:
        pairs = [
            ("description", _yaml_text(rule.description) if rule.description else None),
            ("paths", _yaml_list(_scoped(rule))),
        ]
        return [(f".claude/rules/{_slug(rule)}.md", _frontmatter(pairs) + _body(rule))]
    return _to_sections("CLAUDE.md", rule, losses)


def _to_copilot(rule: Rule, losses: list[Loss]) -> list[tuple[str, str]]:
    if rule.type is RuleType.ALWAYS and not rule.scope:
        return [(".github/copilot-instructions.md", _section(rule))]
    description = _yaml_text(rule.description) if rule.description else None
    if rule.type is RuleType.ALWAYS:
        apply_to: str | None = json.dumps(f"{rule.scope}/**")
    elif rule.type is RuleType.AUTO_ATTACHED:
        apply_to = json.dumps(",".join(_scoped(rule)))
    else:
        apply_to = None
        mode = "agent-requested" if rule.type is RuleType.AGENT_REQUESTED else "manual"
        losses.append(
            Loss(
                rule.relpath,
                f"Copilot has no {mode} mode: the file has no applyTo, so Copilot uses it only when attached by hand",
            )
        )
    pairs = [("description", description), ("applyTo", apply_to)]
    # A nested rule keeps its folder under .github/instructions (Copilot reads the subfolders too).
    return [
        (f".github/instructions/{_folder(rule.scope)}{_slug(rule)}.instructions.md", _frontmatter(pairs) + _body(rule))
    ]


def _flat(rule: Rule, losses: list[Loss], target: str, glob_word: str) -> tuple[RuleType, list[str]]:
    """The rule's mode and root-relative patterns for a target without nested rule folders.

    An always-on rule of a subfolder becomes a rule attached to everything under that folder, and the loss is told.
    """
    if rule.type is RuleType.ALWAYS and rule.scope:
        losses.append(
            Loss(
                rule.relpath,
                f"{target} not nested: always-on in {rule.scope}/ becomes {glob_word} {rule.scope}/**",
            )
        )
        return RuleType.AUTO_ATTACHED, [f"{rule.scope}/**"]
    return rule.type, _scoped(rule) if rule.type is RuleType.AUTO_ATTACHED else []


def _to_windsurf(rule: Rule, losses: list[Loss]) -> list[tuple[str, str]]:
    mode, globs = _flat(rule, losses, "Windsurf rules are", "glob")
    trigger = {
        RuleType.ALWAYS: "always_on",
        RuleType.AUTO_ATTACHED: "glob",
        RuleType.AGENT_REQUESTED: "model_decision",
        RuleType.MANUAL: "manual",
    }[mode]
    pairs = [
        ("trigger", trigger),
        ("description", _yaml_text(rule.description) if rule.description else None),
        ("globs", ",".join(globs) if globs else None),
    ]
    return [(f".windsurf/rules/{_slug(rule)}.md", _frontmatter(pairs) + _body(rule))]


def _to_kiro(rule: Rule, losses: list[Loss]) -> list[tuple[str, str]]:
    mode, patterns = _flat(rule, losses, "Kiro steering is", "fileMatch")
    inclusion = {
        RuleType.ALWAYS: "always",
        RuleType.AUTO_ATTACHED: "fileMatch",
        RuleType.AGENT_REQUESTED: "auto",
        RuleType.MANUAL: "manual",
    }[mode]
    pattern_text = (json.dumps(patterns[0]) if len(patterns) == 1 else _yaml_list(patterns)) if patterns else None
    pairs = [
        ("inclusion", inclusion),
        ("fileMatchPattern", pattern_text),
        ("description", _yaml_text(rule.description) if rule.description else None),
    ]
    return [(f".kiro/steering/{_slug(rule)}.md", _frontmatter(pairs) + _body(rule))]


def _anchored(patterns: Sequence[str]) -> list[str]:
    """Root-relative patterns for a target that anchors them (Cline): `*.py`, meant at any depth, is `**/*.py`."""
    kept: list[str] = []
    for pattern in patterns:
        negated = pattern.startswith("!")
        body = pattern[1:] if negated else pattern
        kept.append(("!" if negated else "") + (body if "/" in body else f"**/{body}"))
    return kept


def _to_cline(rule: Rule, losses: list[Loss]) -> list[tuple[str, str]]:
    description = _yaml_text(rule.description) if rule.description else None
    if rule.type is RuleType.AUTO_ATTACHED:
        pairs = [("description", description), ("paths", _yaml_list(_anchored(_scoped(rule))))]
        return [(f".clinerules/{_slug(rule)}.md", _frontmatter(pairs) + _body(rule))]
    if rule.type is not RuleType.ALWAYS:
        losses.append(Loss(rule.relpath, f"Cline has no {rule.type} rules: the rule is always on"))
    pairs = [("description", description), ("paths", _yaml_list([f"{rule.scope}/**"]) if rule.scope else None)]
    return [(f".clinerules/{_slug(rule)}.md", _frontmatter(pairs) + _body(rule))]


def _to_gemini(rule: Rule, losses: list[Loss]) -> list[tuple[str, str]]:
    written = _to_sections("GEMINI.md", rule, losses)
    nested = [path for path, _ in written if "/" in path]
    if nested:
        losses.append(
            Loss(rule.relpath, f"Gemini CLI loads every GEMINI.md below the root at start: {nested[0]} is not scoped")
        )
    return written


def _single_file(filename: str, title: str) -> Callable[[Rule, list[Loss]], list[tuple[str, str]]]:
    """A target with one always-on file at the root (Zed's `.rules`, Junie's guidelines): a section per rule."""

    def write(rule: Rule, losses: list[Loss]) -> list[tuple[str, str]]:
        if rule.type is RuleType.ALWAYS and not rule.scope:
            return [(filename, _section(rule))]
        if rule.type is RuleType.AUTO_ATTACHED:
            note = f"For files matching {', '.join(_scoped(rule))}."
        elif rule.type is RuleType.ALWAYS:
            note = f"For files under {rule.scope}/."
        else:
            note = f"When relevant: {rule.description}" if rule.description else "Apply only when asked to."
        losses.append(Loss(rule.relpath, f"{title} has one always-on file: the rule is always on, with a note"))
        return [(filename, _section(rule, note))]

    return write


def _to_roo(rule: Rule, losses: list[Loss]) -> list[tuple[str, str]]:
    if rule.type is RuleType.ALWAYS and not rule.scope:
        return [(f".roo/rules/{_slug(rule)}.md", _body(rule))]
    _, text = _single_file("", "Roo")(rule, losses)[0]
    losses[-1] = Loss(rule.relpath, "Roo rules are always on in every mode: the rule is always on, with a note")
    return [(f".roo/rules/{_slug(rule)}.md", text)]


def _to_continue(rule: Rule, losses: list[Loss]) -> list[tuple[str, str]]:
    # Continue: alwaysApply true always; false with globs when one matches, false without them by description.
    mode, globs = _flat(rule, losses, "Continue rules are", "globs")
    if mode is RuleType.MANUAL:
        losses.append(Loss(rule.relpath, "Continue has no manual rules: the agent decides from the description"))
    pairs = [
        ("name", _yaml_text(rule.name)),
        ("description", _yaml_text(rule.description) if rule.description else None),
        ("globs", _yaml_list(globs) if globs else None),
        ("alwaysApply", "true" if mode is RuleType.ALWAYS else "false"),
    ]
    return [(f".continue/rules/{_slug(rule)}.md", _frontmatter(pairs) + _body(rule))]


_WRITERS: dict[str, Callable[[Rule, list[Loss]], list[tuple[str, str]]]] = {
    "cursor": _to_cursor,
    "cursor-rule-md": lambda rule, losses: _to_cursor(rule, losses, folder_layout=True),
    "agents-md": _to_agents,
    "claude": _to_claude,
    "copilot": _to_copilot,
    "windsurf": _to_windsurf,
    "kiro": _to_kiro,
    "cline": _to_cline,
    "codex": _to_agents,
    "opencode": _to_agents,
    "gemini": _to_gemini,
    "roo": _to_roo,
    "zed": _single_file(".rules", "Zed"),
    "junie": _single_file(".junie/guidelines.md", "Junie"),
    "continue": _to_continue,
}
