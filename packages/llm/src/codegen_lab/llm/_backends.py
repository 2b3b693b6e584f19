"""The Anthropic API through the official SDK: the LLM backend this package ships.

The client's own model (MCP sampling) is a backend too; it lives with the MCP code, in `codegen_lab.mcp_core`.
"""

from __future__ import annotations

import os
import time
from typing import Any, cast

from codegen_lab.common.errors import LLMUnavailableError
from codegen_lab.llm._keys import anthropic_key
from codegen_lab.llm._types import Completion, CompletionRequest, StreamCallback, Usage

__all__ = ["AnthropicBackend", "BackendError", "anthropic_key"]


class BackendError(Exception):
    """A backend call failed; `transient` says whether a retry may help, `retry_after` when the server said."""

    def __init__(self, message: str, *, transient: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.retry_after = retry_after


class AnthropicBackend:
    """Completions from the Anthropic Messages API, through the official `anthropic` SDK (imported on first use).

    The SDK's own retries are off: the service retries, honouring `retry-after`, and falls back.
    """

    name = "anthropic"

    def __init__(self, *, api_key: str, model: str, base_url: str | None = None, timeout: float = 60.0) -> None:
        self._api_key = api_key
        self.model = model
        self.base_url = base_url or os.environ.get("ANTHROPIC_BASE_URL") or None
        self.timeout = timeout
        self._client: Any = None

    def __repr__(self) -> str:  # the key stays out of every representation
        return f"AnthropicBackend(model={self.model!r}, base_url={self.base_url!r})"

    def _sdk(self) -> Any:
        if self._client is None:
            try:
                import anthropic  # noqa: PLC0415
            except ImportError as exc:
                raise LLMUnavailableError(
                    "the anthropic package is not installed: pip install 'codegen-lab-llm[anthropic]'"
                ) from exc
            self._client = anthropic.AsyncAnthropic(
                api_key=self._api_key, base_url=self.base_url, max_retries=0, timeout=self.timeout
            )
        return self._client

    async def complete(self, request: CompletionRequest, *, on_text: StreamCallback | None = None) -> Completion:
        """Ask the Messages API; stream when `on_text` is given.

        Raises:
            BackendError: Transient for 429, 500, 529, timeouts and lost connections; permanent otherwise.
        """
        import anthropic  # noqa: PLC0415

        client = self._sdk()
        arguments: dict[str, Any] = {
            "model": self.model,
            "max_tokens": request.max_tokens,
            "messages": [{"role": message.role, "content": message.content} for message in request.messages],
        }
        if request.system:
            arguments["system"] = request.system
        # The Messages API of the installed SDK takes no temperature (current models choose their own sampling);
        # the request's temperature is for backends that have one, such as the client's model.
        if request.stop:
            arguments["stop_sequences"] = list(request.stop)
        started = time.perf_counter()
        try:
            if on_text is None:
                message = await client.messages.create(**arguments)
            else:
                async with client.messages.stream(**arguments) as stream:
                    async for text in stream.text_stream:
                        await on_text(text)
                    message = await stream.get_final_message()
        except anthropic.APIStatusError as exc:
            status = exc.status_code
            header = exc.response.headers.get("retry-after")
            retry_after = float(header) if header and header.replace(".", "", 1).isdigit() else None
            transient = status in {408, 409, 429} or status >= 500
            raise BackendError(f"HTTP {status} {_kind(exc)}", transient=transient, retry_after=retry_after) from None
        except anthropic.APITimeoutError:
            raise BackendError(f"no answer within {self.timeout:g} s", transient=True) from None
        except anthropic.APIConnectionError as exc:
            raise BackendError(f"connection failed ({type(exc.__cause__ or exc).__name__})", transient=True) from None
        text = "".join(block.text for block in message.content if getattr(block, "type", "") == "text")
        return Completion(
            text=text,
            backend=self.name,
            model=message.model,
            usage=Usage(message.usage.input_tokens, message.usage.output_tokens),
            stop_reason=message.stop_reason,
            latency_seconds=time.perf_counter() - started,
        )


def _kind(exc: Any) -> str:
    """The API's error type (`rate_limit_error`, `overloaded_error`, ...), else the exception's class name."""
    body: object = getattr(exc, "body", None)
    error: object = cast("dict[str, object]", body).get("error") if isinstance(body, dict) else None
    kind: object = cast("dict[str, object]", error).get("type") if isinstance(error, dict) else None
    return str(kind) if kind else type(exc).__name__
