"""Rule formats: which files each assistant reads, and what their frontmatter means.

A format is any object with the `RuleFormat` shape. The built-in ones cover Cursor, AGENTS.md (and Codex's
AGENTS.override.md), Claude Code, Copilot, Windsurf, Cline, Gemini, Kiro, Roo, Zed, Junie and Continue; a package
adds its own under the entry-point group `codegen_lab.rule_formats`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import Any, Protocol, cast, runtime_checkable

from codegen_lab.rule_engine._document import FieldSpan, read_value, split_outside_braces
from codegen_lab.rule_engine._globs import Globs, globs_from_span, normalise_globs, normalise_pattern
from codegen_lab.rule_engine._model import GlobShape, RuleType

__all__ = ["FORMAT_ENTRY_POINT_GROUP", "Interpretation", "RuleFormat", "builtin_formats", "formats"]

logger = logging.getLogger(__name__)

FORMAT_ENTRY_POINT_GROUP = "codegen_lab.rule_formats"


@dataclass(frozen=True, slots=True)
class Interpretation:
    """What a format makes of a file's frontmatter."""

    description: str | None
    globs: Globs
    always_apply: bool
    type: RuleType | None = None
    """Set when the format says the type itself (Windsurf's `trigger`, Kiro's `inclusion`)."""
    dead: tuple[str, ...] = ()
    """Patterns the assistant reads in a form that matches nothing (Cursor: written after `, ` with a space)."""


@runtime_checkable
class RuleFormat(Protocol):
    """A kind of rule file."""

    @property
    def name(self) -> str:
        """A short identifier, such as `cursor-mdc`."""
        ...

    @property
    def title(self) -> str:
        """A name for people, such as `Cursor rule (.mdc)`."""
        ...

    @property
    def glob_key(self) -> str | None:
        """The frontmatter key that holds the file patterns (`globs`, `applyTo`, `paths`), if there is one."""
        ...

    @property
    def known_keys(self) -> frozenset[str]:
        """The frontmatter keys the assistant reads."""
        ...

    @property
    def expects_frontmatter(self) -> bool:
        """Whether a file of this format without frontmatter deserves a warning."""
        ...

    def claims(self, relpath: str) -> bool:
        """Whether the file at `relpath` (relative to the root, `/` separators) is a rule of this format."""
        ...

    def scope(self, relpath: str) -> str:
        """The folder the rule governs, relative to the root (`""` for the root)."""
        ...

    def rule_name(self, relpath: str) -> str:
        """The rule's name, as the assistant shows it."""
        ...

    def interpret(self, data: Mapping[str, Any], spans: Mapping[str, FieldSpan]) -> Interpretation:
        """The rule's description, globs and mode from its frontmatter (parsed values and their text)."""
        ...


def _folder(relpath: str) -> str:
    return relpath.rsplit("/", 1)[0] if "/" in relpath else ""


def _stem(relpath: str) -> str:
    base = relpath.rsplit("/", 1)[-1]
    for suffix in (".instructions.md", ".mdc", ".md", ".txt"):
        if base.endswith(suffix) and base != suffix:
            return base[: -len(suffix)]
    return base


