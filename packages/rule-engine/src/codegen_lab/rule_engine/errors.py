"""Errors of the rule engine.

```
codegen_lab.common.errors.UsageError
└── RuleEngineUsageError        a path outside the root, an unknown rule, a format that does not exist
codegen_lab.common.errors.OperationError
└── RuleWriteError              a rule file could not be written (the original is left as it was)
```

A rule file that cannot be parsed is never an exception: it yields a `Rule` with diagnostics.
"""

from __future__ import annotations

from codegen_lab.common.errors import OperationError, UsageError

__all__ = ["RuleEngineUsageError", "RuleWriteError"]


class RuleEngineUsageError(UsageError):
    """The rule engine was called wrongly: a path outside the root, an unknown rule or format."""


class RuleWriteError(OperationError):
    """A rule file could not be written; the file on disk is unchanged."""
