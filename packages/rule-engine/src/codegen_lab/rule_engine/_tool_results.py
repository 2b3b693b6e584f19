"""What the `rules_` tools return: the engine's JSON contracts, as documented models.

Each model has exactly the keys of the JSON the engine writes (`--format json`), so that the tools' output
schemas say what clients get.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Annotated, cast

from pydantic import BeforeValidator

from codegen_lab.common.results import SparseResult

__all__ = ["ExplanationResult", "LintResult", "MigrationResult", "RenderResult", "RulesResult"]


def _json_value(value: object) -> object:
    """A YAML value as JSON has it: dates and times as ISO text, sets and tuples as lists, keys as text."""
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): item for key, item in cast("dict[object, object]", value).items()}
    if isinstance(value, set | frozenset | tuple):
        return list(cast("Iterable[object]", value))
    if value is None or isinstance(value, str | int | float | list):  # bool is an int
        return cast("object", value)
    return str(value)


type HeaderValue = Annotated[
    str | int | float | bool | list[HeaderValue] | dict[str, HeaderValue] | None, BeforeValidator(_json_value)
]
"""A value of a rule's header (YAML), as JSON."""


class RuleReference(SparseResult):
    """A file a rule points at."""

    kind: str
    """`file` for an `@path` line, `mdc` for a `[text](mdc:path)` link."""
    target: str
    """The path pointed at."""
    line: int
    """The line of the rule file it is on."""


class RuleDiagnostic(SparseResult):
    """A problem found while reading a rule."""

    code: str
    """The check's code, such as `RE002`."""
    severity: str
    """`error`, `warning` or `info`."""
    line: int | None
    """The line it is on, when it is on one."""
    message: str
    """The problem in words."""


class RuleSummary(SparseResult):
    """One rule file."""

    path: str
    """The file, relative to the workspace root."""
    format: str
    """Whose format it is in (such as `cursor-mdc`, `agents-md`, `claude`)."""
    name: str
    """The rule's name."""
    type: str
    """`always`, `auto-attached`, `agent-requested` or `manual`."""
    description: str | None
    """What the rule is about, as its author wrote."""
    globs: list[str]
    """The patterns of the files it attaches to (`!` for a negation)."""
    always_apply: bool
    """Whether it applies to every request."""
    parse_mode: str
    """How its header was read (strict, or loosely when it was malformed)."""
    scope: str
    """The folder it governs (empty for the whole root)."""
    unknown_keys: dict[str, HeaderValue]
    """Header keys the format does not know, with their values."""
    references: list[RuleReference]
    """The files it points at."""
    diagnostics: list[RuleDiagnostic]
    """Problems found while reading it."""


class RulesResult(SparseResult):
    """Every rule of the workspace."""

    root: str
    """The workspace root."""
    rules: list[RuleSummary]
    """Each rule file."""


class Attached(SparseResult):
    """A rule that attaches to the path."""

    rule: str
    """The rule file, relative to the root."""
    type: str
    """The rule's type."""
    reason: str
    """Why it attaches."""
    pattern: str | None = None
    """The pattern that matched, when one did."""


class NotAttached(SparseResult):
    """A rule that does not attach to the path."""

    rule: str
    """The rule file, relative to the root."""
    reason: str
    """Why it does not attach."""


class Imported(SparseResult):
    """A file an assistant loads because a rule file imports it (`@path`)."""

    file: str
    """The imported file, relative to the root."""
    imported_by: str
    """The rule file that imports it."""


class AssistantView(SparseResult):
    """What one assistant loads for the path."""

    assistant: str
    """The assistant."""
    docs: str
    """Where its documentation says how it loads rules."""
    attached: list[Attached]
    """The rules it loads for the path."""
    not_attached: list[NotAttached]
    """The rule files it reads that it does not load for the path, each with why not."""
    imports: list[Imported]
    """Files it loads through imports that are not rule files themselves."""
    tokens: int
    """About how many tokens the attached rules' text costs."""
    settings: list[str] | None = None
    """The user's (or the project's) settings that changed this view, each as `file: key = value`."""
    warnings: list[str] | None = None
    """This assistant's settings files that could not be used, one line each."""
    mode: str | None = None
    """Roo Code's mode the view is for."""


