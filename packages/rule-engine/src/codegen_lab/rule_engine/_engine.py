"""The rule engine: a repository's rules, which of them apply to a file and why, and the text to follow."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codegen_lab.common.tracing import traced
from codegen_lab.rule_engine._discovery import discover
from codegen_lab.rule_engine._matcher import CompiledRules
from codegen_lab.rule_engine._model import Diagnostic, Rule, RuleType
from codegen_lab.rule_engine._reader import read_rule
from codegen_lab.rule_engine._render import DEFAULT_BUDGET, REFERENCE_CAP, Rendering, capped as _capped, render_rules
from codegen_lab.rule_engine._unicode import clean
from codegen_lab.rule_engine.errors import RuleEngineUsageError

if TYPE_CHECKING:
    from codegen_lab.rule_engine._assistants import AssistantView
    from codegen_lab.rule_engine._settings import UserSettings
    from codegen_lab.rule_engine._tool_results import Attached, ExplanationResult, NotAttached

__all__ = ["Attachment", "Explanation", "RuleEngine", "resolve_inside"]

RENDER_CAP = 200_000
"""Characters of rendered text at most."""


@dataclass(frozen=True, slots=True)
class Attachment:
    """Whether one rule attaches to a path, and why."""

    rule: Rule
    attached: bool
    reason: str
    pattern: str | None = None

    def to_result(self) -> Attached | NotAttached:
        """The verdict as the `which` JSON contract has it: the rule, why, and the pattern that attached it."""
        from codegen_lab.rule_engine._tool_results import Attached, NotAttached  # noqa: PLC0415

        if not self.attached:
            return NotAttached(rule=self.rule.relpath, reason=self.reason)
        return Attached(rule=self.rule.relpath, type=str(self.rule.type), reason=self.reason, pattern=self.pattern)


@dataclass(frozen=True, slots=True)
class Explanation:
    """Every rule's verdict for one path."""

    path: str
    attached: tuple[Attachment, ...]
    not_attached: tuple[Attachment, ...]
    assistant: str | None = None
    """The assistant whose view this is (None: every rule file by its own format's semantics)."""
    views: tuple[AssistantView, ...] = ()
    """Each assistant's view, when asked for all of them (`RuleEngine.explain(path, assistant="all")`)."""

    def to_result(self) -> ExplanationResult:
        """The explanation as the `which` JSON contract has it (`rules_for_path`'s result)."""
        from codegen_lab.rule_engine._tool_results import ExplanationResult  # noqa: PLC0415

        data: dict[str, object] = {
            "path": self.path,
            "attached": [entry.to_result() for entry in self.attached],
            "not_attached": [entry.to_result() for entry in self.not_attached],
        }
        if self.assistant is not None:
            data["assistant"] = self.assistant
        if self.views:
            data["assistants"] = {view.assistant.name: view.to_result() for view in self.views}
        return ExplanationResult.model_validate(data)


def resolve_inside(root: Path, path: str | Path) -> Path:
    """`path` (relative to `root`, or absolute) as an absolute path inside `root`, symbolic links resolved.

    The shared path guard (`codegen_lab.common.guard.inside`), raising the rule engine's own error.

    Raises:
        RuleEngineUsageError: When the path leaves the root (`..`, an absolute path elsewhere, a link out of it),
            goes through a symbolic link loop, is empty or holds a NUL byte.
    """
    from codegen_lab.common.guard import inside  # noqa: PLC0415

    return inside(root.resolve(), path, "path", error=RuleEngineUsageError)


