"""The small protocol through which an LLM can help; the server fills it, testgen never imports an LLM SDK."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol, TypedDict, runtime_checkable

__all__ = ["Completer", "Message"]


class Message(TypedDict):
    """One turn of a conversation with the model."""

    role: Literal["user", "assistant"]
    content: str


@runtime_checkable
class Completer(Protocol):
    """Something that completes a conversation: the server passes one in when it has a model to offer."""

    async def complete(self, system: str, messages: Sequence[Message], max_tokens: int) -> str:
        """Return the model's answer to `messages` under the `system` prompt, at most `max_tokens` long."""
        ...
