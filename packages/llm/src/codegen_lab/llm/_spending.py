"""What LLM calls spent: one counter (`ToolUsage`) for a tool's totals and for the calls made inside one piece of work.

The service counts each `complete` in a `ToolUsage` of its own, then adds it to the tool's totals and to the meter a
caller opened with `spending()` (the MCP server, for each tool call): every call made while the meter is open, in
that task or in tasks and threads started from it (they copy the context, and with it the meter), is counted
there. Outside any `spending()` no meter counts.
"""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codegen_lab.llm._results import LLMUsage
    from codegen_lab.llm._types import Completion

__all__ = ["ToolUsage", "meter", "spending"]


@dataclass
class ToolUsage:
    """What LLM calls spent: those of one tool, or those made inside one `spending()` block."""

    calls: int = 0
    """Calls of `LLMService.complete`, answered or not."""
    cache_hits: int = 0
    """Calls the response cache answered (they cost nothing)."""
    failures: int = 0
    """Calls no backend answered."""
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cost_usd: float = 0.0
    """The cost of the calls whose model has a price (a lower bound when `unpriced` is not 0)."""
    unpriced: int = 0
    """Answers from a model with no price: their cost is unknown."""
    latency_seconds: float = 0.0

    @property
    def answered(self) -> int:
        """The calls that returned a completion (from the cache or a backend)."""
        return self.calls - self.failures

    def add(self, completion: Completion) -> None:
        """Count the tokens, cost and latency of a completion that went out."""
        self.input_tokens += completion.usage.input_tokens
        self.output_tokens += completion.usage.output_tokens
        self.cache_read_input_tokens += completion.usage.cache_read_input_tokens
        self.cache_creation_input_tokens += completion.usage.cache_creation_input_tokens
        if completion.cost_usd is None:
            self.unpriced += 1
        else:
            self.cost_usd += completion.cost_usd
        self.latency_seconds += completion.latency_seconds

    def merge(self, other: ToolUsage) -> None:
        """Add every counter of `other` to this one."""
        for name in _USAGE_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def to_result(self) -> LLMUsage:
        """The usage as `server_info` reports it: the cost rounded, the mean latency of the calls that went out."""
        from codegen_lab.llm._results import LLMUsage  # noqa: PLC0415

        went_out = self.calls - self.cache_hits
        return LLMUsage(
            calls=self.calls,
            cache_hits=self.cache_hits,
            failures=self.failures,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            cache_read_input_tokens=self.cache_read_input_tokens,
            cache_creation_input_tokens=self.cache_creation_input_tokens,
            cost_usd=round(self.cost_usd, 6),
            mean_latency_seconds=round(self.latency_seconds / went_out, 4) if went_out else 0.0,
        )


_USAGE_FIELDS = tuple(item.name for item in fields(ToolUsage))

_METER: ContextVar[ToolUsage | None] = ContextVar("codegen_lab_llm_spending", default=None)


@contextmanager
def spending() -> Generator[ToolUsage]:
    """A meter of the LLM calls made until the block ends (nested blocks count in the innermost only)."""
    usage = ToolUsage()
    token = _METER.set(usage)
    try:
        yield usage
    finally:
        _METER.reset(token)


def meter() -> ToolUsage | None:
    """The meter of the innermost open `spending()` block, if any."""
    return _METER.get()
