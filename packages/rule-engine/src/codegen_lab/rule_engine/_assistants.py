"""Per-assistant views: which rule files one assistant would load for a file, by its own documented rules.

Every rule file is read once into the engine (its format's semantics: globs, modes, scope). An assistant then
reads some of those formats, some only at the workspace root, some with a precedence of its own (Codex's
`AGENTS.override.md`, Zed's first-match list, the nearest `AGENTS.md`), and follows `@imports` in some files
(Claude Code, Gemini CLI). A symbolic link twin (`CLAUDE.md -> AGENTS.md`) and a file imported twice are loaded
once. The sources are cited beside each assistant below and in the README's table.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from codegen_lab.rule_engine._model import Rule, RuleType, estimate_tokens
from codegen_lab.rule_engine._settings import GEMINI_NAME, UserSettings
from codegen_lab.rule_engine.errors import RuleEngineUsageError

if TYPE_CHECKING:
    from codegen_lab.rule_engine._engine import Attachment, RuleEngine
    from codegen_lab.rule_engine._tool_results import AssistantView as AssistantViewResult

__all__ = [
    "ASSISTANTS",
    "ROO_DEFAULT_MODE",
    "ROO_MODES",
    "Assistant",
    "AssistantView",
    "assistant_named",
    "assistant_view",
    "assistants_of",
    "reads",
    "roo_mode",
    "roo_mode_of",
]

IMPORT_DEPTH = 5
"""Hops of `@import` Claude Code and Gemini CLI follow at most (Claude Code's documented limit)."""
ROO_MODES = ("architect", "code", "ask", "debug", "orchestrator")
"""Roo Code's built-in modes (`DEFAULT_MODES` in packages/types/src/mode.ts)."""
ROO_DEFAULT_MODE = ROO_MODES[0]
"""Roo Code's default mode: the first built-in one (`defaultModeSlug = modes[0].slug` in src/shared/modes.ts)."""


@dataclass(frozen=True, slots=True)
class ViewContext:
    """What an assistant's own precedence needs besides the verdicts: the engine, the path, settings, Roo's mode."""

    engine: RuleEngine
    relpath: str
    settings: UserSettings
    mode: str


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
    special: Callable[[ViewContext, dict[str, Attachment]], None] | None = None
    """Further precedence (Codex's overrides and size limit, Roo's fallback and modes)."""


@dataclass(frozen=True, slots=True)
class AssistantView:
    """What one assistant loads for one path: the rules it reads, attached or not and why, and imported files."""

    assistant: Assistant
    attached: tuple[Attachment, ...]
    not_attached: tuple[Attachment, ...]
    imports: tuple[tuple[str, str], ...] = field(default=())
    """(imported file, the file that imports it) for imports that are not rule files themselves."""
    settings: tuple[str, ...] = ()
    """The user's (or project's) settings that changed this view, each as `file: key = value`."""
    warnings: tuple[str, ...] = ()
    """Settings files of this assistant that could not be used, one line each."""
    mode: str | None = None
    """Roo Code's mode this view is for."""

    @property
    def tokens(self) -> int:
        """About how many tokens the attached rules' text costs."""
        return sum(estimate_tokens(entry.rule.body) for entry in self.attached)

    def to_result(self) -> AssistantViewResult:
        """The view as the `which` JSON contract has it: `warnings` and `mode` only when there are some."""
        from codegen_lab.rule_engine._tool_results import AssistantView as AssistantViewResult  # noqa: PLC0415

        data: dict[str, object] = {
            "assistant": self.assistant.name,
            "docs": self.assistant.docs,
            "attached": [entry.to_result() for entry in self.attached],
            "not_attached": [entry.to_result() for entry in self.not_attached],
            "imports": [{"file": file, "imported_by": by} for file, by in self.imports],
            "tokens": self.tokens,
            "settings": list(self.settings),
        }
        if self.warnings:
            data["warnings"] = list(self.warnings)
        if self.mode is not None:
            data["mode"] = self.mode
        return AssistantViewResult.model_validate(data)


def _folder(relpath: str) -> str:
    return relpath.rsplit("/", 1)[0] if "/" in relpath else ""


def _codex(context: ViewContext, verdicts: dict[str, Attachment]) -> None:
    """Codex: from the root down, one file a folder (AGENTS.override.md, AGENTS.md, then the fallback names).

    Empty files are skipped; files stop at `project_doc_max_bytes`. Its global file is not counted.
    """
    from codegen_lab.rule_engine._engine import Attachment  # noqa: PLC0415

    settings = context.settings
    names = ("AGENTS.override.md", "AGENTS.md", *settings.codex_fallbacks)
    for rule in _named_files(context.engine, settings, settings.codex_fallbacks):
        if rule.relpath not in verdicts:
            verdicts[rule.relpath] = _folder_verdict(rule, context.relpath, "project_doc_fallback_filenames")
    winners: dict[str, str] = {}
    for rule_path, entry in verdicts.items():
        if rule_path.startswith("~") or not entry.attached:
            continue
        folder, name = _folder(rule_path), rule_path.rsplit("/", 1)[-1]
        if name not in names:
            continue
        current = winners.get(folder)
        if current is None or names.index(name) < names.index(current.rsplit("/", 1)[-1]):
            winners[folder] = rule_path
    used = 0
    project = [item for item in verdicts.items() if not item[0].startswith("~") and item[1].attached]
    for rule_path, entry in sorted(project, key=lambda item: _folder(item[0]).count("/") if _folder(item[0]) else -1):
        rule, folder = entry.rule, _folder(rule_path)
        winner = winners.get(folder, rule_path)
        if winner != rule_path:
            reason = (
                f"{winner} replaces it"
                if winner.endswith("AGENTS.override.md")
                else f"Codex reads one file a folder: {winner} comes first"
            )
            verdicts[rule_path] = Attachment(rule, False, reason)
        elif not rule.body.strip():
            verdicts[rule_path] = Attachment(rule, False, "empty: Codex skips empty files")
        elif used >= settings.codex_max_bytes:
            reason = f"past project_doc_max_bytes ({settings.codex_max_bytes:,} bytes): Codex stops adding files"
            verdicts[rule_path] = Attachment(rule, False, reason)
        else:
            used += len(rule.body.encode("utf-8"))
    _reorder(
        verdicts, lambda path: (not path.startswith(("~", "/")), _folder(path).count("/") if _folder(path) else -1)
    )


def _reorder(verdicts: dict[str, Attachment], key: Callable[[str], tuple[object, ...]]) -> None:
    """Put the verdicts in the order the assistant loads the files (a stable sort by `key` of the path)."""
    ordered = sorted(verdicts.items(), key=lambda item: key(item[0]))
    verdicts.clear()
    verdicts.update(ordered)


def _folder_verdict(rule: Rule, relpath: str, why: str) -> Attachment:
    """A rule file that governs its folder: attached to the files under it, always."""
    from codegen_lab.rule_engine._engine import Attachment  # noqa: PLC0415

    folder = _folder(rule.relpath)
    if folder and relpath != folder and not relpath.startswith(folder + "/"):
        return Attachment(rule, False, f"outside {folder}/: it governs only files under it ({why})")
    return Attachment(rule, True, f"always applies ({why})")


def _named_files(engine: RuleEngine, settings: UserSettings, names: Sequence[str]) -> list[Rule]:
    """The repository's files called one of `names` in any folder (a name may hold a folder: `docs/index.md`)."""
    if not names:
        return []
    key = ("named", *names)
    if key not in settings.cache:
        settings.cache[key] = _find_named(engine, names)
    return settings.cache[key]


def _find_named(engine: RuleEngine, names: Sequence[str]) -> list[Rule]:
    from codegen_lab.rule_engine._formats import formats  # noqa: PLC0415
    from codegen_lab.rule_engine._reader import read_rule  # noqa: PLC0415

    by_path = {rule.relpath: rule for rule in engine.rules}
    agents = next(fmt for fmt in formats() if fmt.name == "agents-md")
    found: list[Rule] = []
    for path in engine.repository_paths:
        for name in names:
            if path == name or path.endswith("/" + name):
                existing = by_path.get(path)
                rule = existing or read_rule(engine.root / path, engine.root, agents)
                found.append(dataclasses.replace(rule, scope=path.removesuffix(name).rstrip("/")))
                break
    return found


def _roo(context: ViewContext, verdicts: dict[str, Attachment]) -> None:
    """Roo Code, as `addCustomInstructions` in src/core/prompts/sections/custom-instructions.ts reads rules.

    The mode's rules: the files of `~/.roo/rules-{mode}/` and `.roo/rules-{mode}/`, else `.roorules-{mode}`, else
    `.clinerules-{mode}` (the first that is not empty), and the mode's `customInstructions` of `.roomodes`. Then
    AGENTS.md (else AGENT.md) at the root. Then the files of `~/.roo/rules/` and `.roo/rules/`, else `.roorules`,
    else `.clinerules`. Other modes' rules are not loaded.
    """
    from codegen_lab.rule_engine._engine import Attachment  # noqa: PLC0415

    mode = context.mode
    for rule_path in [path for path, entry in verdicts.items() if entry.rule.format == "cline"]:
        if rule_path != ".clinerules":
            del verdicts[rule_path]  # the files of a .clinerules/ folder: Roo reads only the file
    for rule_path, entry in list(verdicts.items()):
        rule = entry.rule
        if rule.format not in {"roo", "cline"}:
            continue
        owner = _roo_mode(rule_path)
        if owner is not None and owner != mode:
            reason = f"mode-specific: Roo loads it in the {owner} mode only (this view is for {mode})"
            verdicts[rule_path] = Attachment(rule, False, reason)
            continue
        in_folder = _roo_folder(rule_path) is not None
        rivals = any(_roo_folder(path) is not None and _roo_mode(path) == owner for path in verdicts)
        if in_folder:
            where = f"rules-{mode}" if owner else "rules"
            verdicts[rule_path] = Attachment(rule, True, f"always applies: a file of a .roo/{where}/ folder")
        elif rivals:
            where = f"rules-{owner}" if owner else "rules"
            reason = f"Roo reads {rule_path} only when no .roo/{where}/ folder (global or the project's) has a file"
            verdicts[rule_path] = Attachment(rule, False, reason)
        elif not rule.body.strip():
            verdicts[rule_path] = Attachment(rule, False, "empty: Roo skips it")
        elif (
            rule_path.startswith(".clinerules")
            and rule_path.replace(".clinerules", ".roorules") in verdicts
            and (verdicts[rule_path.replace(".clinerules", ".roorules")].rule.body.strip())
        ):
            reason = f"Roo reads {rule_path} only when {rule_path.replace('.clinerules', '.roorules')} is missing"
            verdicts[rule_path] = Attachment(rule, False, reason)
        else:
            verdicts[rule_path] = Attachment(rule, True, "always applies (Roo's rules file)")
    instructions = context.settings.roo_modes.get(mode, "")
    if instructions.strip():
        from codegen_lab.rule_engine._formats import formats  # noqa: PLC0415
        from codegen_lab.rule_engine._reader import rule_from_text  # noqa: PLC0415

        roo = next(fmt for fmt in formats() if fmt.name == "roo")
        shown = f".roomodes#{mode}"
        rule = rule_from_text(instructions, path=context.engine.root / ".roomodes", relpath=shown, fmt=roo)
        rule = dataclasses.replace(rule, name=f"{mode} customInstructions", type=RuleType.ALWAYS)
        verdicts[shown] = Attachment(rule, True, f"the {mode} mode's customInstructions in .roomodes")
    _reorder(verdicts, _roo_order)


def _roo_order(relpath: str) -> tuple[object, ...]:
    """Roo's order: the mode's instructions, the mode's rules, AGENTS.md, then the rules of every mode."""
    if relpath.startswith(".roomodes#"):
        return (0,)
    user = not relpath.startswith("~")
    if relpath in {"AGENTS.md", "AGENT.md"} or relpath.endswith(("/AGENTS.md", "/AGENT.md")):
        return (2, user)
    folder = _roo_folder(relpath) is None
    return (1 if _roo_mode(relpath) is not None else 3, folder, user)


def _roo_folder(relpath: str) -> str | None:
    """For a file of a `.roo/rules/` or `.roo/rules-{mode}/` folder (the project's or `~/`), its mode ("" for none)."""
    base = relpath.removeprefix("~/")
    if base.startswith(".roo/rules/"):
        return ""
    if base.startswith(".roo/rules-"):
        return base.removeprefix(".roo/rules-").split("/", 1)[0]
    return None


def _copilot(context: ViewContext, verdicts: dict[str, Attachment]) -> None:
    """Copilot: a root CLAUDE.md or GEMINI.md is the alternative to AGENTS.md, read only when there is none."""
    from codegen_lab.rule_engine._engine import Attachment  # noqa: PLC0415

    if not any(entry.rule.format == "agents-md" for entry in verdicts.values()):
        return
    for rule_path, entry in verdicts.items():
        if entry.attached and entry.rule.format in {"claude-md", "gemini-md"}:
            reason = "an alternative to AGENTS.md: GitHub Copilot reads it only when the repository has no AGENTS.md"
            verdicts[rule_path] = Attachment(entry.rule, False, reason)


def _roo_mode(relpath: str) -> str | None:
    """The mode a Roo rule file is for (`.roo/rules-{mode}/`, `.roorules-{mode}`, `.clinerules-{mode}`), else None."""
    folder = _roo_folder(relpath)
    if folder is not None:
        return folder or None
    for prefix in (".roorules-", ".clinerules-"):
        if relpath.startswith(prefix):
            return relpath.removeprefix(prefix)
    return None


roo_mode_of = _roo_mode
"""The mode a Roo rule file is for (`.roo/rules-{mode}/`, `.roorules-{mode}`, `.clinerules-{mode}`), else None."""


def roo_mode(engine: RuleEngine, mode: str | None) -> str:
    """`mode`, checked against the modes Roo Code has here, or Roo's default mode when None.

    Raises:
        RuleEngineUsageError: When no built-in mode, custom mode of `.roomodes` or mode rule file has that name.
    """
    if mode is None:
        return ROO_DEFAULT_MODE
    known = dict.fromkeys([*ROO_MODES, *engine.user_settings().roo_modes])
    known.update(dict.fromkeys(found for rule in engine.rules if (found := _roo_mode(rule.relpath)) is not None))
    if mode not in known:
        raise RuleEngineUsageError(
            f"unknown Roo mode {mode!r}; modes here: {', '.join(known)}",
            hint="Pass --mode with one of them; a custom mode needs its slug in .roomodes",
        )
    return mode


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
    # ~/.roo/rules/ and .roo/rules/ (recursively), else .roorules, else .clinerules; ~/.roo/rules-{mode}/ and
    # .roo/rules-{mode}/ in that mode, else .roorules-{mode}, else .clinerules-{mode}; .roomodes' customInstructions;
    # AGENTS.md, else AGENT.md, at the root (src/core/prompts/sections/custom-instructions.ts).
    Assistant(
        "roo",
        "Roo Code",
        "https://docs.roocode.com/features/custom-instructions",
        frozenset({"roo", "cline", "agents-md", "agent-md"}),
        root_only=frozenset({"agents-md"}),
        first_of=("AGENTS.md", "AGENT.md"),
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


def reads(assistant: Assistant, rule: Rule, mode: str | None = None) -> bool:
    """Whether `assistant` reads the rule file at all (Roo: in `mode`, when one is given), wherever the path is."""
    if rule.format not in assistant.formats:
        return False
    if assistant.name != "roo":
        return True
    if rule.format == "cline" and rule.relpath != ".clinerules":
        return False  # Roo reads the .clinerules file, not the files of a .clinerules/ folder
    owner = _roo_mode(rule.relpath)
    return mode is None or owner is None or owner == mode


def assistants_of(rules: Sequence[Rule], settings: UserSettings | None = None) -> tuple[Assistant, ...]:
    """The assistants that read at least one of `rules`, or that this user's settings give rule files to."""
    present = {rule.format for rule in rules}
    configured = set(settings.user_rules) | set(settings.settings) if settings is not None else set[str]()
    return tuple(assistant for assistant in ASSISTANTS if assistant.formats & present or assistant.name in configured)


def assistant_view(
    engine: RuleEngine,
    relpath: str,
    assistant: Assistant,
    base: Sequence[Attachment],
    *,
    mode: str = ROO_DEFAULT_MODE,
    settings: UserSettings | None = None,
) -> AssistantView:
    """What `assistant` loads for the file `relpath`, from the engine's format-level verdicts `base`.

    The user's own settings count (`RuleEngine.user_settings`): user-level rule files come first, and settings
    such as Codex's `project_doc_fallback_filenames` or Gemini CLI's `context.fileName` change what is read.
    `mode` is Roo Code's mode (for Roo's view); `settings` the user's settings when the caller has read them.
    """
    from codegen_lab.rule_engine._engine import Attachment  # noqa: PLC0415

    settings = settings or engine.user_settings()
    verdicts = _user_verdicts(engine, settings, assistant, relpath)
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
    if assistant.name == "gemini":
        _gemini_names(engine, settings, verdicts)
    if assistant.name == "opencode":
        _opencode_instructions(engine, settings, verdicts)
    _first_of(assistant, verdicts)
    _nearest(assistant, verdicts)
    if assistant.special is not None:
        assistant.special(ViewContext(engine, relpath, settings, mode), verdicts)
    imports = _imports(engine, assistant, verdicts) if assistant.imports else []
    _twins(verdicts)
    ordered = list(verdicts.values())
    return AssistantView(
        assistant,
        tuple(entry for entry in ordered if entry.attached),
        tuple(entry for entry in ordered if not entry.attached),
        tuple(imports),
        settings=tuple(str(setting) for setting in settings.settings.get(assistant.name, ())),
        warnings=tuple(warning for warning in settings.warnings if _warning_of(warning, assistant.name)),
        mode=mode if assistant.name == "roo" else None,
    )


_SETTINGS_FILES = {
    "codex": ("config.toml",),
    "gemini": ("settings.json",),
    "opencode": ("opencode.json", "opencode.jsonc"),
    "roo": (".roomodes",),
}


def _warning_of(warning: str, assistant: str) -> bool:
    """Whether a settings warning is about one of `assistant`'s settings files."""
    file = warning.split(": ", 1)[0].rsplit("/", 1)[-1]
    return file in _SETTINGS_FILES.get(assistant, ())


def _user_verdicts(
    engine: RuleEngine, settings: UserSettings, assistant: Assistant, relpath: str
) -> dict[str, Attachment]:
    """The verdicts of the user-level rule files `assistant` reads (`~/.claude/CLAUDE.md`, ...) for `relpath`."""
    from codegen_lab.rule_engine._engine import Attachment, RuleEngine  # noqa: PLC0415

    rules = settings.user_rules.get(assistant.name, [])
    if not rules:
        return {}
    # The user's rules are matched as the project's are: their patterns are relative to the project root.
    key = ("user", assistant.name)
    if key not in settings.cache:
        settings.cache[key] = RuleEngine(engine.root, rules)
    explained = settings.cache[key].explain(engine.root / relpath)  # absolute: "" is the root itself
    verdicts: dict[str, Attachment] = {}
    for entry in sorted((*explained.attached, *explained.not_attached), key=lambda entry: rules.index(entry.rule)):
        reason = f"{entry.reason}; {entry.rule.description} for every project" if entry.attached else entry.reason
        if entry.rule.type is RuleType.ALWAYS and entry.rule.description:
            reason = f"always applies: {entry.rule.description}, loaded in every project"
        verdicts[entry.rule.relpath] = Attachment(entry.rule, entry.attached, reason, entry.pattern)
    return verdicts


def _gemini_names(engine: RuleEngine, settings: UserSettings, verdicts: dict[str, Attachment]) -> None:
    """Gemini CLI loads the files named in `context.fileName` (and GEMINI.md) in every folder, at start."""
    from codegen_lab.rule_engine._engine import Attachment  # noqa: PLC0415

    names = [name for name in settings.gemini_names if name != GEMINI_NAME]
    for rule in _named_files(engine, settings, names):
        if rule.relpath not in verdicts:
            reason = "always applies: a context file (context.fileName); Gemini CLI loads every one below the root"
            verdicts[rule.relpath] = Attachment(rule, True, reason)


def _opencode_instructions(engine: RuleEngine, settings: UserSettings, verdicts: dict[str, Attachment]) -> None:
    """OpenCode loads the files of `instructions` (paths and globs relative to the project root) in every request."""
    from wcmatch import glob  # noqa: PLC0415

    from codegen_lab.rule_engine._engine import Attachment  # noqa: PLC0415
    from codegen_lab.rule_engine._formats import formats  # noqa: PLC0415
    from codegen_lab.rule_engine._matcher import glob_flags  # noqa: PLC0415
    from codegen_lab.rule_engine._reader import read_rule  # noqa: PLC0415

    patterns = [item.removeprefix("./") for item in settings.opencode_instructions if "://" not in item]
    if not patterns:
        return
    if ("instructions",) not in settings.cache:
        by_path = {rule.relpath: rule for rule in engine.rules}
        agents = next(fmt for fmt in formats() if fmt.name == "agents-md")
        listed = [path for path in engine.repository_paths if glob.globmatch(path, patterns, flags=glob_flags())]
        settings.cache[("instructions",)] = [
            dataclasses.replace(
                by_path.get(path) or read_rule(engine.root / path, engine.root, agents), scope="", type=RuleType.ALWAYS
            )
            for path in listed
        ]
    for rule in settings.cache[("instructions",)]:
        if rule.relpath not in verdicts:
            reason = "always applies: listed in instructions (opencode.json)"
            verdicts[rule.relpath] = Attachment(rule, True, reason)


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
