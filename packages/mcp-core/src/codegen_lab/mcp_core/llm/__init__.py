"""The LLM service: completions from the Anthropic API or the client's own model, made dependable.

`LLMService.from_settings(settings)` tries the backends in the configured order (by default Anthropic when a key
is configured, else MCP sampling when the client offers it), falls back on an outage and says so, retries passing
failures with capped backoff that honours `retry-after`, opens a circuit breaker after repeated failures, shares
rate limits between tools, keeps a response cache in SQLite and counts usage per tool. The key never appears in
logs, results or errors.

The `anthropic` SDK is imported on the first call that needs it (install `codegen-lab-mcp-core[anthropic]`).
"""

from codegen_lab.mcp_core.errors import LLMUnavailableError
from codegen_lab.mcp_core.llm._backends import AnthropicBackend, BackendError, SamplingBackend, anthropic_key
from codegen_lab.mcp_core.llm._cache import ResponseCache, cache_key, default_cache_dir
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
