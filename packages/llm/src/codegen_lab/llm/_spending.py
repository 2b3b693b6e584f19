"""What the LLM calls made inside one piece of work cost: a meter the service charges through a context variable.

A caller (the MCP server, for each tool call) opens `spending()` around the work; every completion that
`LLMService.complete` returns while it is open, in that task or in tasks and threads started from it (they copy
the context, and with it the meter), is counted there. Outside any `spending()` nothing is counted.
"""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codegen_lab.llm._types import Completion

__all__ = ["Spending", "charge", "spending"]


@dataclass
class Spending:
    """The LLM calls of one piece of work: how many, how many the cache answered, tokens and cost."""

    calls: int = 0
    cache_hits: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    priced: bool = True
    """False once a call's model had no price (its cost is unknown, so `cost_usd` is a lower bound)."""

    def add(self, completion: Completion) -> None:
        """Count one completion the service returned (a cached one costs nothing)."""
        self.calls += 1
        if completion.cached:
            self.cache_hits += 1
            return
        self.input_tokens += completion.usage.total_input_tokens
        self.output_tokens += completion.usage.output_tokens
        if completion.cost_usd is None:
            self.priced = False
        else:
            self.cost_usd += completion.cost_usd


_METER: ContextVar[Spending | None] = ContextVar("codegen_lab_llm_spending", default=None)


@contextmanager
def spending() -> Generator[Spending]:
    """A meter of the LLM calls made until the block ends (nested blocks count in the innermost only)."""
    meter = Spending()
    token = _METER.set(meter)
    try:
        yield meter
    finally:
        _METER.reset(token)


def charge(completion: Completion) -> None:
    """Count `completion` on the open meter, if any."""
    meter = _METER.get()
    if meter is not None:
        meter.add(completion)
