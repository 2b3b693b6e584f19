"""Rendering the rules for some files as one text that fits a token budget.

The order is stable and is the priority: the always-on rules in scope (the root's first, then nested ones), the
rules attached by a pattern, the agent-requested rules by their description, then every other rule by name only.
A rule that does not fit is left out whole and listed, so the model can ask for it. `@file` and `mdc:`
references are listed, not inlined, unless asked for. The same text never goes in twice: a `CLAUDE.md` that is
a link to `AGENTS.md`, or holds the same text, is said once; a reference to a rule already in the text is not
inlined again.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from codegen_lab.rule_engine._model import Rule, RuleType, estimate_tokens
from codegen_lab.rule_engine._unicode import clean

if TYPE_CHECKING:
    from codegen_lab.rule_engine._engine import RuleEngine
    from codegen_lab.rule_engine._tool_results import RenderResult

__all__ = ["DEFAULT_BUDGET", "REFERENCE_CAP", "Rendering", "capped", "render_rules"]

DEFAULT_BUDGET = 8_000
"""Tokens a rendering takes at most unless told otherwise (estimated at about four characters a token)."""
REFERENCE_CAP = 20_000
"""Characters of one inlined reference at most."""


@dataclass(slots=True)
class Rendering:
    """The text for some files, what is in it, and what was left out to fit the budget."""

    text: str
    rules: list[str] = field(default_factory=list[str])
    """The rules whose text is in full, in order (paths relative to the root)."""
    omitted: list[str] = field(default_factory=list[str])
    """Rules that apply but were left out to fit the budget (listed in the text by name)."""
    duplicates: dict[str, str] = field(default_factory=dict[str, str])
    """Rules left out because another rule holds the same file or text: {left out: the one kept}."""
    references: list[str] = field(default_factory=list[str])
    """Files the included rules point at (`@file`, `mdc:`), inside the root."""
    tokens: int = 0
    budget: int = DEFAULT_BUDGET
    truncated: bool = False
    """Something that applies was left out (or the text was cut) to fit the budget."""
    settings: list[str] = field(default_factory=list[str])
    """The user's (or the project's) assistant settings that changed what is rendered (`file: key = value`)."""

    def to_result(self) -> RenderResult:
        """The rendering as the `render` JSON contract has it (`rules_render`'s result)."""
        from codegen_lab.rule_engine._tool_results import RenderResult  # noqa: PLC0415

        return RenderResult(
            rules=self.rules,
            text=self.text,
            truncated=self.truncated,
            omitted=self.omitted,
            duplicates=self.duplicates,
            references=self.references,
            tokens=self.tokens,
            budget=self.budget,
            settings=self.settings,
        )


def _identity(rule: Rule) -> tuple[str, str]:
    """What makes two rule files the same text: the file they resolve to, and their body's digest."""
    real = os.path.realpath(rule.path)
    return real, hashlib.sha256(rule.body.strip().encode("utf-8")).hexdigest()


class _Builder:
    def __init__(self, engine: RuleEngine, budget: int, *, inline_references: bool) -> None:
        self.engine = engine
        self.budget = budget
        self.inline_references = inline_references
        self.parts: list[str] = []
        self.used = 0
        """Characters taken so far, the newline that joins the parts included."""
        self.result = Rendering("", budget=budget)
        self.seen_files: dict[str, str] = {}
        self.seen_texts: dict[str, str] = {}

    def fits(self, text: str) -> bool:
        return (self.used + len(text) + 1 + 3) // 4 <= self.budget  # `estimate_tokens` of the text so far

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.used += len(text) + 1

    def duplicate_of(self, rule: Rule) -> str | None:
        real, digest = _identity(rule)
        return self.seen_files.get(real) or self.seen_texts.get(digest)

    def remember(self, rule: Rule) -> None:
        real, digest = _identity(rule)
        self.seen_files.setdefault(real, rule.relpath)
        self.seen_texts.setdefault(digest, rule.relpath)

    def rule_section(self, rule: Rule) -> str:
        heading = f"# Rule: {rule.name} ({rule.relpath}, {rule.type})"
        return f"{heading}\n\n{clean(rule.body).strip()}\n" + self.references_of(rule)

    def references_of(self, rule: Rule) -> str:
        lines: list[str] = []
        inlined: list[str] = []
        for reference in rule.references:
            target = self.engine._reference_path(rule, reference.target)  # pyright: ignore[reportPrivateUsage]
            if target is None or not target.is_file():
                continue
            shown = target.relative_to(self.engine.root).as_posix()
            if shown in self.result.references:
                continue
            self.result.references.append(shown)
            twin = self.seen_files.get(os.path.realpath(target))
            if twin is not None:
                lines.append(f"- {shown} (its text is above, as the rule {twin})")
            elif self.inline_references:
                content = clean(target.read_text(encoding="utf-8", errors="replace"))
                inlined.append(f"\n## Referenced file: {shown}\n\n{capped(content, REFERENCE_CAP)}\n")
            else:
                lines.append(f"- {shown}")
        listed = "\nReferenced files (read them when the work needs them):\n" + "\n".join(lines) + "\n" if lines else ""
        return listed + "".join(inlined)


def render_rules(
    engine: RuleEngine,
    paths: Iterable[str | Path],
    request: str | None = None,
    *,
    budget: int = DEFAULT_BUDGET,
    inline_references: bool = False,
    assistant: str | None = None,
    mode: str | None = None,
) -> Rendering:
    """The rules an assistant should follow for the files `paths`, as one text of at most `budget` tokens.

    With `assistant`, only what that assistant loads (its files, its precedence, its imports, the user's own
    rule files and settings), and the rules listed by description or name are its own; `mode` is Roo's mode.
    """
    focus = [engine.relative(path) for path in paths]
    chosen: dict[str, Rule] = {}
    settings: dict[str, None] = {}
    for relpath in focus:
        explanation = engine.explain(relpath, assistant, mode=mode)
        for view in explanation.views:
            settings.update(dict.fromkeys(view.settings))
        for entry in explanation.attached:
            chosen.setdefault(entry.rule.relpath, entry.rule)
    # In the order the assistant loads them (the user's own rule files first), else the engine's.
    position = {relpath: index for index, relpath in enumerate(chosen)}
    ordered = sorted(chosen.values(), key=lambda rule: (rule.type is not RuleType.ALWAYS, position[rule.relpath]))
    build = _Builder(engine, budget, inline_references=inline_references)
    build.result.settings = list(settings)
    if request:
        build.add(f"# Request\n\n{clean(request).strip()}\n")
    if focus:
        build.add("# Files in focus\n\n" + "\n".join(f"- {relpath}" for relpath in focus) + "\n")
    omitted: list[Rule] = []
    for rule in ordered:
        twin = build.duplicate_of(rule)
        if twin is not None:
            build.result.duplicates[rule.relpath] = twin
            continue
        build.remember(rule)
        section = build.rule_section(rule)
        if build.fits(section):
            build.add(section)
            build.result.rules.append(rule.relpath)
        else:
            omitted.append(rule)
    _listings(engine, build, chosen, omitted, assistant)
    text = "\n".join(build.parts)
    result = build.result
    result.text = text
    result.omitted = [rule.relpath for rule in omitted]
    result.tokens = estimate_tokens(text)
    result.truncated = bool(omitted) or result.truncated
    return result


def _listings(
    engine: RuleEngine, build: _Builder, chosen: dict[str, Rule], omitted: list[Rule], assistant: str | None
) -> None:
    """The short lists after the rules: left out for the budget, on request by description, the rest by name.

    Each list takes the lines that fit; a line that does not fit ends its list and marks the result truncated.
    """
    from codegen_lab.rule_engine._assistants import assistant_named, reads  # noqa: PLC0415

    reader = assistant_named(assistant) if assistant is not None else None
    pool = [rule for rule in engine.rules if rule.relpath not in chosen and (reader is None or reads(reader, rule))]
    requested = [rule for rule in pool if rule.type is RuleType.AGENT_REQUESTED]
    others = [rule for rule in pool if rule.type is RuleType.MANUAL]
    sections = (
        (
            "# Rules that apply but were left out to fit the budget (ask for them by name)",
            [f"- {rule.name} ({rule.relpath}): about {estimate_tokens(rule.body):,} tokens" for rule in omitted],
        ),
        (
            "# Rules available on request",
            [f"- {rule.name} ({rule.relpath}): {clean(rule.description or '')}" for rule in requested],
        ),
        ("# Other rules, by name", [f"- {rule.name} ({rule.relpath})" for rule in others]),
    )
    for title, candidates in sections:
        lines: list[str] = []
        for line in candidates:
            if not build.fits(f"{title}\n\n" + "\n".join([*lines, line]) + "\n"):
                build.result.truncated = True
                break
            lines.append(line)
        if lines:
            build.add(f"{title}\n\n" + "\n".join(lines) + "\n")


def capped(text: str, limit: int) -> str:
    """`text` cut at `limit` characters, saying so."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n\n[... cut at {limit:,} characters of {len(text):,}]"
