"""The LLM service: completions from the Anthropic API or the client's own model, made dependable.

`LLMService.from_settings(settings)` tries the backends in the configured order (by default Anthropic when a key
is configured, else MCP sampling when the client offers it), falls back on an outage and says so, retries passing
failures with capped backoff that honours `retry-after`, opens a circuit breaker after repeated failures, shares
rate limits between tools, keeps a response cache in SQLite and counts usage per tool. The key never appears in
logs, results or errors.

The `anthropic` SDK is imported on the first call that needs it (install `codegen-lab-llm[anthropic]`). With a
`RedisLink` (setting `redis-url`, extra `codegen-lab-llm[redis]`), replicas share the validated answers, answers in
flight (one API request for a prompt asked by several at once) and the usage totals; while Redis is down each
uses its own.

Names are imported when first used, so that a server can check the key as it starts without importing the rest.
"""

from typing import TYPE_CHECKING

from codegen_lab.common.exports import declared_exports as _declared_exports

if TYPE_CHECKING:
    from codegen_lab.llm._backends import (
        AnthropicBackend as AnthropicBackend,
        BackendError as BackendError,
        warn_unknown_model as warn_unknown_model,
    )
    from codegen_lab.llm._cache import (
        ResponseCache as ResponseCache,
        cache_key as cache_key,
        default_cache_dir as default_cache_dir,
    )
    from codegen_lab.llm._keys import anthropic_key as anthropic_key
    from codegen_lab.llm._prices import Price as Price, PriceTable as PriceTable
    from codegen_lab.llm._reliability import (
        CircuitBreaker as CircuitBreaker,
        RateLimiter as RateLimiter,
        backoff as backoff,
    )
    from codegen_lab.llm._results import LLMUsage as LLMUsage
    from codegen_lab.llm._service import LLMService as LLMService
    from codegen_lab.llm._shared import RedisDown as RedisDown, RedisLink as RedisLink
    from codegen_lab.llm._shared_llm import SharedLLMState as SharedLLMState
    from codegen_lab.llm._spending import ToolUsage as ToolUsage, spending as spending
    from codegen_lab.llm._types import (
        CachingCompleter as CachingCompleter,
        Completer as Completer,
        Completion as Completion,
        CompletionRequest as CompletionRequest,
        LLMBackend as LLMBackend,
        Message as Message,
        StreamCallback as StreamCallback,
        Usage as Usage,
    )


__getattr__, __dir__ = _declared_exports(__name__, "codegen-lab-llm")
