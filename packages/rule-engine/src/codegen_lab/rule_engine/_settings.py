"""Each assistant's own rule-loading settings for this user: its settings files and its user-level rule files.

What an assistant loads for a file depends on more than the repository: Codex reads `$CODEX_HOME/config.toml`
(`project_doc_fallback_filenames`, `project_doc_max_bytes`) and `$CODEX_HOME/AGENTS.md`; Gemini CLI reads
`context.fileName` from `~/.gemini/settings.json` and the project's `.gemini/settings.json`; Claude Code loads
`~/.claude/CLAUDE.md` in every project; OpenCode reads `instructions` from `opencode.json`; Roo Code reads
`~/.roo/rules*/` and the project's `.roomodes`; and so on (the README's table cites each assistant's source).
These are the assistants' documented settings for loading rules, not this project's own settings.

A settings file that cannot be read or holds a value of the wrong type is named in a one-line warning (logged, and
in `UserSettings.warnings`); its other settings still count, and nothing raises.
"""

from __future__ import annotations

import json
import logging
import os
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from codegen_lab.rule_engine._model import Rule, RuleType

if TYPE_CHECKING:
    from codegen_lab.rule_engine._formats import RuleFormat

__all__ = ["CODEX_MAX_BYTES", "Setting", "UserSettings", "load_settings"]

logger = logging.getLogger(__name__)

