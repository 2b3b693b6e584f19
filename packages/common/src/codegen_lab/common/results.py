"""The one style of structured results: pydantic models whose every field is documented.

Every MCP tool of Codegen Lab returns a `Result`, so that the SDK publishes a typed output schema for it, and
pydantic is the one serializer (`model_dump(mode="json")`, what the SDK sends as structured content and what
`--format json` prints). A field's description is the docstring written under it (`use_attribute_docstrings`);
`tests/test_tool_schemas.py` of the server checks that every property of every tool has one.

- `Result`: a result built from its fields; unknown fields are refused, so a key that drifts is an error in
  the tests, not a silent loss.
- `SparseResult`: a result whose optional fields are in its JSON only when they were given, for the results
  whose JSON leaves a key out rather than saying `null` (`edges_from` of a graph read from given edges).

Example:
    ```python
    class Lint(Result):
        "What the linter found."

        errors: int
        "How many errors."
    ```
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from codegen_lab.common.exports import declared_exports

if TYPE_CHECKING:
    from codegen_lab.common._sparse import SparseResult as SparseResult  # noqa: PLC0414 (a re-export)


class Result(BaseModel):
    """A structured result: each field documented by the docstring under it, no field beyond those declared."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid", defer_build=True)


# `SparseResult` is imported when first used: its serializer's module is not one a server's start needs.
__getattr__, __dir__ = declared_exports(__name__, "codegen-lab-common", defined_here=["Result"])
