"""What the LLM service adds to a call, against the `anthropic` SDK called directly, on one loopback server.

Both ask the same FakeAnthropic server, interleaved call by call, with the cache bypassed; then the same request
is repeated through the cache. Targets: added latency <= 10 ms (median), a cache hit <= 2 ms (median).

Then the code loop (`CodeLoop.generate`, as the server wires it) on a small project: its overhead per call (the
call's time less the LLM's), median and p95 over `--loop-calls` calls, for a target without tests (validation
only) and one with tests (run in the sandbox); a cache hit of the whole loop; and the prompt cache: the input
tokens the second call read from it (must be > 0).

Run: `uv run --all-packages python benchmarks/llm_overhead.py [--calls 200] [--loop-calls 30]`.
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

CODE = "```python\ndef add(a: int, b: int) -> int:\n    return a + b\n```"

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


def _project() -> Path:
    root = Path(tempfile.mkdtemp(prefix="llm-overhead-")) / "project"
    (root / ".cursor" / "rules").mkdir(parents=True)
    (root / ".cursor" / "rules" / "python.mdc").write_text(
        "---\nglobs: **/*.py\n---\nAlways annotate types.\n" + "Keep functions small and pure.\n" * 200,
        encoding="utf-8",
    )
    (root / "src").mkdir()
    for name in ("calc", "plain"):
        (root / "src" / f"{name}.py").write_text("def add(a, b):\n    return a+b\n", encoding="utf-8")
    (root / "tests").mkdir()
    (root / "tests" / "test_calc.py").write_text(
        "import sys\nsys.path.insert(0, 'src')\nfrom calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
        encoding="utf-8",
    )
    for folder in (root, root.parent):
        folder.chmod(0o755)  # the sandbox's unprivileged uid reads the project
    return root


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


async def run_loop(calls: int) -> int:
    from codegen_lab.common import load_settings
    from codegen_lab.server._codegen import code_loop

    root = _project()
    with FakeAnthropic(reply=CODE) as fake:
        cache = ResponseCache(Path(tempfile.mkdtemp()) / "cache.sqlite3", ttl=3600, max_bytes=50_000_000)
        service = LLMService(anthropic=AnthropicBackend(api_key=KEY, model=MODEL, base_url=fake.url), cache=cache)
        loop = code_loop(load_settings(root), lambda: service)()
        first = await loop.generate(task="Annotate add", target_path="src/plain.py", cache=False)
        second = await loop.generate(task="Annotate add", target_path="src/plain.py", cache=False)
        cached_input = second.llm["usage"]["cache_read_input_tokens"]
        print(f"code loop, {calls} calls per row (cache bypassed)")
        print(
            f"  prompt cache: call 1 wrote {first.llm['usage']['cache_creation_input_tokens']} input tokens, "
            f"call 2 read {cached_input} ({'ok' if cached_input > 0 else 'MISSED'})"
        )
        for label, target in (("without target tests", "src/plain.py"), ("with target tests   ", "src/calc.py")):
            overheads: list[float] = []
            for _ in range(calls):
                started = time.perf_counter()
                result = await loop.generate(task="Annotate add", target_path=target, cache=False)
                elapsed = time.perf_counter() - started
                assert result.validation.passed, result.validation.as_json()
                overheads.append(elapsed - result.llm["usage"]["latency_seconds"])
            print(
                f"  overhead {label} median {statistics.median(overheads) * 1000:8.1f} ms, "
                f"p95 {_p95(overheads) * 1000:8.1f} ms"
            )
        await loop.generate(task="Annotate add", target_path="src/plain.py")
        hits: list[float] = []
        for _ in range(calls):
            started = time.perf_counter()
            result = await loop.generate(task="Annotate add", target_path="src/plain.py")
            hits.append(time.perf_counter() - started)
            assert result.llm["cached"]
        print(
            f"  whole loop on a cache hit (validation included) median {statistics.median(hits) * 1000:8.1f} ms, "
            f"p95 {_p95(hits) * 1000:8.1f} ms"
        )
    return 0 if cached_input > 0 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--loop-calls", type=int, default=30)
    arguments = parser.parse_args()
    status = anyio.run(run, arguments.calls)
    return max(status, anyio.run(run_loop, arguments.loop_calls))


if __name__ == "__main__":
    sys.exit(main())