class RuleEngine:
    """The rules of one repository.

    Example:
        ```python
        engine = RuleEngine.load(".")
        for entry in engine.explain("src/app.py").attached:
            print(entry.rule.relpath, entry.reason)
        ```
    """

    def __init__(
        self,
        root: Path,
        rules: Sequence[Rule],
        *,
        ignored: Sequence[Path] = (),
        repository_paths: Sequence[str] = (),
        notes: Sequence[Diagnostic] = (),
        folders: Sequence[Path] = (),
        home: Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.root = root.resolve()
        self.home = home
        """The user's home folder whose assistant settings count (default: `Path.home()` when they are read)."""
        self.environ = environ
        """The environment for `CODEX_HOME` and the like (default: `os.environ`)."""
        self._settings: UserSettings | None = None
        self.notes = tuple(notes)
        """What discovery skipped (symbolic link loops, deep trees) and files not read where they are."""
        self.folders = tuple(folders)
        """The folders discovery read (what `RuleIndex` watches for changes)."""
        self.rules = tuple(sorted(rules, key=lambda rule: (rule.scope.count("/") if rule.scope else -1, rule.relpath)))
        self.ignored = tuple(ignored)
        self.repository_paths = tuple(repository_paths)
        self._matcher: CompiledRules | None = None

    @classmethod
    def load(
        cls,
        root: Path | str,
        *,
        only: Path | str | None = None,
        loose: bool = False,
        progress: Callable[[int, int], None] | None = None,
        home: Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> RuleEngine:
        """Discover and read every rule under `root` (or under the folder `only`, inside the root).

        Args:
            root: The repository root.
            only: A folder inside the root to search instead of all of it.
            loose: Also read `*.mdc` and `.cursorrules` files that sit outside `.cursor/rules`.
            progress: Called with (files read, files to read) as the rules are read.
            home: The user whose assistant settings count (`~/.codex/config.toml`, `~/.claude/CLAUDE.md`, ...;
                default: `Path.home()`).
            environ: The environment (`CODEX_HOME`, `GEMINI_CLI_HOME`, ...; default: `os.environ`).

        Raises:
            RuleEngineUsageError: When `root` is not a folder or `only` is outside it.
        """
        root_path = Path(root).expanduser().resolve()
        if not root_path.is_dir():
            raise RuleEngineUsageError(f"root {str(root)!r} is not a folder")
        only_path = resolve_inside(root_path, only) if only is not None else None
        if only_path is not None and not only_path.is_dir():
            raise RuleEngineUsageError(f"{str(only)!r} is not a folder under {root_path}")
        found = discover(root_path, only=only_path, loose=loose)
        rules: list[Rule] = []
        for path, fmt in found.rules:
            rules.append(read_rule(path, root_path, fmt))
            if progress is not None:
                progress(len(rules), len(found.rules))
        return cls(
            root_path,
            rules,
            ignored=found.ignored,
            repository_paths=found.paths,
            notes=found.notes,
            folders=found.folders,
            home=home,
            environ=environ,
        )

    def user_settings(self) -> UserSettings:
        """Each assistant's rule-loading settings for this user and project, read again when one of them changed."""
        if self._settings is None or self._settings.stale():
            from codegen_lab.rule_engine._settings import load_settings  # noqa: PLC0415

            self._settings = load_settings(self.root, self.home, self.environ)
        return self._settings

    @property
    def matcher(self) -> CompiledRules:
        """The compiled patterns of the auto-attached rules, built on first use."""
        if self._matcher is None:
            self._matcher = CompiledRules(
                [
                    (rule.scope, _live_globs(rule) if rule.type is RuleType.AUTO_ATTACHED else (), rule.anchored)
                    for rule in self.rules
                ]
            )
        return self._matcher

    def relative(self, path: str | Path) -> str:
        """`path` relative to the root with `/` separators (see `resolve_inside` for what is refused)."""
        resolved = resolve_inside(self.root, path)
        return "" if resolved == self.root else resolved.relative_to(self.root).as_posix()

    def rule(self, rule_id: str) -> Rule:
        """The rule whose path relative to the root (or whose name, when only one has it) is `rule_id`.

        Raises:
            RuleEngineUsageError: When no rule, or more than one by that name, matches.
        """
        for rule in self.rules:
            if rule.relpath == rule_id:
                return rule
        named = [rule for rule in self.rules if rule.name == rule_id]
        if len(named) == 1:
            return named[0]
        if named:
            choices = ", ".join(rule.relpath for rule in named)
            raise RuleEngineUsageError(f"{len(named)} rules are named {rule_id!r}: {choices}; give the path")
        raise RuleEngineUsageError(
            f"no rule {rule_id!r} under {self.root}", hint="List the rules with `codegen-lab rules list`"
        )

    def explain(self, path: str | Path, assistant: str | None = None, *, mode: str | None = None) -> Explanation:
        """For each rule, whether it attaches to the file at `path`, and why (or why not).

        Args:
            path: The file, relative to the root or absolute inside it.
            assistant: None for every rule file by its own format's semantics; an assistant's name (`cursor`,
                `claude`, `codex`, ... see `ASSISTANTS`) for what that assistant loads; `"all"` for the former
                with every assistant's view in `views`.
            mode: Roo Code's mode (`code`, `architect`, a custom mode of `.roomodes`, ...; default: Roo's default
                mode), for Roo's view.

        Raises:
            RuleEngineUsageError: When the path leaves the root, the assistant or the Roo mode is unknown, or a
                mode is given for another assistant.
        """
        from codegen_lab.rule_engine._assistants import (  # noqa: PLC0415
            assistant_named,
            assistant_view,
            assistants_of,
            roo_mode,
        )

        if mode is not None and assistant not in {"roo", "all"}:
            raise RuleEngineUsageError("a mode is a Roo Code setting", hint="Pass --mode with --assistant roo (or all)")
        base = self._explain(path)
        if assistant is None:
            return base
        chosen = roo_mode(self, mode)
        settings = self.user_settings()  # once a call: every view reads the same settings
        everything = (*base.attached, *base.not_attached)
        if assistant == "all":
            views = tuple(
                assistant_view(self, base.path, one, everything, mode=chosen, settings=settings)
                for one in assistants_of(self.rules, settings)
            )
            return Explanation(base.path, base.attached, base.not_attached, views=views)
        view = assistant_view(self, base.path, assistant_named(assistant), everything, mode=chosen, settings=settings)
        return Explanation(base.path, view.attached, view.not_attached, assistant=assistant, views=(view,))

    @traced("codegen_lab.rules.match")
    def _explain(self, path: str | Path) -> Explanation:
        relpath = self.relative(path)
        positive: dict[int, str] = {}
        excluded: dict[int, str] = {}
        for hit in self.matcher.match(relpath):  # one pass over the compiled patterns gives both
            (excluded if hit.negated else positive).setdefault(hit.rule, hit.pattern)
        matched = {rule: pattern for rule, pattern in positive.items() if rule not in excluded}
        attached: list[Attachment] = []
        not_attached: list[Attachment] = []
        for index, rule in enumerate(self.rules):
            entry = _verdict(rule, relpath, matched.get(index), excluded.get(index))
            (attached if entry.attached else not_attached).append(entry)
        return Explanation(relpath, tuple(attached), tuple(not_attached))

    def rules_for(self, path: str | Path, assistant: str | None = None, *, mode: str | None = None) -> list[Rule]:
        """The rules that attach to the file at `path`: the always-on ones in scope, and those whose globs match.

        With `assistant`, the rules that assistant loads for it (see `explain`).
        """
        return [entry.rule for entry in self.explain(path, assistant, mode=mode).attached]

    def process_rule(self, rule_id: str, context: Mapping[str, Any] | None = None) -> str:
        """The text of one rule for the assistant: its body, then its `@file` references, one level deep.

        Args:
            rule_id: The rule's path relative to the root, or its name.
            context: `{"max_chars": n}` caps the text (default 200,000 characters).
        """
        rule = self.rule(rule_id)
        limit = int((context or {}).get("max_chars", RENDER_CAP))
        return clean(_capped(self._rule_text(rule), limit))

    def render(
        self,
        paths: Iterable[str | Path],
        request: str | None = None,
        *,
        max_chars: int = RENDER_CAP,
        budget: int = DEFAULT_BUDGET,
        inline_references: bool = False,
        assistant: str | None = None,
        mode: str | None = None,
    ) -> str:
        """The rules an assistant should follow for the files in focus, in order, as one text (see `render_context`)."""
        return self.render_context(
            paths,
            request,
            max_chars=max_chars,
            budget=budget,
            inline_references=inline_references,
            assistant=assistant,
            mode=mode,
        ).text

    def render_context(
        self,
        paths: Iterable[str | Path],
        request: str | None = None,
        *,
        budget: int = DEFAULT_BUDGET,
        inline_references: bool = False,
        max_chars: int = RENDER_CAP,
        assistant: str | None = None,
        mode: str | None = None,
    ) -> Rendering:
        """The rules for the files in focus as one text within `budget` tokens, and what it holds and leaves out.

        In priority order: the always-on rules in scope (the root's, then nested ones), the rules attached by a
        pattern, the agent-requested rules by description, then the other rules by name. A rule that does not fit
        is left out whole and listed (`omitted`, `truncated`). `@file` and `mdc:` references are listed, not
        inlined, unless `inline_references`. Rules that are the same file (a `CLAUDE.md` link to `AGENTS.md`) or
        the same text go in once. The text is free of hidden Unicode (`sanitize_text`) and at most `max_chars`.
        With `assistant` (`cursor`, `claude`, `codex`, ...), only what that assistant would load for this user
        (its user-level rule files and settings count: `settings` names the settings that changed it); `mode` is
        Roo Code's mode.

        Example:
            ```python
            result = RuleEngine.load(".").render_context(["src/app.py"], budget=2_000)
            print(result.text, result.omitted)
            ```
        """
        result = render_rules(
            self, paths, request, budget=budget, inline_references=inline_references, assistant=assistant, mode=mode
        )
        if len(result.text) > max_chars:
            result.text = _capped(result.text, max_chars)
            result.truncated = True
        return result

    def _rule_text(self, rule: Rule) -> str:
        text = rule.body
        seen: set[str] = set()
        for reference in rule.references:
            target = self._reference_path(rule, reference.target)
            if target is None or target.as_posix() in seen or not target.is_file():
                continue
            seen.add(target.as_posix())
            content = target.read_text(encoding="utf-8", errors="replace")
            shown = target.relative_to(self.root).as_posix()
            text += f"\n\n## Referenced file: {shown}\n\n{_capped(content, REFERENCE_CAP)}"
        return text

    def _reference_path(self, rule: Rule, target: str) -> Path | None:
        """Where a reference points, inside the root, or None: relative to the rule's folder, else to the root."""
        for base in (rule.path.parent, self.root / rule.scope if rule.scope else self.root, self.root):
            try:
                candidate = resolve_inside(self.root, base / target)
            except RuleEngineUsageError:
                return None
            if candidate.exists():
                return candidate
        return None


def _live_globs(rule: Rule) -> tuple[str, ...]:
    """The patterns that can match: not those the assistant reads in a dead form (`Rule.dead_globs`)."""
    return tuple(pattern for pattern in rule.globs if pattern not in rule.dead_globs) if rule.dead_globs else rule.globs


def _in_scope(relpath: str, scope: str) -> bool:
    return not scope or relpath == scope or relpath.startswith(scope + "/")


def _verdict(rule: Rule, relpath: str, pattern: str | None, excluded_by: str | None) -> Attachment:
    if not _in_scope(relpath, rule.scope):
        return Attachment(rule, False, f"outside the scope {rule.scope}/: the rule governs only files under it")
    match rule.type:
        case RuleType.ALWAYS:
            reason = "always applies" if rule.format.startswith("cursor") else f"always applies ({rule.format})"
            if rule.always_apply and rule.globs and rule.format.startswith("cursor"):
                reason += "; its globs are dead because alwaysApply is true"
            return Attachment(rule, True, reason)
        case RuleType.AUTO_ATTACHED:
            if pattern is not None:
                return Attachment(rule, True, f"pattern {pattern} matches", pattern)
            if excluded_by is not None:
                return Attachment(rule, False, f"excluded by the negated pattern {excluded_by}")
            shown = ", ".join(rule.globs) or "none"
            dead = "".join(
                f"; {pattern} follows a comma and a space, which Cursor keeps, so it matches nothing"
                for pattern in rule.dead_globs
            )
            return Attachment(rule, False, f"no pattern matched (globs: {shown}){dead}")
        case RuleType.AGENT_REQUESTED:
            return Attachment(rule, False, "agent-requested only: the agent reads its description and decides")
        case RuleType.MANUAL:
            return Attachment(rule, False, f"manual: attached only when mentioned as @{rule.name}")
