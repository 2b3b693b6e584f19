"""What calls cost: a price table per model, in US dollars per million tokens."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from codegen_lab.llm._types import Usage

__all__ = ["DEFAULT_PRICES", "Price", "PriceTable"]


@dataclass(frozen=True, slots=True)
class Price:
    """US dollars per million tokens: input, output; cache reads and writes as multiples of the input rate."""

    input: float
    output: float
    cache_read: float = 0.1
    cache_write: float = 1.25

    def cost(self, usage: Usage) -> float:
        """What `usage` cost at this price."""
        return (
            usage.input_tokens * self.input
            + usage.output_tokens * self.output
            + usage.cache_read_input_tokens * self.input * self.cache_read
            + usage.cache_creation_input_tokens * self.input * self.cache_write
        ) / 1_000_000


DEFAULT_PRICES: Mapping[str, Price] = {
    # exact names first, then families (the longest matching prefix wins); override with the llm-prices setting
    "claude-opus-4-1": Price(15.0, 75.0),
    "claude-opus-4-0": Price(15.0, 75.0),
    "claude-opus-4-2": Price(15.0, 75.0),
    "claude-opus": Price(5.0, 25.0),
    "claude-sonnet": Price(3.0, 15.0),
    "claude-haiku-3": Price(0.8, 4.0),
    "claude-haiku": Price(1.0, 5.0),
}
"""Prices of current Claude models: Opus 4.5 and later $5/$25, Sonnet $3/$15, Haiku 4.5 and later $1/$5."""


@dataclass(frozen=True, slots=True)
class PriceTable:
    """Prices by model name or prefix; `overrides` (the `llm-prices` setting, `[input, output]`) come first."""

    prices: Mapping[str, Price]

    @classmethod
    def with_overrides(cls, overrides: Mapping[str, tuple[float, float]] | None = None) -> PriceTable:
        """The defaults, with `overrides` (model or prefix -> (input, output) dollars per million tokens)."""
        table = dict(DEFAULT_PRICES)
        table.update({name: Price(float(pair[0]), float(pair[1])) for name, pair in (overrides or {}).items()})
        return cls(table)

    def price(self, model: str) -> Price | None:
        """The price of `model`: its own, else the longest prefix that matches, else None."""
        if model in self.prices:
            return self.prices[model]
        matches = [name for name in self.prices if model.startswith(name)]
        return self.prices[max(matches, key=len)] if matches else None

    def cost(self, model: str, usage: Usage) -> float | None:
        """What `usage` of `model` cost, or None when the table has no price for it."""
        price = self.price(model)
        return None if price is None else round(price.cost(usage), 6)
