"""Errors of testgen, on top of Codegen Lab's split between the caller's mistakes and failures while working.

```
CodegenLabError (codegen_lab.common.errors)
├── UsageError
│   └── TestgenUsageError          a bad target, path, interpreter or option
│       └── MissingToolsError      the target interpreter lacks pytest, coverage or hypothesis
└── OperationError
    └── TestgenOperationError      the sandbox, pytest or coverage failed while working
```
"""

from __future__ import annotations

from codegen_lab.common.errors import OperationError, UsageError

__all__ = ["MissingToolsError", "TestgenOperationError", "TestgenUsageError"]


class TestgenUsageError(UsageError):
    """testgen was called wrongly: a target that is not there, a path outside the root, a bad option."""

    __test__ = False  # not a pytest test class, whatever its name


class MissingToolsError(TestgenUsageError):
    """The target interpreter cannot import what testgen needs there.

    Args:
        python: The target interpreter.
        missing: The distributions to install, as `pip` names them.
    """

    def __init__(self, python: str, missing: list[str]) -> None:
        self.python = python
        self.missing = tuple(missing)
        self.command = f"uv pip install --python {python} {' '.join(missing)}"
        super().__init__(
            f"the target interpreter {python} cannot import {', '.join(missing)}",
            hint=f"Install them there with: {self.command}",
        )


class TestgenOperationError(OperationError):
    """Running the code under test, pytest or coverage failed in a way the caller could not prevent."""

    __test__ = False
