"""The LLM service: completions from the Anthropic API or the client's own model, made dependable.

`LLMService.from_settings(settings)` tries the backends in the configured order (by default Anthropic when a key
is configured, else MCP sampling when the client offers it), falls back on an outage and says so, retries passing
failures with capped backoff that honours `retry-after`, opens a circuit breaker after repeated failures, shares
rate limits between tools, keeps a response cache in SQLite and counts usage per tool. The key never appears in
logs, results or errors.

The `anthropic` SDK is imported on the first call that needs it (install `codegen-lab-mcp-core[anthropic]`).

Names are imported when first used, so that a server can check the key as it starts without importing the rest.
"""

from typing import TYPE_CHECKING

from codegen_lab.mcp_core._lazy import lazy_exports as _lazy_exports

if TYPE_CHECKING:
    from codegen_lab.mcp_core.errors import LLMUnavailableError
    from codegen_lab.mcp_core.llm._backends import AnthropicBackend, BackendError, SamplingBackend
    from codegen_lab.mcp_core.llm._cache import ResponseCache, cache_key, default_cache_dir
    from codegen_lab.mcp_core.llm._keys import anthropic_key
    from codegen_lab.mcp_core.llm._reliability import CircuitBreaker, RateLimiter, backoff
    from codegen_lab.mcp_core.llm._service import LLMService, ToolUsage
    from codegen_lab.mcp_core.llm._types import (
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
    "LLMUnavailableError",
    "Message",
    "RateLimiter",
    "ResponseCache",
    "SamplingBackend",
    "StreamCallback",
    "ToolUsage",
    "Usage",
    "anthropic_key",
    "backoff",
    "cache_key",
    "default_cache_dir",
]

_HOMES = {
    "LLMUnavailableError": "codegen_lab.mcp_core.errors",
    "AnthropicBackend": "codegen_lab.mcp_core.llm._backends",
    "BackendError": "codegen_lab.mcp_core.llm._backends",
    "SamplingBackend": "codegen_lab.mcp_core.llm._backends",
    "anthropic_key": "codegen_lab.mcp_core.llm._keys",
    "ResponseCache": "codegen_lab.mcp_core.llm._cache",
    "cache_key": "codegen_lab.mcp_core.llm._cache",
    "default_cache_dir": "codegen_lab.mcp_core.llm._cache",
    "CircuitBreaker": "codegen_lab.mcp_core.llm._reliability",
    "RateLimiter": "codegen_lab.mcp_core.llm._reliability",
    "backoff": "codegen_lab.mcp_core.llm._reliability",
    "LLMService": "codegen_lab.mcp_core.llm._service",
    "ToolUsage": "codegen_lab.mcp_core.llm._service",
    "Completer": "codegen_lab.mcp_core.llm._types",
    "Completion": "codegen_lab.mcp_core.llm._types",
    "CompletionRequest": "codegen_lab.mcp_core.llm._types",
    "LLMBackend": "codegen_lab.mcp_core.llm._types",
    "Message": "codegen_lab.mcp_core.llm._types",
    "StreamCallback": "codegen_lab.mcp_core.llm._types",
    "Usage": "codegen_lab.mcp_core.llm._types",
}

__getattr__, __dir__ = _lazy_exports(__name__, "codegen-lab-mcp-core", _HOMES, __all__)
