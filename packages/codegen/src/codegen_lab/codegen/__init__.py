"""The code loop of Codegen Lab: the rules that apply, a model, validation, and a careful write.

`CodeLoop(root, llm, rules, run_tests)` generates a Python file for a task from the project's rules and a model,
validates it (syntax, ruff's security rules, an allowlist of imports and a call policy: `validate_code`,
`check_policy`), runs the target's tests in the sandbox only when static validation passed, and writes with undo.
Its MCP toolkit is `codegen_lab.codegen.mcp` (the `mcp` extra).

Names are imported when first used.
"""

from typing import TYPE_CHECKING

from codegen_lab.common.exports import declared_exports as _declared_exports

if TYPE_CHECKING:
    from codegen_lab.codegen._loop import (
        CodeLoop as CodeLoop,
        GenerationResult as GenerationResult,
        ReviewResult as ReviewResult,
        RuleSource as RuleSource,
        TestOutcome as TestOutcome,
        TestRunner as TestRunner,
    )
    from codegen_lab.codegen._policy import (
        ImportPolicy as ImportPolicy,
        PolicyFinding as PolicyFinding,
        check_policy as check_policy,
    )
    from codegen_lab.codegen._validate import Validation as Validation, validate_code as validate_code

__version__: str
"""The installed version of codegen-lab-codegen, read from its metadata when first asked for."""


__getattr__, __dir__ = _declared_exports(__name__, "codegen-lab-codegen")
