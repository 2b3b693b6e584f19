"""The one style of structured results: pydantic models whose every field is documented.

Every MCP tool of Codegen Lab returns a `Result`, so that the SDK publishes a typed output schema for it, and
pydantic is the one serializer (`model_dump(mode="json")`, what the SDK sends as structured content and what
`--format json` prints). A field's description is the docstring written under it (`use_attribute_docstrings`);
`tests/test_tool_schemas.py` of the server checks that every property of every tool has one.

- `Result`: a result built from its fields; unknown fields are refused, so a key that drifts is an error in
  the tests, not a silent loss.
- `SparseResult`: a result whose optional fields are in its JSON only when they were given, for the results
  whose JSON leaves a key out rather than saying `null` (`edges_from` of a graph read from given edges).
- `to_json`: the one serializer. The libraries' own records (dataclasses and named tuples such as a journal's
  `Change` or a lint `Diagnostic`) have no JSON methods of their own: `to_json` writes their fields, and a record
  whose JSON is not its fields says so with a `to_result()` that gives its `Result`. `--format json`, the
  dashboard and the MCP tools all go through it.

Example:
    ```python
    class Lint(Result):
        "What the linter found."

        errors: int
        "How many errors."
    ```
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
from collections.abc import Mapping
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, cast

from pydantic import BaseModel, ConfigDict

from codegen_lab.common.exports import declared_exports

if TYPE_CHECKING:
    from codegen_lab.common._sparse import SparseResult as SparseResult  # noqa: PLC0414 (a re-export)


class Result(BaseModel):
    """A structured result: each field documented by the docstring under it, no field beyond those declared."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid", defer_build=True)


def to_json(value: object) -> Any:
    """`value` as JSON values (dicts, lists, text, numbers, booleans, None): the one serializer of results.

    - a pydantic model: `model_dump(mode="json", by_alias=True)` (a `SparseResult` leaves out what was not given);
    - an object with a `to_result()` method: that result's JSON;
    - a dataclass or a named tuple: its fields by name, in their order, each serialized;
    - a mapping: its items, the keys as text; a list, tuple, set or frozenset: a list;
    - a path: its text; an enum: its value; a date, time or datetime: its ISO text.

    Raises:
        TypeError: For a value of any other type (a bug in the caller: results hold JSON values).
    """
    if value is None or isinstance(value, str | int | float):  # bool is an int
        return value
    if isinstance(value, enum.Enum):
        return to_json(value.value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    to_result = getattr(value, "to_result", None)
    if callable(to_result):
        return to_json(to_result())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {item.name: to_json(getattr(value, item.name)) for item in dataclasses.fields(value)}
    fields: object = getattr(value, "_fields", None)
    if isinstance(value, tuple) and isinstance(fields, tuple):  # a named tuple
        names = cast("tuple[str, ...]", fields)
        return {name: to_json(item) for name, item in zip(names, cast("tuple[object, ...]", value), strict=True)}
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in cast("Mapping[object, object]", value).items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(item) for item in cast("list[object]", value)]
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a result to serialize: {value!r:.80}")


# `SparseResult` is imported when first used: its serializer's module is not one a server's start needs.
__getattr__, __dir__ = declared_exports(__name__, "codegen-lab-common", defined_here=["Result", "to_json"])