CODEX_MAX_BYTES = 32 * 1024
"""Codex's `project_doc_max_bytes` default: it stops adding AGENTS.md files once they reach it."""
GEMINI_NAME = "GEMINI.md"
"""Gemini CLI's context file name, which `context.fileName` adds names to."""
_Stamp = tuple[int, int]
_CODEX_NAMES = frozenset({"AGENTS.md", "AGENTS.override.md"})


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting that changes what an assistant loads: where it is written, its key, and its value."""

    file: str
    """The settings file, `~` for the home folder (or relative to the root for a project's file)."""
    key: str
    value: object

    def __str__(self) -> str:
        return f"{self.file}: {self.key} = {json.dumps(self.value)}"


@dataclass(slots=True)
class UserSettings:
    """What this user's (and this project's) assistant settings say about loading rules."""

    root: Path
    home: Path
    codex_fallbacks: tuple[str, ...] = ()
    """Codex's `project_doc_fallback_filenames`: names it tries after AGENTS.override.md and AGENTS.md."""
    codex_max_bytes: int = CODEX_MAX_BYTES
    gemini_names: tuple[str, ...] = (GEMINI_NAME,)
    """The context file names Gemini CLI loads (`context.fileName`, then GEMINI.md)."""
    opencode_instructions: tuple[str, ...] = ()
    """OpenCode's `instructions`: files and globs, relative to the project root, loaded with AGENTS.md."""
    roo_modes: dict[str, str] = field(default_factory=dict[str, str])
    """Custom Roo modes of the project's `.roomodes`: slug -> its `customInstructions` (may be empty)."""
    settings: dict[str, list[Setting]] = field(default_factory=dict[str, list[Setting]])
    """Per assistant: the settings that change its view (only those that differ from the default)."""
    user_rules: dict[str, list[Rule]] = field(default_factory=dict[str, list[Rule]])
    """Per assistant: rule files in the user's home it loads in every project (`~/.claude/CLAUDE.md`, ...)."""
    warnings: list[str] = field(default_factory=list[str])
    """One line per settings file that could not be used, naming it."""
    stamps: dict[Path, _Stamp] = field(default_factory=dict[Path, _Stamp])
    """Every file and folder looked at, with its modification time and size: when one changes, load again."""
    cache: dict[tuple[str, ...], Any] = field(default_factory=dict[tuple[str, ...], Any])
    """What the views derive from these settings and the engine that holds them (files found by name, ...)."""

    def stale(self) -> bool:
        """Whether a settings file or user rule folder changed since these settings were read."""
        return any(_stamp(path) != stamp for path, stamp in self.stamps.items())

    def shown(self, path: Path) -> str:
        """`path` as people write it: `~/...` under the home folder, relative under the root."""
        for base, prefix in ((self.root, ""), (self.home, "~/")):
            try:
                return prefix + path.relative_to(base).as_posix()
            except ValueError:
                continue
        return path.as_posix()


def _stamp(path: Path) -> _Stamp:
    try:
        stat = path.stat()
    except OSError:
        return (0, -1)
    return (stat.st_mtime_ns, stat.st_size)


def load_settings(root: Path, home: Path | None = None, environ: Mapping[str, str] | None = None) -> UserSettings:
    """Read every assistant's rule-loading settings for the project at `root` and the user whose home is `home`.

    Args:
        root: The project root (for `.gemini/settings.json`, `opencode.json`, `.roomodes`).
        home: The user's home folder (default: `Path.home()`).
        environ: The environment (default: `os.environ`): `CODEX_HOME`, `GEMINI_CLI_HOME`, `XDG_CONFIG_HOME`,
            `CONTINUE_GLOBAL_DIR`.
    """
    env = os.environ if environ is None else environ
    user = (home or Path.home()).expanduser()
    found = UserSettings(root=root, home=user)
    _codex(found, Path(env["CODEX_HOME"]) if env.get("CODEX_HOME") else user / ".codex")
    _gemini(found, Path(env["GEMINI_CLI_HOME"]) if env.get("GEMINI_CLI_HOME") else user)
    _claude(found)
    config = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else user / ".config"
    _opencode(found, config / "opencode")
    _roo(found)
    continue_home = Path(env["CONTINUE_GLOBAL_DIR"]) if env.get("CONTINUE_GLOBAL_DIR") else user / ".continue"
    _folder_rules(found, "continue", continue_home / "rules", "continue", "*.md")
    _folder_rules(found, "kiro", user / ".kiro" / "steering", "kiro", "*.md")
    _folder_rules(found, "cline", user / "Documents" / "Cline" / "Rules", "cline", "*")
    _memory(found, "windsurf", user / ".codeium" / "windsurf" / "memories" / "global_rules.md", "windsurf global rules")
    for warning in found.warnings:
        logger.warning("%s", warning)
    return found


def _read(found: UserSettings, path: Path) -> str | None:
    """The text of the file at `path`, or None when there is none (a file that cannot be read is warned of)."""
    found.stamps[path] = _stamp(path)
    try:
        if not path.is_file():
            return None
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        found.warnings.append(f"{found.shown(path)}: cannot be read ({exc}); its settings are ignored")
        return None


def _warn(found: UserSettings, path: Path, message: str) -> None:
    found.warnings.append(f"{found.shown(path)}: {message}")


def _codex(found: UserSettings, codex_home: Path) -> None:
    """Codex: `project_doc_fallback_filenames` and `project_doc_max_bytes` of config.toml; the global AGENTS.md."""
    path = codex_home / "config.toml"
    text = _read(found, path)
    if text is not None:
        try:
            config = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            _warn(found, path, f"not valid TOML ({exc}); its settings are ignored")
            config = {}
        names = config.get("project_doc_fallback_filenames")
        if names is not None:
            if isinstance(names, list) and all(isinstance(name, str) for name in cast("list[object]", names)):
                listed = tuple(dict.fromkeys(name.strip() for name in cast("list[str]", names) if name.strip()))
                found.codex_fallbacks = tuple(name for name in listed if name not in _CODEX_NAMES)
                _note(found, "codex", path, "project_doc_fallback_filenames", list(found.codex_fallbacks))
            else:
                _warn(found, path, "project_doc_fallback_filenames is not a list of strings; ignored")
        limit = config.get("project_doc_max_bytes")
        if limit is not None:
            if isinstance(limit, int) and not isinstance(limit, bool) and limit >= 0:
                found.codex_max_bytes = limit
                if limit != CODEX_MAX_BYTES:
                    _note(found, "codex", path, "project_doc_max_bytes", limit)
            else:
                _warn(found, path, "project_doc_max_bytes is not a whole number of bytes (0 or more); ignored")
    # The global instructions: AGENTS.override.md if it is there and not empty, else AGENTS.md.
    for name in ("AGENTS.override.md", "AGENTS.md"):
        if _memory(found, "codex", codex_home / name, "global instructions (Codex home)", fmt="agents-md"):
            break


def _gemini(found: UserSettings, gemini_home: Path) -> None:
    """Gemini CLI: `context.fileName` of the user's and the project's settings.json (the project's wins)."""
    chosen: dict[Path, list[str]] = {}  # the project's value replaces the user's
    for path in (gemini_home / ".gemini" / "settings.json", found.root / ".gemini" / "settings.json"):
        text = _read(found, path)
        if text is None:
            continue
        data = _json(found, path, text)
        context: object = data.get("context")
        value: object = cast("dict[str, object]", context).get("fileName") if isinstance(context, dict) else None
        value = data.get("contextFileName") if value is None else value  # the settings of Gemini CLI before v0.3
        if value is None:
            continue
        names: object = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not all(isinstance(name, str) for name in cast("list[object]", names)):
            _warn(found, path, "context.fileName is neither a string nor a list of strings; ignored")
            continue
        chosen = {path: [name.strip() for name in cast("list[str]", names) if name.strip()]}
    for path, listed in chosen.items():
        # Gemini CLI adds the names to GEMINI.md (`setGeminiMdFilename` in packages/core/src/tools/memoryTool.ts).
        found.gemini_names = tuple(dict.fromkeys([*(os.path.normpath(name) for name in listed), GEMINI_NAME]))
        _note(found, "gemini", path, "context.fileName", listed)
    for name in found.gemini_names:
        _memory(found, "gemini", gemini_home / ".gemini" / name, "global context file", fmt="gemini-md")


def _claude(found: UserSettings) -> None:
    """Claude Code: the user memory `~/.claude/CLAUDE.md` and the user rules `~/.claude/rules/**/*.md`."""
    _memory(found, "claude", found.home / ".claude" / "CLAUDE.md", "user memory", fmt="claude-md")
    _folder_rules(found, "claude", found.home / ".claude" / "rules", "claude-rules", "*.md")


def _opencode(found: UserSettings, config_home: Path) -> None:
    """OpenCode: `instructions` of the global and the project config; the global AGENTS.md, else ~/.claude/CLAUDE.md."""
    listed: list[str] = []
    for path in (
        config_home / "opencode.json",
        config_home / "opencode.jsonc",
        found.root / "opencode.json",
        found.root / "opencode.jsonc",
    ):
        text = _read(found, path)
        if text is None:
            continue
        value = _json(found, path, text).get("instructions")
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(item, str) for item in cast("list[object]", value)):
            _warn(found, path, "instructions is not a list of strings; ignored")
            continue
        items = [item for item in cast("list[str]", value) if item.strip()]
        listed.extend(items)
        _note(found, "opencode", path, "instructions", items)
    found.opencode_instructions = tuple(dict.fromkeys(listed))
    if not _memory(found, "opencode", config_home / "AGENTS.md", "global rules", fmt="agents-md"):
        claude = found.home / ".claude" / "CLAUDE.md"
        _memory(found, "opencode", claude, "global rules (there is no ~/.config/opencode/AGENTS.md)")


