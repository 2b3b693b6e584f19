"""The completion protocol every LLM backend speaks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = [
    "CachingCompleter",
    "Completer",
    "Completion",
    "CompletionRequest",
    "LLMBackend",
    "Message",
    "StreamCallback",
    "Usage",
]

StreamCallback = Callable[[str], Awaitable[None]]
"""Called with each piece of text as a streamed completion arrives."""


@dataclass(frozen=True, slots=True)
class Message:
    """One turn of the conversation."""

    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True, slots=True)
class CompletionRequest:
    """What to ask the model."""

    messages: tuple[Message, ...]
    system: str | None = None
    max_tokens: int = 1024
    temperature: float | None = None
    stop: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens a completion cost."""

    input_tokens: int = 0
    """Input tokens billed at the full rate (the API's `input_tokens`: not read from or written to the cache)."""
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    """Input tokens read from the prompt cache (billed at a tenth of the input rate)."""
    cache_creation_input_tokens: int = 0
    """Input tokens written to the prompt cache (billed at 1.25 times the input rate)."""

    @property
    def total_input_tokens(self) -> int:
        """Every input token, whether from the cache, written to it or neither."""
        return self.input_tokens + self.cache_read_input_tokens + self.cache_creation_input_tokens


@dataclass(frozen=True, slots=True)
class Completion:
    """What the model answered, and what it cost."""

    text: str
    backend: str
    model: str
    usage: Usage = field(default_factory=Usage)
    stop_reason: str | None = None
    cached: bool = False
    latency_seconds: float = 0.0
    cost_usd: float | None = None
    """What the call cost by the service's price table; None when the model has no price (or it was cached)."""
    notes: tuple[str, ...] = ()
    """What the service did on the way: a fallback to another backend, a retry after a rate limit."""
    cache_key: str | None = None
    """The key the service caches it under (backend, model, prompt, parameters): what `remember` stores it as."""


class LLMBackend(Protocol):
    """A way to get completions: the Anthropic API, the client's own model (MCP sampling), ..."""

    @property
    def name(self) -> str:
        """`anthropic`, `sampling`, ..."""
        ...

    @property
    def model(self) -> str:
        """The model it asks."""
        ...

    async def complete(self, request: CompletionRequest, *, on_text: StreamCallback | None = None) -> Completion:
        """Answer `request`; with `on_text`, stream the text as it arrives."""
        ...


class Completer(Protocol):
    """The protocol every package that can use a model takes; the server passes its `LLMService`.

    `tool` names the caller for usage accounting; `session` is the caller's MCP session, through which the
    client's own model can answer (sampling); `on_text` receives the text as it streams in.
    """

    def available(self, session: Any = None) -> bool:
        """Whether any backend could answer now."""
        ...

    async def complete(
        self,
        request: CompletionRequest,
        *,
        tool: str = ...,
        session: Any = None,
        on_text: StreamCallback | None = None,
    ) -> Completion:
        """Answer `request`.

        Raises:
            LLMUnavailableError: When no backend could answer.
        """
        ...


@runtime_checkable
class CachingCompleter(Completer, Protocol):
    """A `Completer` whose caller decides what is cached: `LLMService` is one.

    A caller that validates answers asks with `store=False` and calls `remember` only for an answer that passed,
    so that a wrong answer is never served again from the cache.
    """

    async def complete(
        self,
        request: CompletionRequest,
        *,
        tool: str = ...,
        session: Any = None,
        on_text: StreamCallback | None = None,
        use_cache: bool = ...,
        store: bool = ...,
    ) -> Completion:
        """Answer `request`.

        `use_cache=False` asks the model even when the cache holds an answer; `store=False` keeps the answer out of
        the cache.

        Raises:
            LLMUnavailableError: When no backend could answer.
        """
        ...

    def remember(self, request: CompletionRequest, completion: Completion) -> None:
        """Store `completion` as the answer to `request` (after the caller checked it)."""
        ...
