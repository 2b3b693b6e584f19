"""Lint: checks with stable codes, drawn from the ways real rule files fail, and the safe fixes."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from codegen_lab.rule_engine._document import Document, FieldSpan, parse_document, read_value, split_outside_braces
from codegen_lab.rule_engine._matcher import CompiledRules
from codegen_lab.rule_engine._model import Diagnostic, GlobShape, Rule, RuleType, Severity, estimate_tokens
from codegen_lab.rule_engine._unicode import HiddenCharacter, sanitize_text
from codegen_lab.rule_engine.errors import RuleEngineUsageError

if TYPE_CHECKING:
    from codegen_lab.rule_engine._engine import RuleEngine
    from codegen_lab.rule_engine._tool_results import LintResult

__all__ = ["CHECKS", "Check", "LintReport", "ValidationResult", "fix_text", "lint", "validate_rule"]

MAX_LINES = 500


@dataclass(frozen=True, slots=True)
class Check:
    """A lint check: its stable code, default severity, and what it is about."""

    code: str
    severity: Severity
    title: str
    fixable: bool = False


CHECKS: dict[str, Check] = {
    check.code: check
    for check in (
        Check("RE001", Severity.ERROR, "frontmatter opened but never closed"),
        Check("RE002", Severity.WARNING, "Cursor rule without frontmatter (it can only be attached manually)"),
        Check("RE003", Severity.INFO, "frontmatter is not valid YAML; read as Cursor reads it"),
        Check("RE004", Severity.ERROR, "alwaysApply is not a boolean Cursor reads", fixable=True),
        Check("RE005", Severity.WARNING, "quoted glob: Cursor matches the quotes literally", fixable=True),
        Check("RE006", Severity.WARNING, "space after a comma in globs", fixable=True),
        Check("RE007", Severity.INFO, "braces in a glob: support across assistants is disputed"),
        Check("RE008", Severity.WARNING, "glob matches no file in the repository"),
        Check("RE009", Severity.WARNING, "globs are dead because alwaysApply is true"),
        Check("RE010", Severity.WARNING, "agent-requested rule without a description"),
        Check("RE011", Severity.WARNING, ".md file inside .cursor/rules: Cursor ignores it"),
        Check("RE012", Severity.WARNING, ".cursorrules beside .cursor/rules"),
        Check("RE013", Severity.WARNING, f"rule longer than {MAX_LINES} lines"),
        Check("RE014", Severity.INFO, "token cost of an always-on rule"),
        Check("RE015", Severity.WARNING, "@file reference to a file that does not exist"),
        Check("RE016", Severity.WARNING, "mdc: link to a file that does not exist"),
        Check("RE017", Severity.WARNING, "two rules share a name across nested folders"),
        Check(
            "RE018",
            Severity.ERROR,
            "hidden Unicode (bidi, tag, zero-width, variation-selector or filler characters)",
            fixable=True,
        ),
        Check("RE019", Severity.INFO, "unknown frontmatter key"),
        Check("RE020", Severity.WARNING, "tab in the frontmatter (YAML forbids tabs for indentation)", fixable=True),
        Check("RE021", Severity.WARNING, "rule without a body"),
        Check("RE022", Severity.ERROR, "frontmatter key given twice"),
        Check("RE023", Severity.WARNING, "glob reaches outside the rule's scope"),
        Check("RE024", Severity.WARNING, "file is unreadable or not valid UTF-8"),
        Check("RE025", Severity.WARNING, "frontmatter value of the wrong type"),
        Check("RE026", Severity.WARNING, "part of the tree not walked (symbolic link loop, too deep, unreadable)"),
        Check("RE027", Severity.WARNING, "a rule file its assistant does not read where it is"),
    )
}


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """The verdict on one rule: valid when it has no error-level diagnostic."""

    rule: str
    diagnostics: tuple[Diagnostic, ...]

    @property
    def valid(self) -> bool:
        """Whether the rule has no error."""
        return not any(d.severity is Severity.ERROR for d in self.diagnostics)


@dataclass(slots=True)
class LintReport:
    """Every diagnostic of a lint run, and its summary."""

    diagnostics: list[Diagnostic]
    files: int
    always_on_tokens: int
    fixed: list[str] = field(default_factory=list[str])
    """Files that `--fix` rewrote."""
    assistants: dict[str, dict[str, int]] = field(default_factory=dict[str, dict[str, int]])
    """Per assistant that reads a rule here: the rule files it reads, their diagnostics and its always-on tokens."""

    @property
    def counts(self) -> Counter[str]:
        """Diagnostics per severity."""
        return Counter(str(d.severity) for d in self.diagnostics)

    def to_result(self) -> LintResult:
        """The report as the `lint` JSON contract has it (`rules_lint`'s result)."""
        from codegen_lab.rule_engine._tool_results import LintResult, LintSummary  # noqa: PLC0415

        counts = self.counts
        summary = LintSummary(
            files=self.files,
            errors=counts.get("error", 0),
            warnings=counts.get("warning", 0),
            infos=counts.get("info", 0),
            fixable=sum(d.fixable for d in self.diagnostics),
            always_on_tokens=self.always_on_tokens,
            fixed=self.fixed,
            assistants=self.assistants,
        )
        return LintResult(diagnostics=[d.to_result() for d in self.diagnostics], summary=summary)


def _diagnostic(code: str, rule: Rule, message: str, line: int | None = None) -> Diagnostic:
    check = CHECKS[code]
    return Diagnostic(code, check.severity, message, rule.relpath, line, check.fixable)


def _rule_checks(rule: Rule, document: Document) -> Iterator[Diagnostic]:  # noqa: PLR0912 (one place per check)
    is_cursor = rule.format in {"cursor-mdc", "cursor-rule-md"}
    spans = document.fields
    if is_cursor and document.frontmatter is None and not document.unclosed:
        yield _diagnostic("RE002", rule, "no frontmatter: Cursor attaches this rule only when it is mentioned", 1)
    for span in document.duplicates:
        yield _diagnostic("RE022", rule, f"{span.key} is given again on line {span.start + 1}", span.start + 1)
    always = spans.get("alwaysApply")
    if is_cursor and always is not None:
        value = read_value(always).value
        if not isinstance(value, bool):
            quoted = always.inline.strip().strip("\"'").lower() in {"true", "false"}
            hint = " (a quoted string is not a boolean: write true or false without quotes)" if quoted else ""
            yield Diagnostic(
                "RE004",
                Severity.ERROR,
                f"alwaysApply is {always.inline.strip()!r}, not true or false{hint}",
                rule.relpath,
                always.start + 1,
                fixable=quoted,
            )
    glob_span = spans.get("globs") if is_cursor else None
    if glob_span is not None:
        yield from _glob_text_checks(rule, glob_span)
    for pattern in rule.globs if rule.format not in _EXPANDS_BRACES else ():
        if "{" in pattern:
            line = glob_span.start + 1 if glob_span else None
            yield _diagnostic("RE007", rule, f"{pattern} uses braces; not every assistant expands them", line)
        if ".." in pattern.split("/"):
            yield _diagnostic("RE023", rule, f"{pattern} climbs out of the rule's scope with ..")
    if is_cursor and rule.always_apply and rule.globs:
        line = glob_span.start + 1 if glob_span else None
        yield _diagnostic("RE009", rule, f"globs {', '.join(rule.globs)} are ignored because alwaysApply is true", line)
    description = spans.get("description")
    if is_cursor and rule.type is RuleType.MANUAL and description is not None and not (rule.description or "").strip():
        yield _diagnostic(
            "RE010",
            rule,
            "the description is empty, so the agent can never request this rule; describe when to use it",
            description.start + 1,
        )
    for key in rule.unknown_keys:
        span = spans.get(key)
        yield _diagnostic("RE019", rule, f"{key} is not a key {rule.format} reads", span.start + 1 if span else None)
    if rule.format == "cline" and "paths" in rule.frontmatter:
        yield from _cline_paths(rule, spans)
    if "description" in rule.frontmatter and not isinstance(rule.frontmatter["description"], (str, type(None))):
        kind = type(rule.frontmatter["description"]).__name__
        yield _diagnostic("RE025", rule, f"description is a {kind}, not text", _line(spans, "description"))
    lines = len(document.lines)
    if lines > MAX_LINES:
        yield _diagnostic("RE013", rule, f"{lines} lines (over {MAX_LINES}): split it, it costs context on every use")
    if not rule.body.strip():
        yield _diagnostic("RE021", rule, "the rule has no text after its frontmatter", rule.body_line)
    if rule.type is RuleType.ALWAYS:
        tokens = estimate_tokens(rule.body)
        yield _diagnostic("RE014", rule, f"always on: about {tokens:,} tokens in {_every_request(rule)}")
    if document.frontmatter is not None:
        start, end = document.frontmatter
        for index in range(start + 1, end):
            if "\t" in document.lines[index]:
                yield _diagnostic("RE020", rule, "a tab in the frontmatter; use spaces", index + 1)
    yield from _hidden_unicode(rule, document)


def _cline_paths(rule: Rule, spans: dict[str, FieldSpan]) -> Iterator[Diagnostic]:
    line = _line(spans, "paths")
    if rule.type is RuleType.ALWAYS:
        kind = type(rule.frontmatter["paths"]).__name__
        yield _diagnostic(
            "RE025",
            rule,
            f"paths is a {kind}, not a list of non-empty strings: Cline ignores it and the rule is always on",
            line,
        )
    elif rule.type is RuleType.MANUAL:
        yield _diagnostic("RE025", rule, "paths is an empty list: Cline never uses this rule", line)


def _line(spans: dict[str, FieldSpan], key: str) -> int | None:
    span = spans.get(key)
    return span.start + 1 if span else None


def _glob_text_checks(rule: Rule, span: FieldSpan) -> Iterator[Diagnostic]:
    read = read_value(span, keep_quotes=True)
    if read.quoted:
        yield _diagnostic(
            "RE005", rule, "a glob is in quotes; Cursor keeps the quotes and the glob matches nothing", span.start + 1
        )
    text = span.inline
    several = not read.flow_list and not read.block_list and len(split_outside_braces(text)) > 1
    if several and re.search(r",[ \t]+\S", text):
        yield _diagnostic(
            "RE006",
            rule,
            f"a space after a comma in globs: Cursor keeps it, so {', '.join(rule.dead_globs) or 'the next pattern'}"
            " matches nothing",
            span.start + 1,
        )


def _hidden_unicode(rule: Rule, document: Document) -> Iterator[Diagnostic]:
    _, found = sanitize_text("".join(document.lines))
    by_line: dict[int, list[HiddenCharacter]] = {}
    for hidden in found:
        by_line.setdefault(hidden.line, []).append(hidden)
    for line, chars in by_line.items():
        names = ", ".join(sorted({char.label for char in chars}))
        yield _diagnostic("RE018", rule, f"hidden characters that can smuggle instructions: {names}", line)


def validate_rule(rule: Rule) -> ValidationResult:
    """Check one rule on its own (no repository context): its parse, frontmatter, globs and text."""
    document = parse_document(rule.path.read_text(encoding="utf-8", errors="replace")) if rule.path.exists() else None
    found = list(rule.diagnostics)
    if document is not None:
        found += _rule_checks(rule, document)
    return ValidationResult(rule.relpath, tuple(found))


def lint(
    engine: RuleEngine,
    *,
    fix: bool = False,
    write: Callable[[Rule, str], None] | None = None,
    assistant: str | None = None,
    mode: str | None = None,
) -> LintReport:
    """Every check over every rule of the engine, plus the checks that look across rules and the repository.

    Args:
        engine: The repository's rules.
        assistant: Only the rule files this assistant reads (`cursor`, `claude`, ...), with its totals; default:
            every rule file, with totals per assistant.
        mode: With `assistant="roo"`, only the files Roo Code reads in this mode (`code`, `architect`, ...).
        fix: Rewrite files whose diagnostics have a safe fix (through `write`), then report what remains.
        write: How a fixed text is written (default: atomic writes with backups, all of the run one change set
            that one `revert` takes back).
    """
    if fix and write is None:
        from codegen_lab.rule_engine._write import journaled_writes  # noqa: PLC0415

        with journaled_writes(engine.root, "rules lint --fix") as journaled:
            return lint(
                engine,
                fix=True,
                write=lambda rule, text: journaled(rule.path, text),
                assistant=assistant,
                mode=mode,
            )
    if mode is not None and assistant != "roo":
        raise RuleEngineUsageError("a mode is a Roo Code setting", hint="Pass --mode with --assistant roo")
    if assistant is not None:
        engine = _read_by(engine, assistant, mode)
    diagnostics: list[Diagnostic] = []
    fixed: list[str] = []
    for rule in engine.rules:
        result = validate_rule(rule)
        if write is not None and fix and any(d.fixable for d in result.diagnostics):
            original = rule.path.read_text(encoding="utf-8")
            repaired = fix_text(original, rule)
            if repaired != original:
                write(rule, repaired)
                fixed.append(rule.relpath)
                rule = _reread(engine, rule)  # noqa: PLW2901 (report what is left after the fix)
                result = validate_rule(rule)
        diagnostics.extend(result.diagnostics)
    diagnostics.extend(_repository_checks(engine))
    tokens = always_on_tokens(engine.rules)
    diagnostics.sort(key=lambda d: (d.path, d.line or 0, d.code))
    report = LintReport(
        diagnostics, files=len(engine.rules) + len(engine.ignored), always_on_tokens=tokens, fixed=fixed
    )
    report.assistants = assistant_totals(engine, diagnostics, only=assistant)
    if assistant is not None:
        report.always_on_tokens = report.assistants.get(assistant, {}).get("always_on_tokens", 0)
    return report


def _read_by(engine: RuleEngine, assistant: str, mode: str | None = None) -> RuleEngine:
    """The engine with only the rule files `assistant` reads (Roo: in `mode`)."""
    from codegen_lab.rule_engine._assistants import assistant_named, reads, roo_mode  # noqa: PLC0415
    from codegen_lab.rule_engine._engine import RuleEngine  # noqa: PLC0415

    chosen = assistant_named(assistant)
    formats = chosen.formats
    checked = roo_mode(engine, mode) if mode is not None else None
    return RuleEngine(
        engine.root,
        [rule for rule in engine.rules if reads(chosen, rule, checked)],
        ignored=engine.ignored if "cursor-mdc" in formats else (),
        repository_paths=engine.repository_paths,
        notes=engine.notes,
        folders=engine.folders,
    )


_EXPANDS_BRACES = frozenset({"continue", "cline"})
"""Formats whose one reader expands `{a,b}`: Continue matches with minimatch (core/llm/rules/
getSystemMessageWithRules.ts), Cline with picomatch (user-instructions/rule-conditionals.ts)."""


def _every_request(rule: Rule) -> str:
    """Which requests an always-on rule is in: every one, those about its folder, or those of Roo's mode."""
    from codegen_lab.rule_engine._assistants import roo_mode_of  # noqa: PLC0415

    mode = roo_mode_of(rule.relpath) if rule.format in {"roo", "cline"} else None
    if mode is not None:
        return f"every request in Roo's {mode} mode"
    if rule.scope:
        return f"every request about a file under {rule.scope}/"
    return "every request"


def assistant_totals(
    engine: RuleEngine, diagnostics: Iterable[Diagnostic], *, only: str | None = None
) -> dict[str, dict[str, int]]:
    """Per assistant: the rule files it reads, their errors and warnings, and what it loads on every request.

    Every request is what the assistant loads for a file at the root: its always-on files there and their imports.
    """
    from codegen_lab.rule_engine._assistants import assistant_named, assistants_of, reads  # noqa: PLC0415

    chosen = (assistant_named(only),) if only is not None else assistants_of(engine.rules)
    # The repository's own files: a lint says the same on every machine, whatever its user's settings.
    own = {rule.relpath for rule in engine.rules}
    by_path = Counter((d.path, str(d.severity)) for d in diagnostics)
    explanation = engine.explain(engine.root, "all")
    views = {view.assistant.name: view for view in explanation.views}
    totals: dict[str, dict[str, int]] = {}
    for one in chosen:
        paths = [rule.relpath for rule in engine.rules if reads(one, rule)]
        view = views.get(one.name)
        attached = view.attached if view else ()
        loaded = [entry.rule for entry in attached if entry.rule.type is RuleType.ALWAYS and entry.rule.relpath in own]
        totals[one.name] = {
            "files": len(paths),
            "errors": sum(by_path[(path, "error")] for path in paths),
            "warnings": sum(by_path[(path, "warning")] for path in paths),
            "always_on_tokens": always_on_tokens(loaded),
        }
    return totals


def always_on_tokens(rules: Iterable[Rule]) -> int:
    """About how many tokens the always-on rules cost a request, each file counted once.

    A `CLAUDE.md` that is a symbolic link to `AGENTS.md` (or holds the same text) reaches the model once.
    """
    seen: set[str] = set()
    total = 0
    for rule in rules:
        if rule.type is not RuleType.ALWAYS:
            continue
        text = rule.body.strip()
        if text not in seen:
            seen.add(text)
            total += estimate_tokens(rule.body)
    return total


def _reread(engine: RuleEngine, rule: Rule) -> Rule:
    from codegen_lab.rule_engine._formats import format_for  # noqa: PLC0415
    from codegen_lab.rule_engine._reader import read_rule  # noqa: PLC0415

    fmt = format_for(rule.relpath)
    return read_rule(rule.path, engine.root, fmt) if fmt is not None else rule


def _repository_checks(engine: RuleEngine) -> Iterator[Diagnostic]:
    yield from engine.notes
    for path in engine.ignored:
        relpath = path.relative_to(engine.root).as_posix()
        check = CHECKS["RE011"]
        yield Diagnostic("RE011", check.severity, f"{relpath} is ignored by Cursor: rename it to .mdc", relpath)
    folders_with_cursor_rules = {rule.scope for rule in engine.rules if rule.format.startswith("cursor-")}
    for rule in engine.rules:
        if rule.format == "cursorrules" and rule.scope in folders_with_cursor_rules:
            yield _diagnostic("RE012", rule, "legacy .cursorrules beside .cursor/rules: migrate it into .cursor/rules")
    yield from _duplicate_names(engine.rules)
    yield from _dead_globs(engine)
    yield from _unresolved_references(engine)


def _duplicate_names(rules: Iterable[Rule]) -> Iterator[Diagnostic]:
    by_name: dict[tuple[str, str], list[Rule]] = {}
    for rule in rules:
        if rule.format in {"cursor-mdc", "cursor-rule-md"}:
            by_name.setdefault((rule.format, rule.name), []).append(rule)
    for (_, name), same in by_name.items():
        if len({rule.scope for rule in same}) > 1:
            for rule in same:
                others = ", ".join(other.relpath for other in same if other is not rule)
                yield _diagnostic("RE017", rule, f"the name {name!r} is also used by {others}")


def _dead_globs(engine: RuleEngine) -> Iterator[Diagnostic]:
    candidates = [rule for rule in engine.rules if rule.type is RuleType.AUTO_ATTACHED and rule.globs]
    if not candidates or not engine.repository_paths:
        return
    matcher = CompiledRules([(rule.scope, [p for p in rule.globs if not p.startswith("!")]) for rule in candidates])
    live = matcher.live(engine.repository_paths)
    for index, rule in enumerate(candidates):
        for pattern in rule.globs:
            if not pattern.startswith("!") and pattern not in rule.dead_globs and (index, pattern) not in live:
                message = f"{pattern} matches no file in the repository"
                yield _diagnostic("RE008", rule, message, _pattern_line(rule, pattern))


def _pattern_line(rule: Rule, pattern: str) -> int | None:
    """The frontmatter line that holds `pattern` (the first line of the frontmatter when none holds it as is)."""
    try:
        document = parse_document(rule.path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None
    if document.frontmatter is None:
        return None
    start, end = document.frontmatter
    bare = pattern.strip("\"'")
    return next((index + 1 for index in range(start + 1, end) if bare in document.lines[index]), start + 2)


_NAMED_MENTIONS = frozenset({"continue"})
"""Formats whose `@name` is a mention the assistant resolves by name (Continue's context providers), not a path."""


def _unresolved_references(engine: RuleEngine) -> Iterator[Diagnostic]:
    for rule in engine.rules:
        for reference in rule.references:
            if reference.kind == "file" and rule.format in _NAMED_MENTIONS:
                continue
            if engine._reference_path(rule, reference.target) is None:  # pyright: ignore[reportPrivateUsage]
                code = "RE015" if reference.kind == "file" else "RE016"
                marker = "@" if reference.kind == "file" else "mdc:"
                yield _diagnostic(code, rule, f"{marker}{reference.target} does not exist", reference.line)


def fix_text(text: str, rule: Rule) -> str:
    """`text` with every safe fix applied.

    Hidden characters removed, tabs in the frontmatter made spaces, a quoted boolean unquoted, quotes taken off
    globs, spaces after commas in globs removed.
    """
    text, _ = sanitize_text(text)
    document = parse_document(text)
    if document.frontmatter is not None:
        start, end = document.frontmatter
        lines = list(document.lines)
        for index in range(start + 1, end):
            lines[index] = lines[index].replace("\t", "  ")
        document = parse_document(document.bom + "".join(lines))
    always = document.fields.get("alwaysApply")
    if rule.format in {"cursor-mdc", "cursor-rule-md"} and always is not None:
        bare = always.inline.strip().strip("\"'").lower()
        if bare in {"true", "false"} and not isinstance(read_value(always).value, bool):
            document = document.with_field("alwaysApply", [bare])
    glob_span = document.fields.get("globs")
    if rule.format in {"cursor-mdc", "cursor-rule-md"} and glob_span is not None:
        from codegen_lab.rule_engine._globs import Globs, globs_from_span, render_globs  # noqa: PLC0415

        unquoted = globs_from_span(glob_span, keep_quotes=False)
        current = globs_from_span(glob_span, keep_quotes=True)
        if current.quoted or current.separator == ", ":
            # Cursor's own form: one pattern, or patterns joined by commas, no quotes, no brackets.
            shape = GlobShape.COMMA if len(unquoted.patterns) > 1 else GlobShape.STRING
            document = document.with_field("globs", render_globs(Globs(unquoted.patterns, shape, separator=",")))
    return document.render()
