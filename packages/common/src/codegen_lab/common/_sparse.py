"""`SparseResult`: a `Result` whose JSON leaves out the optional fields that were not given."""

from __future__ import annotations

from typing import Any

from pydantic import SerializerFunctionWrapHandler, model_serializer

from codegen_lab.common.results import Result

__all__ = ["SparseResult"]


class SparseResult(Result):
    """A result whose fields with a default are in its JSON only when they were given.

    As with a `TypedDict` key that is not required: the JSON of `SparseResult.model_validate(data)` has exactly
    the keys of `data`.
    """

    @model_serializer(mode="wrap")
    def _given_only(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        fields = type(self).model_fields
        left_out = {field.alias or name for name, field in fields.items() if name not in self.model_fields_set}
        if not left_out or not isinstance(data, dict):
            return data
        return {key: value for key, value in data.items() if key not in left_out}  # pyright: ignore[reportUnknownVariableType]
