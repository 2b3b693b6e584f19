"""Read, lint, match and explain the rule files that steer AI coding assistants.

Cursor (`.cursor/rules/**/*.mdc`, `RULE.md`, `.cursorrules`), AGENTS.md (and `AGENTS.override.md`), Claude Code
(CLAUDE.md, `.claude/rules`), Copilot, Windsurf, Cline, Gemini, Kiro, Roo, Zed, Junie and Continue rules are read
into one `Rule` model, including the files that are not valid YAML, as Cursor reads them; `ASSISTANTS` says
which of them each assistant loads for a file (`RuleEngine.explain(path, assistant)`), for this user: their own
rule files and settings count (`load_settings`, `RuleEngine.user_settings`).

Example:
    ```python
    from codegen_lab.rule_engine import RuleEngine

    engine = RuleEngine.load(".")
    print([rule.relpath for rule in engine.rules_for("src/app.py")])
    ```
"""

from typing import TYPE_CHECKING

from codegen_lab.common.exports import declared_exports as _declared_exports

if TYPE_CHECKING:
    from codegen_lab.rule_engine._assistants import (
        ASSISTANTS as ASSISTANTS,
        ROO_DEFAULT_MODE as ROO_DEFAULT_MODE,
        ROO_MODES as ROO_MODES,
        Assistant as Assistant,
        AssistantView as AssistantView,
    )
    from codegen_lab.rule_engine._document import Document as Document, parse_document as parse_document
    from codegen_lab.rule_engine._engine import (
        Attachment as Attachment,
        Explanation as Explanation,
        RuleEngine as RuleEngine,
        resolve_inside as resolve_inside,
    )
    from codegen_lab.rule_engine._formats import (
        FORMAT_ENTRY_POINT_GROUP as FORMAT_ENTRY_POINT_GROUP,
        Interpretation as Interpretation,
        RuleFormat as RuleFormat,
        formats as formats,
    )
    from codegen_lab.rule_engine._globs import (
        Globs as Globs,
        normalise_globs as normalise_globs,
        render_globs as render_globs,
    )
    from codegen_lab.rule_engine._index import RuleIndex as RuleIndex
    from codegen_lab.rule_engine._lint import (
        CHECKS as CHECKS,
        Check as Check,
        LintReport as LintReport,
        ValidationResult as ValidationResult,
        fix_text as fix_text,
        lint as lint,
        validate_rule as validate_rule,
    )
    from codegen_lab.rule_engine._matcher import (
        CompiledRules as CompiledRules,
        PatternMatch as PatternMatch,
        glob_flags as glob_flags,
        scoped_pattern as scoped_pattern,
    )
    from codegen_lab.rule_engine._model import (
        Diagnostic as Diagnostic,
        GlobShape as GlobShape,
        ParseMode as ParseMode,
        Reference as Reference,
        Rule as Rule,
        RuleType as RuleType,
        Severity as Severity,
    )
    from codegen_lab.rule_engine._reader import read_rule as read_rule, rule_from_text as rule_from_text
    from codegen_lab.rule_engine._render import Rendering as Rendering
    from codegen_lab.rule_engine._settings import (
        Setting as Setting,
        UserSettings as UserSettings,
        load_settings as load_settings,
    )
    from codegen_lab.rule_engine._unicode import HiddenCharacter as HiddenCharacter, sanitize_text as sanitize_text
    from codegen_lab.rule_engine._write import ChangeSet as ChangeSet, revert_last as revert_last
    from codegen_lab.rule_engine.errors import (
        RuleEngineUsageError as RuleEngineUsageError,
        RuleWriteError as RuleWriteError,
    )

__version__: str
"""The installed version of codegen-lab-rule-engine, read from its metadata when first asked for."""


__getattr__, __dir__ = _declared_exports(__name__, "codegen-lab-rule-engine")
