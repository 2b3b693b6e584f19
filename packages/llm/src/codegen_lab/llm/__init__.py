"""The LLM service: completions from the Anthropic API or the client's own model, made dependable.

`LLMService.from_settings(settings)` tries the backends in the configured order (by default Anthropic when a key
is configured, else MCP sampling when the client offers it), falls back on an outage and says so, retries passing
failures with capped backoff that honours `retry-after`, opens a circuit breaker after repeated failures, shares
rate limits between tools, keeps a response cache in SQLite and counts usage per tool. The key never appears in
logs, results or errors.

The `anthropic` SDK is imported on the first call that needs it (install `codegen-lab-llm[anthropic]`).

Names are imported when first used, so that a server can check the key as it starts without importing the rest.
"""

from typing import TYPE_CHECKING

from codegen_lab.common._lazy import lazy_exports as _lazy_exports

if TYPE_CHECKING:
    from codegen_lab.llm._backends import AnthropicBackend, BackendError
    from codegen_lab.llm._cache import ResponseCache, cache_key, default_cache_dir
    from codegen_lab.llm._keys import anthropic_key
    from codegen_lab.llm._reliability import CircuitBreaker, RateLimiter, backoff
    from codegen_lab.llm._service import LLMService, ToolUsage
    from codegen_lab.llm._types import (
        Completer,
        Completion,
        CompletionRequest,
        LLMBackend,
        Message,
        StreamCallback,
        Usage,
    )

__all__ = [
    "AnthropicBackend",
    "BackendError",
    "CircuitBreaker",
    "Completer",
    "Completion",
    "CompletionRequest",
    "LLMBackend",
    "LLMService",
    "Message",
    "RateLimiter",
    "ResponseCache",
    "StreamCallback",
    "ToolUsage",
    "Usage",
    "anthropic_key",
    "backoff",
    "cache_key",
    "default_cache_dir",
]

_HOMES = {
    "AnthropicBackend": "codegen_lab.llm._backends",
    "BackendError": "codegen_lab.llm._backends",
    "anthropic_key": "codegen_lab.llm._keys",
    "ResponseCache": "codegen_lab.llm._cache",
    "cache_key": "codegen_lab.llm._cache",
    "default_cache_dir": "codegen_lab.llm._cache",
    "CircuitBreaker": "codegen_lab.llm._reliability",
    "RateLimiter": "codegen_lab.llm._reliability",
    "backoff": "codegen_lab.llm._reliability",
    "LLMService": "codegen_lab.llm._service",
    "ToolUsage": "codegen_lab.llm._service",
    "Completer": "codegen_lab.llm._types",
    "Completion": "codegen_lab.llm._types",
    "CompletionRequest": "codegen_lab.llm._types",
    "LLMBackend": "codegen_lab.llm._types",
    "Message": "codegen_lab.llm._types",
    "StreamCallback": "codegen_lab.llm._types",
    "Usage": "codegen_lab.llm._types",
}

__getattr__, __dir__ = _lazy_exports(__name__, "codegen-lab-llm", _HOMES, __all__)
