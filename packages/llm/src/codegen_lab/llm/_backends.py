"""The Anthropic API through the official SDK: the LLM backend this package ships.

The client's own model (MCP sampling) is a backend too; it lives with the MCP code, in `codegen_lab.mcp_core`.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any, cast

from codegen_lab.common.errors import LLMUnavailableError
from codegen_lab.llm._keys import anthropic_key
from codegen_lab.llm._types import Completion, CompletionRequest, StreamCallback, Usage

__all__ = ["AnthropicBackend", "BackendError", "anthropic_key", "known_models", "warn_unknown_model"]

logger = logging.getLogger(__name__)


class BackendError(Exception):
    """A backend call failed; `transient` says whether a retry may help, `retry_after` when the server said.

    `fault` is False for a failure that says nothing about the backend's health (an answer cut at `max_tokens`):
    the circuit breaker does not count it.
    """

    def __init__(self, message: str, *, transient: bool, retry_after: float | None = None, fault: bool = True) -> None:
        super().__init__(message)
        self.transient = transient
        self.retry_after = retry_after
        self.fault = fault


def known_models() -> frozenset[str] | None:
    """The model names the installed `anthropic` SDK lists (None when it is not installed or lists none).

    Read from the SDK's `types/model_param.py` without importing the SDK, so that a service can check its model as
    it starts and still start fast.
    """
    import ast  # noqa: PLC0415
    import importlib.util  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    try:
        spec = importlib.util.find_spec("anthropic")
    except (ImportError, ValueError):
        return None
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        source = Path(folder) / "types" / "model_param.py"
        try:
            tree = ast.parse(source.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, ValueError):
            continue
        names = {
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("claude-")
        }
        if names:
            return frozenset(names)
    return None


def model_warning(model: str) -> str | None:
    """A warning when the installed SDK does not list `model` (a typo, or a model newer than the SDK), else None."""
    known = known_models()
    if known is None or model in known:
        return None
    return f"the model {model!r} is not one the installed anthropic SDK knows (setting anthropic-model)"


_warned: set[str] = set()


def warn_unknown_model(model: str) -> str | None:
    """Log a warning (once per process and model) when the installed SDK does not list `model`; return it.

    The server calls it as it starts, so that a typo shows then rather than as a 404 at the first call.
    """
    warning = model_warning(model)
    if warning is not None and model not in _warned:
        _warned.add(model)
        logger.warning("%s", warning)
    return warning


class AnthropicBackend:
    """Completions from the Anthropic Messages API, through the official `anthropic` SDK (imported on first use).

    The SDK's own retries are off: the service retries, honouring `retry-after`, and falls back. The system prompt
    is sent as a text block marked for prompt caching (`cache_control: ephemeral`), so that the rules it carries
    are read from the cache on the next call.
    """

    name = "anthropic"

    def __init__(self, *, api_key: str, model: str, base_url: str | None = None, timeout: float = 60.0) -> None:
        self._api_key = api_key
        self.model = model
        self.base_url = base_url or os.environ.get("ANTHROPIC_BASE_URL") or None
        self.timeout = timeout
        self._client: Any = None
        self.model_warning: str | None = warn_unknown_model(model)
        """Set when the installed SDK does not list the model (a typo, or a model newer than the SDK)."""

    def __repr__(self) -> str:  # the key stays out of every representation
        return f"AnthropicBackend(model={self.model!r}, base_url={self.base_url!r})"

    def prepare(self) -> None:
        """Import the SDK and make the client; the service calls it before a call's deadline starts.

        Raises:
            LLMUnavailableError: When the `anthropic` package is not installed.
        """
        if self._client is not None:
            return
        try:
            import anthropic  # noqa: PLC0415
        except ImportError as exc:
            raise LLMUnavailableError(
                "the anthropic package is not installed: pip install 'codegen-lab-llm[anthropic]'"
            ) from exc
        self._client = anthropic.AsyncAnthropic(
            api_key=self._api_key, base_url=self.base_url, max_retries=0, timeout=self.timeout
        )

    def arguments(self, request: CompletionRequest) -> dict[str, Any]:
        """The Messages API arguments for `request`: the system prompt as a cached text block."""
        arguments: dict[str, Any] = {
            "model": self.model,
            "max_tokens": request.max_tokens,
            "messages": [{"role": message.role, "content": message.content} for message in request.messages],
        }
        if request.system:
            arguments["system"] = [{"type": "text", "text": request.system, "cache_control": {"type": "ephemeral"}}]
        # The Messages API of the installed SDK takes no temperature (current models choose their own sampling);
        # the request's temperature is for backends that have one, such as the client's model.
        if request.stop:
            arguments["stop_sequences"] = list(request.stop)
        return arguments

    async def complete(self, request: CompletionRequest, *, on_text: StreamCallback | None = None) -> Completion:
        """Ask the Messages API; stream when `on_text` is given.

        Raises:
            BackendError: Transient for 408, 409, 429, 5xx, timeouts, lost or cut connections and answers that
                cannot be read (malformed JSON, an invalid event); permanent for the other HTTP errors.
        """
        self.prepare()
        import anthropic  # noqa: PLC0415

        client = self._client
        arguments = self.arguments(request)
        started = time.perf_counter()
        try:
            if on_text is None:
                message = await client.messages.create(**arguments)
            else:
                async with client.messages.stream(**arguments) as stream:
                    async for text in stream.text_stream:
                        await on_text(text)
                    message = await stream.get_final_message()
            text = "".join(block.text for block in message.content if getattr(block, "type", "") == "text")
            usage = message.usage
            completion = Completion(
                text=text,
                backend=self.name,
                model=str(message.model),
                usage=Usage(
                    int(usage.input_tokens or 0),
                    int(usage.output_tokens or 0),
                    int(getattr(usage, "cache_read_input_tokens", None) or 0),
                    int(getattr(usage, "cache_creation_input_tokens", None) or 0),
                ),
                stop_reason=message.stop_reason,
                latency_seconds=time.perf_counter() - started,
            )
        except anthropic.APIStatusError as exc:
            status = exc.status_code
            transient = status in {408, 409, 429} or status >= 500
            raise BackendError(
                f"HTTP {status} {_kind(exc)}", transient=transient, retry_after=_retry_after(exc.response.headers)
            ) from None
        except anthropic.APITimeoutError:
            raise BackendError(f"no answer within {self.timeout:g} s", transient=True) from None
        except anthropic.APIConnectionError as exc:
            raise BackendError(f"connection failed ({type(exc.__cause__ or exc).__name__})", transient=True) from None
        except json.JSONDecodeError as exc:
            raise BackendError(f"malformed JSON in the answer ({exc.msg} at {exc.pos})", transient=True) from None
        except (anthropic.APIResponseValidationError, AssertionError, LookupError, TypeError, ValueError) as exc:
            # the SDK's stream accumulator asserts and indexes; an event it cannot place is a protocol failure
            raise BackendError(f"invalid answer ({type(exc).__name__}: {exc})"[:300], transient=True) from None
        except Exception as exc:
            if _is_transport_error(exc):  # raised while a body or a stream is read, after the SDK let go of it
                raise BackendError(
                    f"connection lost mid-answer ({type(exc).__name__}: {exc})", transient=True
                ) from None
            if isinstance(exc, RuntimeError):  # the SDK: "Unexpected event order, got ... before message_start"
                raise BackendError(f"invalid event stream ({exc})"[:300], transient=True) from None
            raise
        return completion


def _is_transport_error(exc: BaseException) -> bool:
    """An error of the SDK's HTTP stack (httpx, httpcore, h11, whichever names the installed SDK uses)."""
    module = type(exc).__module__.split(".")[0]
    return module.startswith(("httpx", "httpcore", "h11")) or isinstance(exc, OSError)


def _retry_after(headers: Any) -> float | None:
    """Seconds from `retry-after-ms` or `retry-after` (a number), else None."""
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        header = headers.get(name)
        try:
            value = float(header) / scale if header else None
        except ValueError:
            value = None
        if value is not None and value >= 0:
            return value
    return None


def _kind(exc: Any) -> str:
    """The API's error type (`rate_limit_error`, `overloaded_error`, ...), else the exception's class name."""
    body: object = getattr(exc, "body", None)
    error: object = cast("dict[str, object]", body).get("error") if isinstance(body, dict) else None
    kind: object = cast("dict[str, object]", error).get("type") if isinstance(error, dict) else None
    return str(kind) if kind else type(exc).__name__
