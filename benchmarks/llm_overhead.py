"""What the LLM service adds to a call, against the `anthropic` SDK called directly, on one loopback server.

Both ask the same FakeAnthropic server, interleaved call by call, with the cache bypassed; then the same request
is repeated through the cache. Targets: added latency <= 10 ms (median), a cache hit <= 2 ms (median).

Run: `uv run --all-packages python benchmarks/llm_overhead.py [--calls 200]`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anthropic
import anyio

from codegen_lab.llm import AnthropicBackend, CompletionRequest, LLMService, Message, ResponseCache
from codegen_lab.llm.testing import FakeAnthropic

KEY = "sk-ant-benchmark"
MODEL = "claude-sonnet-5-5"


async def run(calls: int) -> int:
    request = CompletionRequest(messages=(Message("user", "Write a haiku about caches."),), max_tokens=64)
    with FakeAnthropic(reply="Quiet rows of keys / answers kept for later asks / no request goes out") as fake:
        direct = anthropic.AsyncAnthropic(api_key=KEY, base_url=fake.url, max_retries=0)
        cache = ResponseCache(Path(tempfile.mkdtemp()) / "cache.sqlite3", ttl=3600, max_bytes=50_000_000)
        service = LLMService(anthropic=AnthropicBackend(api_key=KEY, model=MODEL, base_url=fake.url), cache=cache)
        for _ in range(10):  # warm up both paths (connections, imports)
            await direct.messages.create(model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "x"}])
            await service.complete(request, use_cache=False)
        ours, theirs = [], []
        for index in range(calls):
            first, second = (ours, theirs) if index % 2 == 0 else (theirs, ours)
            for sink in (first, second):
                started = time.perf_counter()
                if sink is ours:
                    await service.complete(request, use_cache=False)
                else:
                    await direct.messages.create(
                        model=MODEL,
                        max_tokens=64,
                        messages=[{"role": "user", "content": "Write a haiku about caches."}],
                    )
                sink.append(time.perf_counter() - started)
        hits = []
        for _ in range(calls):
            started = time.perf_counter()
            completion = await service.complete(request)
            hits.append(time.perf_counter() - started)
            assert completion.cached
        requests_during_hits = len(fake.requests)
    added = statistics.median(ours) - statistics.median(theirs)
    hit = statistics.median(hits)
    print(f"{calls} calls each, interleaved, cache bypassed")
    print(f"  direct SDK call   median {statistics.median(theirs) * 1000:7.2f} ms")
    print(f"  LLMService call   median {statistics.median(ours) * 1000:7.2f} ms")
    print(
        f"  added latency     median {added * 1000:7.2f} ms  (target <= 10 ms: {'ok' if added <= 0.010 else 'MISSED'})"
    )
    print(f"  cache hit         median {hit * 1000:7.3f} ms  (target <= 2 ms: {'ok' if hit <= 0.002 else 'MISSED'})")
    print(f"  requests the server saw: {requests_during_hits} (the {calls} cache hits made none)")
    return 0 if added <= 0.010 and hit <= 0.002 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    return anyio.run(run, parser.parse_args().calls)


if __name__ == "__main__":
    sys.exit(main())
