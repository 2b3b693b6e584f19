"""What the LLM service reports, as documented result models (`codegen_lab.common.results`)."""

from __future__ import annotations

from codegen_lab.common.results import Result

__all__ = ["LLMUsage"]


class LLMUsage(Result):
    """What LLM calls spent: those of one tool, or all of them."""

    calls: int
    """Calls of the LLM service, answered or not."""
    cache_hits: int
    """Calls the response cache answered (they cost nothing)."""
    failures: int
    """Calls no backend answered."""
    input_tokens: int
    """Input tokens of the calls that went out."""
    output_tokens: int
    """Output tokens of the calls that went out."""
    cache_read_input_tokens: int
    """Input tokens the provider read from its prompt cache."""
    cache_creation_input_tokens: int
    """Input tokens the provider wrote to its prompt cache."""
    cost_usd: float
    """The cost in US dollars of the calls whose model has a price."""
    mean_latency_seconds: float
    """The mean latency of the calls that went out (0 when none did)."""