def _roo(found: UserSettings) -> None:
    """Roo Code: the custom modes of `.roomodes` (YAML or JSON) and the global `~/.roo/rules*/` folders."""
    path = found.root / ".roomodes"
    text = _read(found, path)
    if text is not None:
        import yaml  # noqa: PLC0415

        try:
            data: object = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            _warn(found, path, f"not valid YAML or JSON ({str(exc).splitlines()[0]}); its modes are ignored")
            data = None
        modes = cast("dict[str, object]", data).get("customModes") if isinstance(data, dict) else None
        if data is not None and not isinstance(modes, list):
            _warn(found, path, "has no customModes list; its modes are ignored")
            modes = None
        for mode in cast("list[object]", modes or []):
            slug = cast("dict[str, object]", mode).get("slug") if isinstance(mode, dict) else None
            if not isinstance(slug, str) or not slug:
                _warn(found, path, "a custom mode has no slug; it is ignored")
                continue
            instructions = cast("dict[str, object]", mode).get("customInstructions")
            found.roo_modes[slug] = instructions if isinstance(instructions, str) else ""
    roo = found.home / ".roo"
    found.stamps[roo] = _stamp(roo)
    try:
        folders = sorted(roo.iterdir()) if roo.is_dir() else []
    except OSError as exc:
        _warn(found, roo, f"cannot be read ({exc}); its rules are ignored")
        folders = []
    for folder in folders:
        if folder.name == "rules" or folder.name.startswith("rules-"):
            _folder_rules(found, "roo", folder, "roo", "*")


