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

from codegen_lab.rule_engine._document import Document, parse_document
from codegen_lab.rule_engine._engine import Attachment, Explanation, RuleEngine, resolve_inside
from codegen_lab.rule_engine._formats import FORMAT_ENTRY_POINT_GROUP, Interpretation, RuleFormat, formats
from codegen_lab.rule_engine._globs import Globs, normalise_globs, render_globs
from codegen_lab.rule_engine._lint import CHECKS, Check, LintReport, ValidationResult, fix_text, lint, validate_rule
from codegen_lab.rule_engine._matcher import CompiledRules, PatternMatch, glob_flags, scoped_pattern
from codegen_lab.rule_engine._model import Diagnostic, GlobShape, ParseMode, Reference, Rule, RuleType, Severity
from codegen_lab.rule_engine._reader import read_rule, rule_from_text
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
    "Interpretation",
    "LintReport",
    "ParseMode",
    "PatternMatch",
    "Reference",
    "Rule",
    "RuleEngine",
    "RuleEngineUsageError",
    "RuleFormat",
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
    "scoped_pattern",
    "validate_rule",
]


def __getattr__(name: str) -> str:
    if name == "__version__":
        from importlib.metadata import version  # noqa: PLC0415

        return version("codegen-lab-rule-engine")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