def _text(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _globs(data: Mapping[str, Any], spans: Mapping[str, FieldSpan], key: str, *, keep_quotes: bool = False) -> Globs:
    """Globs from the field's text when it has one (the tolerant reading), else from the parsed value."""
    span = spans.get(key)
    if span is not None:
        return globs_from_span(span, keep_quotes=keep_quotes)
    if key in data:
        return normalise_globs(data[key])
    return Globs((), GlobShape.ABSENT)


@dataclass(frozen=True, slots=True)
class _Format:
    name: str
    title: str
    pattern: re.Pattern[str]
    scope_group: str | None
    """The regex group that holds the scope folder (its text up to the marker folder)."""
    glob_key: str | None = None
    known_keys: frozenset[str] = frozenset()
    expects_frontmatter: bool = False
    name_from_folder: bool = False
    anchored: bool = False
    """Patterns match paths relative to the workspace root (`*.ts` is a root file only), not at any depth."""
    yaml_only: bool = False
    """The assistant reads the frontmatter with a YAML parser only: when it is not valid YAML, it is ignored."""

    def claims(self, relpath: str) -> bool:
        return self.pattern.fullmatch(relpath) is not None

    def scope(self, relpath: str) -> str:
        match = self.pattern.fullmatch(relpath)
        if match is None or self.scope_group is None:
            return ""
        return (match.group(self.scope_group) or "").rstrip("/")

    def rule_name(self, relpath: str) -> str:
        return _stem(_folder(relpath)) if self.name_from_folder else _stem(relpath)

    def interpret(self, data: Mapping[str, Any], spans: Mapping[str, FieldSpan]) -> Interpretation:
        globs = _globs(data, spans, self.glob_key) if self.glob_key else Globs((), GlobShape.ABSENT)
        description = _text(data.get("description"))
        if self.glob_key is None:
            return Interpretation(description, globs, always_apply=True, type=RuleType.ALWAYS)
        return Interpretation(description, globs, always_apply=not globs.patterns)


@dataclass(frozen=True, slots=True)
class _Cursor(_Format):
    def interpret(self, data: Mapping[str, Any], spans: Mapping[str, FieldSpan]) -> Interpretation:
        # Cursor reads `globs` leniently and literally (quotes included); `alwaysApply` is true only as a YAML
        # 1.2 boolean (`true`, not `"true"` nor `yes`).
        span = spans.get("alwaysApply")
        always = read_value(span).value if span is not None else data.get("alwaysApply")
        globs = _globs(data, spans, "globs", keep_quotes=True)
        return Interpretation(
            _text(data.get("description")), globs, always_apply=always is True, dead=_after_a_space(spans.get("globs"))
        )


def _after_a_space(span: FieldSpan | None) -> tuple[str, ...]:
    """In `globs: a, b`, the patterns after a comma and a space: Cursor keeps the space, so ` b` matches nothing."""
    if span is None:
        return ()
    read = read_value(span, keep_quotes=True)
    if read.flow_list or read.block_list or not isinstance(read.value, str):
        return ()
    parts = split_outside_braces(read.value)
    return tuple(normalise_pattern(part) for part in parts[1:] if part[:1].isspace() and part.strip())


@dataclass(frozen=True, slots=True)
class _Copilot(_Format):
    def interpret(self, data: Mapping[str, Any], spans: Mapping[str, FieldSpan]) -> Interpretation:
        globs = _globs(data, spans, "applyTo")
        return Interpretation(_text(data.get("description")), globs, always_apply=False)


@dataclass(frozen=True, slots=True)
class _Cline(_Format):
    def interpret(self, data: Mapping[str, Any], spans: Mapping[str, FieldSpan]) -> Interpretation:
        # Cline: `paths` is a condition only as a list of non-empty strings; any other value is ignored (the rule
        # is always on); `paths: []` matches nothing, so the rule is never used.
        description = _text(data.get("description"))
        value = data.get("paths", _MISSING)
        if value is _MISSING or not _string_list(value):
            return Interpretation(description, Globs((), GlobShape.ABSENT), always_apply=True, type=RuleType.ALWAYS)
        patterns = cast("list[str]", value)
        globs = normalise_globs([pattern for pattern in patterns if pattern.strip()], shape=GlobShape.FLOW)
        if not globs.patterns:
            return Interpretation(description, globs, always_apply=False, type=RuleType.MANUAL)
        return Interpretation(description, globs, always_apply=False)


_MISSING = object()


def _string_list(value: object) -> bool:
    """Whether `value` is what Cline takes for `paths`: a list of non-empty strings."""
    if not isinstance(value, list):
        return False
    items = cast("list[object]", value)
    return all(isinstance(item, str) and item for item in items)


@dataclass(frozen=True, slots=True)
class _Windsurf(_Format):
    def interpret(self, data: Mapping[str, Any], spans: Mapping[str, FieldSpan]) -> Interpretation:
        trigger = str(data.get("trigger") or "").strip()
        globs = _globs(data, spans, "globs")
        description = _text(data.get("description"))
        mode = {
            "always_on": RuleType.ALWAYS,
            "glob": RuleType.AUTO_ATTACHED,
            "model_decision": RuleType.AGENT_REQUESTED,
            "manual": RuleType.MANUAL,
        }.get(trigger)
        return Interpretation(description, globs, always_apply=mode is RuleType.ALWAYS, type=mode)


@dataclass(frozen=True, slots=True)
class _Kiro(_Format):
    def interpret(self, data: Mapping[str, Any], spans: Mapping[str, FieldSpan]) -> Interpretation:
        inclusion = str(data.get("inclusion") or "always").strip()
        globs = _globs(data, spans, "fileMatchPattern")
        description = _text(data.get("description"))
        mode = {
            "always": RuleType.ALWAYS,
            "fileMatch": RuleType.AUTO_ATTACHED,
            "auto": RuleType.AGENT_REQUESTED,
            "manual": RuleType.MANUAL,
        }.get(inclusion)
        return Interpretation(description, globs, always_apply=mode is RuleType.ALWAYS, type=mode)


@dataclass(frozen=True, slots=True)
class _Continue(_Format):
    def interpret(self, data: Mapping[str, Any], spans: Mapping[str, FieldSpan]) -> Interpretation:
        # Continue (docs.continue.dev/customize/deep-dives/rules): `alwaysApply: true` always; `false` when a
        # glob matches or the agent decides from the description; absent, always when there are no globs, else
        # when one matches.
        globs = _globs(data, spans, "globs")
        description = _text(data.get("description"))
        always = data.get("alwaysApply")
        if always is True or (always is None and not globs.patterns):
            return Interpretation(description, globs, always_apply=True, type=RuleType.ALWAYS)
        return Interpretation(description, globs, always_apply=False)


_NESTED = r"(?P<scope>(?:[^/]+/)*?)"
_CURSOR_KEYS = frozenset({"description", "globs", "alwaysApply"})


def builtin_formats() -> tuple[RuleFormat, ...]:
    """The formats this package knows, most specific first."""
    return (
        _Cursor(
            "cursor-mdc",
            "Cursor rule (.mdc)",
            re.compile(_NESTED + r"\.cursor/rules/(?:[^/]+/)*[^/]+\.mdc"),
            "scope",
            "globs",
            _CURSOR_KEYS,
            expects_frontmatter=True,
        ),
        _Cursor(
            "cursor-rule-md",
            "Cursor rule (RULE.md)",
            re.compile(_NESTED + r"\.cursor/rules/(?:[^/]+/)*[^/]+/RULE\.md"),
            "scope",
            "globs",
            _CURSOR_KEYS,
            expects_frontmatter=True,
            name_from_folder=True,
        ),
        # Cursor, Windsurf and Cline read their legacy file (and Cline its folder) at the workspace root only.
        _Format("cursorrules", "Cursor legacy (.cursorrules)", re.compile(r"\.cursorrules"), None),
        # Junie's guidelines in `.junie/` (before AGENTS.md, whose pattern would claim `.junie/AGENTS.md`).
        _Format("junie", "Junie guidelines", re.compile(r"\.junie/(?:guidelines|AGENTS)\.md"), None),
        _Format("agents-md", "AGENTS.md", re.compile(_NESTED + r"AGENTS\.md"), "scope"),
        _Format("agents-override", "Codex AGENTS.override.md", re.compile(_NESTED + r"AGENTS\.override\.md"), "scope"),
        _Format("agent-md", "AGENT.md", re.compile(r"AGENT\.md"), None),
        _Format(
            "claude-rules",
            "Claude Code rule (.claude/rules)",
            re.compile(_NESTED + r"\.claude/rules/(?:[^/]+/)*[^/]+\.md"),
            "scope",
            "paths",
            frozenset({"paths", "description"}),
        ),
        _Format("claude-md", "CLAUDE.md", re.compile(_NESTED + r"(?:\.claude/)?CLAUDE(?:\.local)?\.md"), "scope"),
        _Format("copilot", "Copilot instructions", re.compile(r"\.github/copilot-instructions\.md"), None),
        _Copilot(
            "copilot-scoped",
            "Copilot path instructions",
            re.compile(r"\.github/instructions/(?:[^/]+/)*[^/]+\.instructions\.md"),
            None,
            "applyTo",
            frozenset({"applyTo", "description", "excludeAgent"}),
            expects_frontmatter=True,
        ),
        _Windsurf(
            "windsurf",
            "Windsurf rule",
            re.compile(_NESTED + r"\.windsurf/rules/(?:[^/]+/)*[^/]+\.md"),
            "scope",
            "globs",
            frozenset({"trigger", "globs", "description"}),
            expects_frontmatter=True,
        ),
        _Format("windsurfrules", "Windsurf legacy (.windsurfrules)", re.compile(r"\.windsurfrules"), None),
        _Cline(
            "cline",
            "Cline rule",
            # Every file of the folder, but not workflows/, hooks/ nor skills/ (Cline's own exclusions).
            re.compile(r"\.clinerules(?:/(?!(?:workflows|hooks|skills)/)(?:[^/]+/)*[^/]+)?"),
            None,
            "paths",
            frozenset({"paths", "description"}),
            anchored=True,
            yaml_only=True,
        ),
        _Format("gemini-md", "GEMINI.md", re.compile(_NESTED + r"GEMINI\.md"), "scope"),
        _Kiro(
            "kiro",
            "Kiro steering",
            re.compile(r"\.kiro/steering/(?:[^/]+/)*[^/]+\.md"),
            None,
            "fileMatchPattern",
            frozenset({"inclusion", "fileMatchPattern", "description", "name"}),
            expects_frontmatter=False,
        ),
        _Format(
            "roo",
            "Roo rule",
            # `.roo/rules/` and the per-mode `.roo/rules-{mode}/` folders (read recursively), `.roorules[-mode]`,
            # and `.clinerules-{mode}`, which Roo reads for a mode when there is no `.roorules-{mode}`.
            re.compile(r"\.roo/rules(?:-[^/]+)?/(?:[^/]+/)*[^/]+|\.roorules(?:-[^/]+)?|\.clinerules-[^/]+"),
            None,
        ),
        _Format("zed-rules", "Zed .rules", re.compile(r"\.rules"), None),
        _Continue(
            "continue",
            "Continue rule",
            re.compile(r"\.continue/rules/(?:[^/]+/)*[^/]+\.md"),
            None,
            "globs",
            frozenset({"name", "description", "globs", "alwaysApply", "regex"}),
        ),
    )


@cache
def formats() -> tuple[RuleFormat, ...]:
    """The built-in formats, then those installed under `codegen_lab.rule_formats` (a bad one is logged, skipped)."""
    found: list[RuleFormat] = list(builtin_formats())
    for entry_point in entry_points(group=FORMAT_ENTRY_POINT_GROUP):
        try:
            loaded: object = entry_point.load()
            candidate = loaded() if isinstance(loaded, type) else loaded
        except Exception:
            logger.exception("rule format %r (%s) failed to load", entry_point.name, entry_point.value)
            continue
        if not isinstance(candidate, RuleFormat):
            logger.error("rule format %r (%s) is not a RuleFormat; skipped", entry_point.name, entry_point.value)
            continue
        found.insert(0, candidate)  # installed formats are more specific than the built-in ones
    return tuple(found)


def format_for(relpath: str, available: tuple[RuleFormat, ...] | None = None) -> RuleFormat | None:
    """The format that claims the file at `relpath`, if any."""
    return next((fmt for fmt in available or formats() if fmt.claims(relpath)), None)
