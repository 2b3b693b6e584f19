"""Rates of calls (`10/minute`), as the settings write them: parsed here so that settings need no MCP code."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["DEFAULT_CLIENT_RATE_LIMITS", "DEFAULT_RATE_LIMITS", "Rate"]

DEFAULT_RATE_LIMITS: Mapping[str, str] = {"llm": "30/minute", "tests": "10/minute", "subprocess": "60/minute"}
"""The limit of each tool class when the settings do not say otherwise."""

DEFAULT_CLIENT_RATE_LIMITS: Mapping[str, str] = {"llm": "10/minute", "tests": "4/minute", "subprocess": "20/minute"}
"""The limit of each tool class for one client (a token, a session) when the settings do not say otherwise: a
third of the server's, so that one client cannot take every call the server allows."""

_UNITS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour|day)s?\s*$", re.IGNORECASE)
_OFF = "off"


@dataclass(frozen=True, slots=True)
class Rate:
    """At most `calls` calls in `seconds`, with bursts of up to `calls`.

    Attributes:
        calls: Calls allowed per period, also the largest burst.
        seconds: The period.
        text: The rate as written, such as `10/minute`.
    """

    calls: int
    seconds: float
    text: str

    @classmethod
    def parse(cls, text: str) -> Rate | None:
        """The rate `text` says (`N/second`, `N/minute`, `N/hour`, `N/day`), or None for `off` (no limit).

        Raises:
            ValueError: When `text` is neither a rate nor `off`, or allows no call at all.
        """
        if text.strip().lower() == _OFF:
            return None
        match = _RATE.match(text)
        if match is None:
            raise ValueError(f"{text!r} is not a rate: write N/second, N/minute, N/hour or N/day, or {_OFF}")
        calls = int(match.group(1))
        if calls < 1:
            raise ValueError(f"{text!r} allows no call at all: write at least 1 per period, or {_OFF}")
        return cls(calls=calls, seconds=_UNITS[match.group(2).lower()], text=f"{calls}/{match.group(2).lower()}")

    def __str__(self) -> str:
        return self.text
