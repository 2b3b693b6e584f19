"""Per-assistant views: which rule files one assistant would load for a file, by its own documented rules.

Every rule file is read once into the engine (its format's semantics: globs, modes, scope). An assistant then
reads some of those formats, some only at the workspace root, some with a precedence of its own (Codex's
`AGENTS.override.md`, Zed's first-match list, the nearest `AGENTS.md`), and follows `@imports` in some files
(Claude Code, Gemini CLI). A symbolic link twin (`CLAUDE.md -> AGENTS.md`) and a file imported twice are loaded
once. The sources are cited beside each assistant below and in the README's table.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codegen_lab.rule_engine._model import Rule, RuleType, estimate_tokens
from codegen_lab.rule_engine.errors import RuleEngineUsageError

if TYPE_CHECKING:
    from codegen_lab.rule_engine._engine import Attachment, RuleEngine

__all__ = ["ASSISTANTS", "Assistant", "AssistantView", "assistant_named", "assistant_view", "assistants_of"]

IMPORT_DEPTH = 5
"""Hops of `@import` Claude Code and Gemini CLI follow at most (Claude Code's documented limit)."""
CODEX_MAX_BYTES = 32 * 1024
"""Codex's `project_doc_max_bytes` default: it stops adding AGENTS.md files once they reach it."""


@dataclass(frozen=True, slots=True)
class Assistant:
    """One assistant: the formats it reads and how it chooses among them."""

    name: str
    title: str
    docs: str
    """Where its behaviour is documented (the source of this model)."""
    formats: frozenset[str]
    root_only: frozenset[str] = frozenset()
    """Formats it reads at the workspace root only (a nested file of that format is not loaded)."""
    nearest: frozenset[str] = frozenset()
    """Formats of which only the nearest file above the path is loaded (the AGENTS.md convention)."""
    first_of: tuple[str, ...] = ()
    """Paths of which only the first that exists is loaded (Zed, Junie, OpenCode)."""
    only_listed: bool = False
    """Files of its formats that are not in `first_of` are not read at all (Zed, Junie)."""
    imports: bool = False
    """It follows `@path` imports in its memory files."""
    special: Callable[[RuleEngine, str, dict[str, Attachment]], None] | None = None
    """Further precedence (Codex's overrides and size limit, Roo's fallback and modes)."""


@dataclass(frozen=True, slots=True)
class AssistantView:
    """What one assistant loads for one path: the rules it reads, attached or not and why, and imported files."""

    assistant: Assistant
    attached: tuple[Attachment, ...]
    not_attached: tuple[Attachment, ...]
    imports: tuple[tuple[str, str], ...] = field(default=())
    """(imported file, the file that imports it) for imports that are not rule files themselves."""

    @property
    def tokens(self) -> int:
        """About how many tokens the attached rules' text costs."""
        return sum(estimate_tokens(entry.rule.body) for entry in self.attached)

    def as_json(self) -> dict[str, Any]:
        """The view as the `which` JSON contract has it."""
        return {
            "assistant": self.assistant.name,
            "docs": self.assistant.docs,
            "attached": [entry.as_json() for entry in self.attached],
            "not_attached": [{"rule": entry.rule.relpath, "reason": entry.reason} for entry in self.not_attached],
            "imports": [{"file": file, "imported_by": by} for file, by in self.imports],
            "tokens": self.tokens,
        }


def _folder(relpath: str) -> str:
    return relpath.rsplit("/", 1)[0] if "/" in relpath else ""


def _codex(engine: RuleEngine, relpath: str, verdicts: dict[str, Attachment]) -> None:
    """Codex: in each folder AGENTS.override.md replaces AGENTS.md; files stop at `project_doc_max_bytes`."""
    from codegen_lab.rule_engine._engine import Attachment  # noqa: PLC0415

    overridden = {_folder(rule_path) for rule_path, entry in verdicts.items() if entry.rule.format == "agents-override"}
    used = 0
    for rule_path, entry in sorted(verdicts.items(), key=lambda item: item[1].rule.scope.count("/")):
        rule = entry.rule
        if rule.format == "agents-md" and _folder(rule_path) in overridden:
            reason = f"{_folder(rule_path) + '/' if _folder(rule_path) else ''}AGENTS.override.md replaces it"
            verdicts[rule_path] = Attachment(rule, False, reason)
        elif entry.attached:
            if not rule.body.strip():
                verdicts[rule_path] = Attachment(rule, False, "empty: Codex skips empty files")
                continue
            if used >= CODEX_MAX_BYTES:
                reason = f"past project_doc_max_bytes ({CODEX_MAX_BYTES:,} bytes): Codex stops adding files"
                verdicts[rule_path] = Attachment(rule, False, reason)
            used += len(rule.body.encode("utf-8"))


def _roo(engine: RuleEngine, relpath: str, verdicts: dict[str, Attachment]) -> None:
    """Roo: `.roo/rules/` wins over `.roorules`; `rules-{mode}` folders load in that mode only."""
    from codegen_lab.rule_engine._engine import Attachment  # noqa: PLC0415

    has_folder = any(path.startswith(".roo/rules/") for path in verdicts)
    for rule_path, entry in verdicts.items():
        rule = entry.rule
        if rule.format != "roo":
            continue
        mode = _roo_mode(rule_path)
        if mode is not None:
            verdicts[rule_path] = Attachment(rule, False, f"mode-specific: Roo loads it in the {mode} mode only")
        elif rule_path == ".roorules" and has_folder:
            verdicts[rule_path] = Attachment(
                rule, False, "Roo reads .roorules only when .roo/rules/ is missing or empty"
            )


def _copilot(engine: RuleEngine, relpath: str, verdicts: dict[str, Attachment]) -> None:
    """Copilot: a root CLAUDE.md or GEMINI.md is the alternative to AGENTS.md, read only when there is none."""
    from codegen_lab.rule_engine._engine import Attachment  # noqa: PLC0415

    if not any(entry.rule.format == "agents-md" for entry in verdicts.values()):
        return
    for rule_path, entry in verdicts.items():
        if entry.attached and entry.rule.format in {"claude-md", "gemini-md"}:
            reason = "an alternative to AGENTS.md: GitHub Copilot reads it only when the repository has no AGENTS.md"
            verdicts[rule_path] = Attachment(entry.rule, False, reason)


def _roo_mode(relpath: str) -> str | None:
    if relpath.startswith(".roo/rules-"):
        return relpath.removeprefix(".roo/rules-").split("/", 1)[0]
    if relpath.startswith(".roorules-"):
        return relpath.removeprefix(".roorules-")
    return None


_CURSOR_DOCS = "https://cursor.com/docs/context/rules"
ASSISTANTS: tuple[Assistant, ...] = (
    # Project rules in .cursor/rules (nested folders too), AGENTS.md at the root and in subfolders, and the
    # legacy .cursorrules at the root.
    Assistant(
        "cursor", "Cursor", _CURSOR_DOCS, frozenset({"cursor-mdc", "cursor-rule-md", "cursorrules", "agents-md"})
    ),
    # CLAUDE.md, .claude/CLAUDE.md and CLAUDE.local.md at the root; a subfolder's CLAUDE.md when Claude reads files
    # there; .claude/rules/*.md with `paths`; `@path` imports, five hops at most.
    Assistant(
        "claude",
        "Claude Code",
        "https://code.claude.com/docs/en/memory",
        frozenset({"claude-md", "claude-rules"}),
        imports=True,
    ),
    # The AGENTS.md convention itself: "the closest AGENTS.md to the edited file wins".
    Assistant(
        "agents-md",
        "AGENTS.md (agents.md)",
        "https://agents.md",
        frozenset({"agents-md"}),
        nearest=frozenset({"agents-md"}),
    ),
    # From the project root down to the working folder, at most one file a folder (AGENTS.override.md, else
    # AGENTS.md), concatenated; empty files skipped; 32 KiB in all.
    Assistant(
        "codex",
        "Codex",
        "https://developers.openai.com/codex/guides/agents-md",
        frozenset({"agents-md", "agents-override"}),
        special=_codex,
    ),
    # .github/copilot-instructions.md, .github/instructions/**/*.instructions.md by `applyTo`, the nearest AGENTS.md,
    # or else ("alternatively") a CLAUDE.md or GEMINI.md at the root.
    Assistant(
        "copilot",
        "GitHub Copilot",
        "https://docs.github.com/en/copilot/how-tos/configure-custom-instructions/add-repository-instructions",
        frozenset({"copilot", "copilot-scoped", "agents-md", "claude-md", "gemini-md"}),
        root_only=frozenset({"claude-md", "gemini-md"}),
        nearest=frozenset({"agents-md"}),
        special=_copilot,
    ),
    # .windsurf/rules in the workspace and its subfolders, the legacy .windsurfrules, AGENTS.md (the root's always
    # on, a subfolder's for the files under it).
    Assistant(
        "windsurf",
        "Windsurf",
        "https://docs.windsurf.com/windsurf/cascade/memories",
        frozenset({"windsurf", "windsurfrules", "agents-md"}),
    ),
    # .clinerules (file or folder), and the .cursorrules, .windsurfrules and AGENTS.md it detects at the root.
    Assistant(
        "cline",
        "Cline",
        "https://docs.cline.bot/features/cline-rules",
        frozenset({"cline", "cursorrules", "windsurfrules", "agents-md"}),
        root_only=frozenset({"agents-md"}),
    ),
    # .kiro/steering/*.md by `inclusion`, and AGENTS.md at the workspace root, always included.
    Assistant(
        "kiro",
        "Kiro",
        "https://kiro.dev/docs/steering/",
        frozenset({"kiro", "agents-md"}),
        root_only=frozenset({"agents-md"}),
    ),
    # GEMINI.md of the working folder (the root) and its ancestors, and of every subfolder below it, all loaded at
    # start; `@file.md` imports.
    Assistant(
        "gemini", "Gemini CLI", "https://geminicli.com/docs/cli/gemini-md/", frozenset({"gemini-md"}), imports=True
    ),
    # .roo/rules/ (recursively), else .roorules; .roo/rules-{mode}/ in that mode; AGENTS.md or AGENT.md at the root.
    Assistant(
        "roo",
        "Roo Code",
        "https://docs.roocode.com/features/custom-instructions",
        frozenset({"roo", "agents-md", "agent-md"}),
        root_only=frozenset({"agents-md"}),
        special=_roo,
    ),
    # The first of these at the root of the worktree, and only that one.
    Assistant(
        "zed",
        "Zed",
        "https://zed.dev/docs/ai/rules",
        frozenset(
            {
                "zed-rules",
                "cursorrules",
                "windsurfrules",
                "cline",
                "copilot",
                "agent-md",
                "agents-md",
                "claude-md",
                "gemini-md",
            }
        ),
        first_of=(
            ".rules",
            ".cursorrules",
            ".windsurfrules",
            ".clinerules",
            ".github/copilot-instructions.md",
            "AGENT.md",
            "AGENTS.md",
            "CLAUDE.md",
            "GEMINI.md",
        ),
        only_listed=True,
    ),
    # .junie/guidelines.md by default (.junie/AGENTS.md and AGENTS.md are the documented alternatives).
    Assistant(
        "junie",
        "Junie",
        "https://www.jetbrains.com/help/junie/customize-guidelines.html",
        frozenset({"junie", "agents-md"}),
        first_of=(".junie/guidelines.md", ".junie/AGENTS.md", "AGENTS.md"),
        only_listed=True,
    ),
    # AGENTS.md of the project root (CLAUDE.md when there is none), and AGENTS.md files of the folders above a file
    # it reads.
    Assistant(
        "opencode",
        "OpenCode",
        "https://opencode.ai/docs/rules/",
        frozenset({"agents-md", "claude-md"}),
        root_only=frozenset({"claude-md"}),
        first_of=("AGENTS.md", "CLAUDE.md"),
    ),
    # .continue/rules/*.md by `alwaysApply`, `globs` and `description`.
    Assistant("continue", "Continue", "https://docs.continue.dev/customize/deep-dives/rules", frozenset({"continue"})),
)
"""Every assistant this package models, with the page its model follows."""


def assistant_named(name: str) -> Assistant:
    """The assistant called `name`.

    Raises:
        RuleEngineUsageError: When no assistant has that name.
    """
    for assistant in ASSISTANTS:
        if assistant.name == name:
            return assistant
    names = ", ".join(assistant.name for assistant in ASSISTANTS)
    raise RuleEngineUsageError(
        f"unknown assistant {name!r}; assistants: {names}", hint="Pass --assistant with one of them"
    )


def assistants_of(rules: Sequence[Rule]) -> tuple[Assistant, ...]:
    """The assistants that read at least one of `rules`."""
    present = {rule.format for rule in rules}
    return tuple(assistant for assistant in ASSISTANTS if assistant.formats & present)


def assistant_view(engine: RuleEngine, relpath: str, assistant: Assistant, base: Sequence[Attachment]) -> AssistantView:
    """What `assistant` loads for the file `relpath`, from the engine's format-level verdicts `base`."""
    from codegen_lab.rule_engine._engine import Attachment  # noqa: PLC0415

    verdicts: dict[str, Attachment] = {}
    for entry in base:
        rule = entry.rule
        if rule.format not in assistant.formats:
            continue
        verdict = entry
        if rule.format in assistant.root_only and rule.scope:
            name = rule.relpath.rsplit("/", 1)[-1]
            verdict = Attachment(rule, False, f"{assistant.title} reads {name} at the root only")
        elif assistant.name == "gemini" and not entry.attached and rule.type is RuleType.ALWAYS:
            # Gemini CLI loads the GEMINI.md of every folder below the working folder at start.
            verdict = Attachment(rule, True, "always applies: Gemini CLI loads every GEMINI.md below the root")
        verdicts[rule.relpath] = verdict
    _first_of(assistant, verdicts)
    _nearest(assistant, verdicts)
    if assistant.special is not None:
        assistant.special(engine, relpath, verdicts)
    imports = _imports(engine, assistant, verdicts) if assistant.imports else []
    _twins(verdicts)
    ordered = list(verdicts.values())
    return AssistantView(
        assistant,
        tuple(entry for entry in ordered if entry.attached),
        tuple(entry for entry in ordered if not entry.attached),
        tuple(imports),
    )


def _first_of(assistant: Assistant, verdicts: dict[str, Attachment]) -> None:
    from codegen_lab.rule_engine._engine import Attachment  # noqa: PLC0415

    if not assistant.first_of:
        return
    winner = next((path for path in assistant.first_of if path in verdicts), None)
    listed = set(assistant.first_of)
    for rule_path, entry in verdicts.items():
        if rule_path not in listed:
            if assistant.only_listed:
                reason = f"{assistant.title} reads only {', '.join(assistant.first_of)}, the first that exists"
                verdicts[rule_path] = Attachment(entry.rule, False, reason)
            continue
        if rule_path != winner:
            reason = f"{assistant.title} loads only the first of {', '.join(assistant.first_of)}: {winner} is there"
            verdicts[rule_path] = Attachment(entry.rule, False, reason)
        elif not entry.attached or entry.rule.type is not RuleType.ALWAYS:
            verdicts[rule_path] = Attachment(
                entry.rule, True, f"always applies: the first of {assistant.title}'s rule files"
            )


def _nearest(assistant: Assistant, verdicts: dict[str, Attachment]) -> None:
    """Of the attached files of a `nearest` format, only the deepest (the nearest to the path) stays."""
    from codegen_lab.rule_engine._engine import Attachment  # noqa: PLC0415

    attached = [entry for entry in verdicts.values() if entry.attached and entry.rule.format in assistant.nearest]
    if len(attached) < 2:
        return
    winner = max(attached, key=lambda entry: len(entry.rule.scope.split("/")) if entry.rule.scope else 0)
    for entry in attached:
        if entry is not winner:
            reason = f"the nearest {winner.rule.relpath.rsplit('/', 1)[-1]} ({winner.rule.relpath}) wins"
            verdicts[entry.rule.relpath] = Attachment(entry.rule, False, reason)


def _imports(engine: RuleEngine, assistant: Assistant, verdicts: dict[str, Attachment]) -> list[tuple[str, str]]:
    """Follow `@path` imports of the attached files: a rule file imported is attached, other files are listed."""
    from codegen_lab.rule_engine._engine import Attachment  # noqa: PLC0415

    by_path = {rule.relpath: rule for rule in engine.rules}
    imported: list[tuple[str, str]] = []
    seen = {os.path.realpath(entry.rule.path) for entry in verdicts.values() if entry.attached}
    queue: list[tuple[Path, str, int]] = [
        (entry.rule.path, entry.rule.relpath, 0) for entry in verdicts.values() if entry.attached
    ]
    while queue:
        path, shown, depth = queue.pop(0)
        if depth >= IMPORT_DEPTH:
            continue
        for target in _import_targets(engine, path):
            real = os.path.realpath(target)
            if real in seen:
                continue
            seen.add(real)
            relpath = target.relative_to(engine.root).as_posix()
            rule = by_path.get(relpath)
            if rule is not None:
                verdicts[relpath] = Attachment(rule, True, f"imported by {shown} (@{relpath})")
            else:
                imported.append((relpath, shown))
            queue.append((target, relpath, depth + 1))
    del assistant
    return imported


def _import_targets(engine: RuleEngine, path: Path) -> list[Path]:
    from codegen_lab.rule_engine._document import parse_document  # noqa: PLC0415
    from codegen_lab.rule_engine._engine import resolve_inside  # noqa: PLC0415
    from codegen_lab.rule_engine._reader import find_references  # noqa: PLC0415

    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    found: list[Path] = []
    for reference in find_references(parse_document(text)):
        if reference.kind != "file":
            continue
        # Claude Code and Gemini CLI resolve an import relative to the file that holds it.
        try:
            target = resolve_inside(engine.root, path.parent / reference.target)
        except RuleEngineUsageError:
            continue
        if target.is_file():
            found.append(target)
    return found


def _twins(verdicts: dict[str, Attachment]) -> None:
    """Two attached rule files that are one file (a symbolic link) are loaded once."""
    from codegen_lab.rule_engine._engine import Attachment  # noqa: PLC0415

    kept: dict[str, str] = {}
    for rule_path, entry in list(verdicts.items()):
        if not entry.attached:
            continue
        real = os.path.realpath(entry.rule.path)
        twin = kept.setdefault(real, rule_path)
        if twin != rule_path:
            verdicts[rule_path] = Attachment(
                entry.rule, False, f"the same file as {twin} (a symbolic link): loaded once"
            )
