"""The completion protocol every LLM backend speaks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

__all__ = ["Completer", "Completion", "CompletionRequest", "LLMBackend", "Message", "StreamCallback", "Usage"]

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
    output_tokens: int = 0


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
    notes: tuple[str, ...] = ()
    """What the service did on the way: a fallback to another backend, a retry after a rate limit."""


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