class ExplanationResult(SparseResult):
    """Which rules attach to a path, and why."""

    path: str
    """The path explained, relative to the root."""
    attached: list[Attached]
    """The rules that attach to it."""
    not_attached: list[NotAttached]
    """The other rules, each with why not."""
    assistant: str | None = None
    """The assistant whose view `attached` is, when one was asked for."""
    assistants: dict[str, AssistantView] | None = None
    """Each assistant's view, when every assistant's was asked for (`all`)."""


class LintDiagnostic(SparseResult):
    """One lint diagnostic."""

    code: str
    """The check's code, such as `RE002`."""
    severity: str
    """`error`, `warning` or `info`."""
    path: str
    """The rule file, relative to the root."""
    line: int | None
    """The line it is on, when it is on one."""
    message: str
    """The problem in words."""
    fixable: bool
    """Whether `codegen-lab rules lint --fix` fixes it."""


class LintSummary(SparseResult):
    """Counts of a lint run."""

    files: int
    """Rule files linted."""
    errors: int
    """Diagnostics of severity error."""
    warnings: int
    """Diagnostics of severity warning."""
    infos: int
    """Diagnostics of severity info."""
    fixable: int
    """Diagnostics that `--fix` fixes."""
    always_on_tokens: int
    """About how many tokens the always-on rules cost each request."""
    fixed: list[str]
    """Files that `--fix` rewrote."""
    assistants: dict[str, dict[str, int]]
    """Per assistant: the rule files it reads (`files`), their `errors` and `warnings`, and `always_on_tokens`."""


class LintResult(SparseResult):
    """What linting the rule files found."""

    diagnostics: list[LintDiagnostic]
    """Every diagnostic."""
    summary: LintSummary
    """The counts."""


class RenderResult(SparseResult):
    """The rules' text for some files, within a token budget."""

    rules: list[str]
    """The rules whose text is in full, in order."""
    text: str
    """The text to follow."""
    truncated: bool
    """Whether something that applies was left out, or the text cut, to fit the budget."""
    omitted: list[str]
    """Rules that apply but were left out to fit the budget."""
    duplicates: dict[str, str]
    """Rules left out because another holds the same file or text: {left out: the one kept}."""
    references: list[str]
    """Files the included rules point at, inside the root."""
    tokens: int
    """About how many tokens the text takes."""
    budget: int
    """The budget, in tokens."""
    settings: list[str] | None = None
    """The user's (or the project's) assistant settings that changed what is rendered (`file: key = value`)."""


class PlannedFile(SparseResult):
    """A file the migration writes."""

    path: str
    """The file, relative to the root."""
    sources: list[str]
    """The rule files it comes from."""
    text: str
    """Its text."""


class Loss(SparseResult):
    """Something the target cannot express about one rule."""

    rule: str
    """The rule."""
    message: str
    """What is lost, and what the target does instead."""


class TokensBeforeAfter(SparseResult):
    """Tokens the always-on rules cost each request."""

    before: int
    """Before the migration."""
    after: int
    """After it."""


class RewrittenLink(SparseResult):
    """A reference of a migrated rule, rewritten to the new location."""

    rule: str
    """The rule."""
    before: str
    """The reference as written."""
    after: str
    """The reference as the new file says it."""


class MigrationResult(SparseResult):
    """A migration of the rules to another assistant's format."""

    target: str
    """The format written."""
    files: list[PlannedFile]
    """The files written (or that would be)."""
    removed: list[str]
    """Source files deleted."""
    losses: list[Loss]
    """What the target cannot express."""
    always_on_tokens: TokensBeforeAfter
    """About how many tokens the always-on rules cost each request."""
    links: list[RewrittenLink]
    """The `mdc:` and `@file` references rewritten to the new locations."""
    diff: str
    """A unified diff of the changes."""
    written: list[str]
    """The paths written or removed (empty for a dry run)."""
