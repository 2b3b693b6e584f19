"""Read, lint, match and explain the rule files that steer AI coding assistants.

Cursor (`.cursor/rules/**/*.mdc`, `RULE.md`, `.cursorrules`), AGENTS.md, Claude Code (CLAUDE.md,
`.claude/rules`), Copilot, Windsurf, Cline, Gemini and Kiro rules are read into one `Rule` model, including
the files that are not valid YAML, as Cursor reads them.

Example:
    ```python
    from codegen_lab.rule_engine import RuleEngine

    engine = RuleEngine.load(".")
    print([rule.relpath for rule in engine.rules_for("src/app.py")])
    ```
"""

from typing import TYPE_CHECKING

from codegen_lab.mcp_core._lazy import lazy_exports as _lazy_exports

if TYPE_CHECKING:
    from codegen_lab.rule_engine._document import Document, parse_document
    from codegen_lab.rule_engine._engine import Attachment, Explanation, RuleEngine, resolve_inside
    from codegen_lab.rule_engine._formats import FORMAT_ENTRY_POINT_GROUP, Interpretation, RuleFormat, formats
    from codegen_lab.rule_engine._globs import Globs, normalise_globs, render_globs
    from codegen_lab.rule_engine._index import RuleIndex
    from codegen_lab.rule_engine._lint import CHECKS, Check, LintReport, ValidationResult, fix_text, lint, validate_rule
    from codegen_lab.rule_engine._matcher import CompiledRules, PatternMatch, glob_flags, scoped_pattern
    from codegen_lab.rule_engine._model import Diagnostic, GlobShape, ParseMode, Reference, Rule, RuleType, Severity
    from codegen_lab.rule_engine._reader import read_rule, rule_from_text
    from codegen_lab.rule_engine._render import Rendering
    from codegen_lab.rule_engine._unicode import HiddenCharacter, sanitize_text
    from codegen_lab.rule_engine._write import ChangeSet, revert_last
    from codegen_lab.rule_engine.errors import RuleEngineUsageError, RuleWriteError

__version__: str
"""The installed version of codegen-lab-rule-engine, read from its metadata when first asked for."""

__all__ = [
    "CHECKS",
    "FORMAT_ENTRY_POINT_GROUP",
    "Attachment",
    "ChangeSet",
    "Check",
    "CompiledRules",
    "Diagnostic",
    "Document",
    "Explanation",
    "GlobShape",
    "Globs",
    "HiddenCharacter",
    "Interpretation",
    "LintReport",
    "ParseMode",
    "PatternMatch",
    "Reference",
    "Rendering",
    "Rule",
    "RuleEngine",
    "RuleEngineUsageError",
    "RuleFormat",
    "RuleIndex",
    "RuleType",
    "RuleWriteError",
    "Severity",
    "ValidationResult",
    "__version__",
    "fix_text",
    "formats",
    "glob_flags",
    "lint",
    "normalise_globs",
    "parse_document",
    "read_rule",
    "render_globs",
    "resolve_inside",
    "revert_last",
    "rule_from_text",
    "sanitize_text",
    "scoped_pattern",
    "validate_rule",
]


_HOMES = {
    "Document": "codegen_lab.rule_engine._document",
    "parse_document": "codegen_lab.rule_engine._document",
    "Attachment": "codegen_lab.rule_engine._engine",
    "Explanation": "codegen_lab.rule_engine._engine",
    "RuleEngine": "codegen_lab.rule_engine._engine",
    "resolve_inside": "codegen_lab.rule_engine._engine",
    "FORMAT_ENTRY_POINT_GROUP": "codegen_lab.rule_engine._formats",
    "Interpretation": "codegen_lab.rule_engine._formats",
    "RuleFormat": "codegen_lab.rule_engine._formats",
    "formats": "codegen_lab.rule_engine._formats",
    "Globs": "codegen_lab.rule_engine._globs",
    "normalise_globs": "codegen_lab.rule_engine._globs",
    "render_globs": "codegen_lab.rule_engine._globs",
    "RuleIndex": "codegen_lab.rule_engine._index",
    "CHECKS": "codegen_lab.rule_engine._lint",
    "Check": "codegen_lab.rule_engine._lint",
    "LintReport": "codegen_lab.rule_engine._lint",
    "ValidationResult": "codegen_lab.rule_engine._lint",
    "fix_text": "codegen_lab.rule_engine._lint",
    "lint": "codegen_lab.rule_engine._lint",
    "validate_rule": "codegen_lab.rule_engine._lint",
    "CompiledRules": "codegen_lab.rule_engine._matcher",
    "PatternMatch": "codegen_lab.rule_engine._matcher",
    "glob_flags": "codegen_lab.rule_engine._matcher",
    "scoped_pattern": "codegen_lab.rule_engine._matcher",
    "Diagnostic": "codegen_lab.rule_engine._model",
    "GlobShape": "codegen_lab.rule_engine._model",
    "ParseMode": "codegen_lab.rule_engine._model",
    "Reference": "codegen_lab.rule_engine._model",
    "Rule": "codegen_lab.rule_engine._model",
    "RuleType": "codegen_lab.rule_engine._model",
    "Severity": "codegen_lab.rule_engine._model",
    "read_rule": "codegen_lab.rule_engine._reader",
    "rule_from_text": "codegen_lab.rule_engine._reader",
    "Rendering": "codegen_lab.rule_engine._render",
    "HiddenCharacter": "codegen_lab.rule_engine._unicode",
    "sanitize_text": "codegen_lab.rule_engine._unicode",
    "ChangeSet": "codegen_lab.rule_engine._write",
    "revert_last": "codegen_lab.rule_engine._write",
    "RuleEngineUsageError": "codegen_lab.rule_engine.errors",
    "RuleWriteError": "codegen_lab.rule_engine.errors",
}

__getattr__, __dir__ = _lazy_exports(__name__, "codegen-lab-rule-engine", _HOMES, __all__)
