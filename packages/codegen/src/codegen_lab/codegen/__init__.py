"""The code loop of Codegen Lab: the rules that apply, a model, validation, and a careful write.

`CodeLoop(root, llm, rules, run_tests)` generates a Python file for a task from the project's rules and a model,
validates it (syntax, ruff's security rules, an allowlist of imports and a call policy: `validate_code`,
`check_policy`), runs the target's tests in the sandbox only when static validation passed, and writes with undo.
Its MCP toolkit is `codegen_lab.codegen.mcp` (the `mcp` extra).

Names are imported when first used.
"""

from typing import TYPE_CHECKING

from codegen_lab.common import lazy_exports as _lazy_exports

if TYPE_CHECKING:
    from codegen_lab.codegen._loop import (
        CodeLoop,
        GenerationResult,
        ReviewResult,
        RuleSource,
        TestOutcome,
        TestRunner,
    )
    from codegen_lab.codegen._policy import ImportPolicy, PolicyFinding, check_policy
    from codegen_lab.codegen._validate import Validation, validate_code

__version__: str
"""The installed version of codegen-lab-codegen, read from its metadata when first asked for."""

__all__ = [
    "CodeLoop",
    "GenerationResult",
    "ImportPolicy",
    "PolicyFinding",
    "ReviewResult",
    "RuleSource",
    "TestOutcome",
    "TestRunner",
    "Validation",
    "__version__",
    "check_policy",
    "validate_code",
]

_HOMES = {
    "CodeLoop": "codegen_lab.codegen._loop",
    "GenerationResult": "codegen_lab.codegen._loop",
    "ReviewResult": "codegen_lab.codegen._loop",
    "RuleSource": "codegen_lab.codegen._loop",
    "TestOutcome": "codegen_lab.codegen._loop",
    "TestRunner": "codegen_lab.codegen._loop",
    "ImportPolicy": "codegen_lab.codegen._policy",
    "PolicyFinding": "codegen_lab.codegen._policy",
    "check_policy": "codegen_lab.codegen._policy",
    "Validation": "codegen_lab.codegen._validate",
    "validate_code": "codegen_lab.codegen._validate",
}

__getattr__, __dir__ = _lazy_exports(__name__, "codegen-lab-codegen", _HOMES, __all__)
