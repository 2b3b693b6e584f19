"""The connected client's own model as an LLM backend, through MCP sampling (`sampling/createMessage`)."""

from __future__ import annotations

import time
import warnings
from typing import Any

from codegen_lab.llm import BackendError, Completion, CompletionRequest, StreamCallback

__all__ = ["SamplingBackend", "sampling_backend"]


def sampling_backend(session: Any) -> SamplingBackend | None:
    """The client's model behind `session`, when the client declared the sampling capability; else None.

    `LLMService(sampling=sampling_backend)` asks it for each call that carries the MCP session.
    """
    return SamplingBackend(session) if SamplingBackend.offered_by(session) else None


class SamplingBackend:
    """Completions from the connected client's own model (`sampling/createMessage`).

    Args:
        session: The MCP server session of the current request (`ctx.session`).
    """

    name = "sampling"
    model = "client"

    def __init__(self, session: Any) -> None:
        self._session = session

    @staticmethod
    def offered_by(session: Any) -> bool:
        """Whether the client declared the sampling capability."""
        capabilities = getattr(session, "client_capabilities", None)
        return capabilities is not None and getattr(capabilities, "sampling", None) is not None

    async def complete(self, request: CompletionRequest, *, on_text: StreamCallback | None = None) -> Completion:
        """Ask the client's model; the whole answer arrives at once (sampling does not stream)."""
        from mcp.shared.exceptions import MCPDeprecationWarning  # noqa: PLC0415
        from mcp_types import SamplingMessage, TextContent  # noqa: PLC0415

        started = time.perf_counter()
        try:
            with warnings.catch_warnings():
                # Sampling is deprecated from protocol 2026-07-28 on (SEP-2577), yet it is how clients without an
                # API key lend their model; we use it only where the client still declares the capability.
                warnings.simplefilter("ignore", MCPDeprecationWarning)
                result = await self._session.create_message(
                    [
                        SamplingMessage(role=m.role, content=TextContent(type="text", text=m.content))
                        for m in request.messages
                    ],
                    max_tokens=request.max_tokens,
                    system_prompt=request.system,
                    temperature=request.temperature,
                    stop_sequences=list(request.stop) or None,
                )
        except Exception as exc:
            raise BackendError(f"the client's sampling failed: {type(exc).__name__}: {exc}", transient=False) from None
        content = result.content
        text = getattr(content, "text", None) or ""
        if on_text is not None and text:
            await on_text(text)
        return Completion(
            text=text,
            backend=self.name,
            model=getattr(result, "model", "client") or "client",
            stop_reason=getattr(result, "stop_reason", None),
            latency_seconds=time.perf_counter() - started,
        )
