"""The one result style: documented pydantic models, one serializer, and sparse results that keep their keys."""

from __future__ import annotations

import dataclasses
import datetime
import enum
from pathlib import Path
from typing import NamedTuple

import pydantic
import pytest

from codegen_lab.common.results import Result, SparseResult, to_json


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


class Color(enum.Enum):
    RED = "red"


class Point(NamedTuple):
    x: int
    y: int


@dataclasses.dataclass
class Record:
    path: Path
    color: Color
    points: tuple[Point, ...]
    tags: frozenset[str]
    when: datetime.date
    extra: dict[int, Plan]


@dataclasses.dataclass
class Reported:
    hidden: int

    def to_result(self) -> Count:
        return Count(total=self.hidden * 2)


def test_to_json_writes_records_by_their_fields_and_results_as_their_models_json() -> None:
    record = Record(
        path=Path("src") / "app.py",
        color=Color.RED,
        points=(Point(1, 2),),
        tags=frozenset({"a"}),
        when=datetime.date(2026, 12, 3),
        extra={7: Plan(steps=[Step.model_validate({"name": "s", "from": "x"})])},
    )
    assert to_json(record) == {
        "path": str(Path("src") / "app.py"),
        "color": "red",
        "points": [{"x": 1, "y": 2}],
        "tags": ["a"],
        "when": "2026-12-03",
        "extra": {"7": {"steps": [{"name": "s", "from": "x"}]}},
    }
    assert to_json([Reported(hidden=3), None, True, 1.5]) == [{"total": 6, "skipped": 0}, None, True, 1.5]


def test_to_json_refuses_what_is_not_a_result() -> None:
    with pytest.raises(TypeError, match="object is not a result to serialize"):
        to_json({"x": object()})
