"""The rule model: what every rule file, whatever its format, is read into."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from codegen_lab.rule_engine._tool_results import LintDiagnostic

__all__ = ["Diagnostic", "GlobShape", "ParseMode", "Reference", "Rule", "RuleType", "Severity"]


class RuleType(StrEnum):
    """When a rule reaches the assistant, derived in this order, as Cursor does."""

    ALWAYS = "always"
    """`alwaysApply: true`: in every request."""
    AUTO_ATTACHED = "auto_attached"
    """Globs: when a matching file is in focus."""
    AGENT_REQUESTED = "agent_requested"
    """A description only: the agent decides from the description."""
    MANUAL = "manual"
    """None of the above: only when mentioned (`@rule-name`)."""


class Severity(StrEnum):
    """How bad a diagnostic is."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class ParseMode(StrEnum):
    """Which parser read the frontmatter."""

    YAML = "yaml"
    """Strict YAML (safe_load) read it."""
    TOLERANT = "tolerant"
    """It is not valid YAML; the Cursor-compatible line parser read it."""
    NONE = "none"
    """The file has no frontmatter."""


class GlobShape(StrEnum):
    """How `globs` was written, remembered so that a rewrite keeps the author's form."""

    ABSENT = "absent"
    NULL = "null"
    """`globs:` with nothing after it, or `null`/`~`."""
    EMPTY = "empty"
    """`globs: ""`."""
    EMPTY_LIST = "empty_list"
    """`globs: []`."""
    STRING = "string"
    """One pattern: `globs: **/*.py`."""
    COMMA = "comma"
    """Several patterns in one string: `globs: **/*.ts, **/*.tsx`."""
    FLOW = "flow"
    """A flow list: `globs: ["**/*.ts", "**/*.tsx"]`."""
    BLOCK = "block"
    """A block list, one `- pattern` per line."""


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A finding about a rule file, with where it is."""

    code: str
    severity: Severity
    message: str
    path: str
    """The rule file, relative to the root, with `/` separators."""
    line: int | None = None
    """1-based line, when the finding has one."""
    fixable: bool = False

    def to_result(self) -> LintDiagnostic:
        """The diagnostic as the `lint` JSON contract has it."""
        from codegen_lab.rule_engine._tool_results import LintDiagnostic  # noqa: PLC0415

        return LintDiagnostic(
            code=self.code,
            severity=str(self.severity),
            path=self.path,
            line=self.line,
            message=self.message,
            fixable=self.fixable,
        )


@dataclass(frozen=True, slots=True)
class Reference:
    """A file a rule points at: an `@file` line or an `mdc:` link."""

    kind: str
    """`"file"` for `@path`, `"mdc"` for `[text](mdc:path)`."""
    target: str
    line: int


@dataclass(slots=True)
class Rule:
    """One rule file, read.

    `globs` are normalised (a list of patterns, `!` negations kept); `glob_shape` remembers how they were
    written. Paths are relative to the root with `/` separators; `scope` is the folder the rule governs
    (`""` for the whole root, else a nested folder such as `"services/api"`).
    """

    path: Path
    relpath: str
    format: str
    name: str
    description: str | None
    globs: tuple[str, ...]
    glob_shape: GlobShape
    always_apply: bool
    type: RuleType
    body: str
    body_line: int
    parse_mode: ParseMode
    scope: str = ""
    frontmatter: dict[str, Any] = field(default_factory=dict[str, Any])
    unknown_keys: dict[str, Any] = field(default_factory=dict[str, Any])
    references: tuple[Reference, ...] = ()
    diagnostics: list[Diagnostic] = field(default_factory=list[Diagnostic])
    dead_globs: tuple[str, ...] = ()
    """Patterns of `globs` the assistant reads in a form that never matches (Cursor: written after `, `)."""
    anchored: bool = False
    """The globs match paths relative to the scope as written (Cline): `*.ts` is a file of the scope folder only."""

    @property
    def id(self) -> str:
        """The rule's identifier: its path relative to the root."""
        return self.relpath

    def summary(self) -> dict[str, Any]:
        """The rule as the `show` JSON contract has it."""
        return {
            "path": self.relpath,
            "format": self.format,
            "name": self.name,
            "type": str(self.type),
            "description": self.description,
            "globs": list(self.globs),
            "always_apply": self.always_apply,
            "parse_mode": str(self.parse_mode),
            "scope": self.scope,
            "unknown_keys": self.unknown_keys,
            "references": [{"kind": ref.kind, "target": ref.target, "line": ref.line} for ref in self.references],
            "diagnostics": [
                {"code": d.code, "severity": str(d.severity), "line": d.line, "message": d.message}
                for d in self.diagnostics
            ],
        }


def derive_type(*, always_apply: bool, globs: tuple[str, ...], description: str | None) -> RuleType:
    """The rule type, in Cursor's order: always, then auto-attached, then agent-requested, else manual."""
    if always_apply:
        return RuleType.ALWAYS
    if any(not pattern.startswith("!") for pattern in globs):
        return RuleType.AUTO_ATTACHED
    if description and description.strip():
        return RuleType.AGENT_REQUESTED
    return RuleType.MANUAL


def estimate_tokens(text: str) -> int:
    """A rough token count: about four characters a token, as tokenizers give for English prose and code."""
    return (len(text) + 3) // 4
