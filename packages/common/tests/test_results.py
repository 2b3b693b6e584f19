"""The one result style: documented pydantic models, one serializer, and sparse results that keep their keys."""

from __future__ import annotations

import pydantic
import pytest

from codegen_lab.common.results import Result, SparseResult


class Step(SparseResult):
    """One step."""

    name: str
    """The step's name."""
    note: str | None = None
    """What happened, when something did."""
    from_: str | None = pydantic.Field(default=None, alias="from")
    """Where it came from."""


class Plan(SparseResult):
    """A plan."""

    steps: list[Step]
    """The steps."""
    done: bool = False
    """Whether it ran."""


class Count(Result):
    """A count."""

    total: int
    """How many."""
    skipped: int = 0
    """How many were skipped."""


def test_a_sparse_result_has_exactly_the_keys_it_was_given_at_every_level() -> None:
    data = {"steps": [{"name": "a"}, {"name": "b", "note": None, "from": "x"}]}

    dumped = Plan.model_validate(data).model_dump(mode="json", by_alias=True)

    assert dumped == data


def test_a_result_keeps_its_defaults_in_the_json() -> None:
    assert Count(total=3).model_dump(mode="json") == {"total": 3, "skipped": 0}


def test_a_result_refuses_a_key_it_does_not_declare() -> None:
    with pytest.raises(pydantic.ValidationError, match="surplus"):
        Count.model_validate({"total": 1, "surplus": 2})


def test_the_docstring_under_a_field_is_its_description_in_the_schema() -> None:
    schema = Plan.model_json_schema(by_alias=True)

    assert schema["description"] == "A plan."
    assert schema["properties"]["done"]["description"] == "Whether it ran."
    assert schema["$defs"]["Step"]["properties"]["from"]["description"] == "Where it came from."