def _note(found: UserSettings, assistant: str, path: Path, key: str, value: object) -> None:
    found.settings.setdefault(assistant, []).append(Setting(found.shown(path), key, value))


def _memory(found: UserSettings, assistant: str, path: Path, what: str, *, fmt: str = "claude-md") -> bool:
    """A user-level file the assistant loads in every project, when it is there and not empty."""
    text = _read(found, path)
    if text is None or not text.strip():
        return False
    rule = _user_rule(found, path, text, fmt)
    found.user_rules.setdefault(assistant, []).append(replace(rule, type=RuleType.ALWAYS, description=what))
    return True


def _folder_rules(found: UserSettings, assistant: str, folder: Path, fmt: str, pattern: str) -> None:
    """The user-level rule files of `folder` (read recursively), in the format `fmt`."""
    found.stamps[folder] = _stamp(folder)
    try:
        files = list(_files(folder, pattern)) if folder.is_dir() else []
    except OSError as exc:
        _warn(found, folder, f"cannot be read ({exc}); its rules are ignored")
        return
    for path in files:
        text = _read(found, path)
        if text is not None:
            found.user_rules.setdefault(assistant, []).append(_user_rule(found, path, text, fmt))


def _files(folder: Path, pattern: str) -> Iterator[Path]:
    yield from sorted(path for path in folder.rglob(pattern) if path.is_file() and not path.name.startswith("."))


def _user_rule(found: UserSettings, path: Path, text: str, fmt_name: str) -> Rule:
    from codegen_lab.rule_engine._formats import formats  # noqa: PLC0415
    from codegen_lab.rule_engine._reader import rule_from_text  # noqa: PLC0415

    fmt: RuleFormat = next(one for one in formats() if one.name == fmt_name)
    shown = found.shown(path)
    rule = rule_from_text(text, path=path, relpath=shown, fmt=fmt)
    # A user-level rule governs the whole project: its globs are relative to the project root.
    return replace(rule, scope="", name=path.stem if path.name not in {"CLAUDE.md", "AGENTS.md"} else shown)


def _json(found: UserSettings, path: Path, text: str) -> dict[str, Any]:
    """A JSON settings file that may hold comments and trailing commas (Gemini CLI, OpenCode's JSONC)."""
    try:
        data: object = json.loads(strip_json_comments(text))
    except json.JSONDecodeError as exc:
        _warn(found, path, f"not valid JSON (line {exc.lineno}: {exc.msg}); its settings are ignored")
        return {}
    if not isinstance(data, dict):
        _warn(found, path, "is not a JSON object; its settings are ignored")
        return {}
    return cast("dict[str, Any]", data)


def strip_json_comments(text: str) -> str:
    """JSON text without `//` and `/* */` comments and trailing commas, strings left as they are."""
    out: list[str] = []
    index, length = 0, len(text)
    while index < length:
        char = text[index]
        if char == '"':
            end = index + 1
            while end < length and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            out.append(text[index : end + 1])
            index = end + 1
        elif text.startswith("//", index):
            newline = text.find("\n", index)
            index = length if newline < 0 else newline
        elif text.startswith("/*", index):
            close = text.find("*/", index + 2)
            index = length if close < 0 else close + 2
        elif char == ",":
            if _next_token(text, index + 1) not in {"}", "]"}:
                out.append(char)
            index += 1
        else:
            out.append(char)
            index += 1
    return "".join(out)


def _next_token(text: str, index: int) -> str:
    """The first character at or after `index` that is neither white space nor in a comment ("" at the end)."""
    while index < len(text):
        if text[index].isspace():
            index += 1
        elif text.startswith("//", index):
            newline = text.find("\n", index)
            index = len(text) if newline < 0 else newline
        elif text.startswith("/*", index):
            close = text.find("*/", index + 2)
            index = len(text) if close < 0 else close + 2
        else:
            return text[index]
    return ""
