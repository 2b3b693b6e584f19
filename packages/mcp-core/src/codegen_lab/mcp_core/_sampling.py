"""The connected client's own model as an LLM backend, through MCP sampling (`sampling/createMessage`)."""

from __future__ import annotations

import time
import warnings
from typing import Any

from codegen_lab.llm import BackendError, Completion, CompletionRequest, StreamCallback

__all__ = ["SamplingBackend", "sampling_backend"]


_REPORTED_MODELS: dict[str, str] = {}
"""The model each client (by its name and version) last said answered: the cache key of its next call."""
_STOP_REASONS = {"endTurn": "end_turn", "stopSequence": "stop_sequence", "maxTokens": "max_tokens"}
DEFAULT_PREFERENCES: dict[str, Any] = {
    "hints": ["claude-sonnet", "claude"],
    "intelligence_priority": 0.8,
    "speed_priority": 0.4,
    "cost_priority": 0.3,
}
"""The `modelPreferences` sampling requests carry: code wants a capable model more than a fast or cheap one."""


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

    def __init__(self, session: Any, *, preferences: dict[str, Any] | None = None) -> None:
        self._session = session
        self.preferences = DEFAULT_PREFERENCES if preferences is None else preferences

    @property
    def model(self) -> str:
        """The model the client said answered its last request; empty before it answered one (no cache lookup)."""
        client = _client_id(self._session)
        return _REPORTED_MODELS.get(client, "") if client else ""

    @staticmethod
    def offered_by(session: Any) -> bool:
        """Whether the client declared the sampling capability."""
        capabilities = getattr(session, "client_capabilities", None)
        return capabilities is not None and getattr(capabilities, "sampling", None) is not None

    async def complete(self, request: CompletionRequest, *, on_text: StreamCallback | None = None) -> Completion:
        """Ask the client's model; the whole answer arrives at once (sampling does not stream)."""
        from mcp.shared.exceptions import MCPDeprecationWarning  # noqa: PLC0415
        from mcp_types import ModelHint, ModelPreferences, SamplingMessage, TextContent  # noqa: PLC0415

        preferences = ModelPreferences(
            hints=[ModelHint(name=name) for name in self.preferences.get("hints", [])],
            intelligence_priority=self.preferences.get("intelligence_priority"),
            speed_priority=self.preferences.get("speed_priority"),
            cost_priority=self.preferences.get("cost_priority"),
        )

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
                    model_preferences=preferences,
                )
        except Exception as exc:
            raise BackendError(f"the client's sampling failed: {type(exc).__name__}: {exc}", transient=False) from None
        content = result.content
        text = getattr(content, "text", None) or ""
        if on_text is not None and text:
            await on_text(text)
        model = str(getattr(result, "model", "") or "client")
        client = _client_id(self._session)
        if client:
            if len(_REPORTED_MODELS) >= 1000 and client not in _REPORTED_MODELS:
                _REPORTED_MODELS.pop(next(iter(_REPORTED_MODELS)))
            _REPORTED_MODELS[client] = model
        reason: str | None = getattr(result, "stop_reason", None)
        return Completion(
            text=text,
            backend=self.name,
            model=model,
            # the MCP names (`endTurn`, ...) as the API's; a client that gives none sent its whole answer at once
            stop_reason=_STOP_REASONS.get(reason, reason) if reason else "end_turn",
            latency_seconds=time.perf_counter() - started,
        )


def _client_id(session: Any) -> str | None:
    """The client behind `session`, as the name and version it gave when it connected (None when it gave none)."""
    info = getattr(getattr(session, "client_params", None), "client_info", None)
    name = getattr(info, "name", None)
    return f"{name} {getattr(info, 'version', '')}".strip() if name else None
