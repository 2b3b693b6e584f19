"""Test helpers: a loopback server that speaks the Anthropic Messages API.

No LLM API is needed to test LLM code: point the `anthropic` SDK (or `ANTHROPIC_BASE_URL`) at `FakeAnthropic`,
which answers JSON and streaming (server-sent events) requests, and can be told to fail with 429, 500 or 529
and a `retry-after`, to answer slowly, or to misbehave (`misbehave`): cut a stream or a body mid-way, end a
stream cleanly before `message_stop`, send malformed JSON or an invalid event, hang, or stop at `max_tokens`.
It reports prompt caching as the API does: a system block marked `cache_control` is written to the cache on the
first call (`cache_creation_input_tokens`) and read from it on the next ones (`cache_read_input_tokens`).

Example:
    ```python
    with FakeAnthropic(reply="Hi!") as fake:
        fake.fail(429, retry_after=0.1)
        ...  # ANTHROPIC_BASE_URL=fake.url; the first call is rate limited, the retry gets "Hi!"
    ```
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from codegen_lab.llm._service import LLMService

__all__ = ["FakeAnthropic", "FakeClock", "Misbehaviour", "RecordedRequest", "fake_service"]

Misbehaviour = Literal["cut", "clean-cut", "malformed-json", "bad-sse", "hang", "max_tokens"]
"""How the fake can misbehave, for one request each:

- `cut`: the body (or the stream) stops mid-way and the connection closes, short of its announced length.
- `clean-cut`: a stream ends cleanly after some text, before `message_delta` and `message_stop`.
- `malformed-json`: the JSON body, or one streamed event's data, is not JSON.
- `bad-sse`: a streamed event the protocol does not allow (a delta for a content block that does not exist).
- `hang`: no answer until the fake stops.
- `max_tokens`: a complete answer whose stop reason is `max_tokens`.
"""

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """A request the fake server received."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class _QuietServer(ThreadingHTTPServer):
    """A client that gave up (a deadline in a test) is expected here, not an error to print."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys  # noqa: PLC0415

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeAnthropic:
    """A Messages API on 127.0.0.1 with a free port, started and stopped as a context manager.

    Args:
        reply: The answer's text, or a function of the request body that gives it.
        delay: Seconds to wait before answering every request.
    """

    def __init__(self, *, reply: str | Callable[[dict[str, Any]], str] = "Hello from the fake.", delay: float = 0.0):
        self.reply = reply
        self.delay = delay
        self.requests: list[RecordedRequest] = []
        self._failures: deque[tuple[int, float | None] | Misbehaviour] = deque()
        self._cached_prefixes: set[str] = set()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL to give the SDK (`base_url`) or `ANTHROPIC_BASE_URL`."""
        if self._server is None:
            raise RuntimeError("the fake server is not running; use it as a context manager")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def fail(self, status: int, *, retry_after: float | None = None, times: int = 1) -> None:
        """Answer the next `times` requests with HTTP `status` (and a `retry-after` header when given)."""
        with self._lock:
            self._failures.extend([(status, retry_after)] * times)

    @staticmethod
    def system_text(body: dict[str, Any]) -> str:
        """The system prompt of a request body as text, whether a string or a list of text blocks."""
        system: object = body.get("system")
        if isinstance(system, list):
            blocks: list[object] = system  # pyright: ignore[reportUnknownVariableType]
            return "\n".join(str(block.get("text", "")) for block in blocks if isinstance(block, dict))  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
        return str(system or "")

    def misbehave(self, how: Misbehaviour, *, times: int = 1) -> None:
        """Misbehave `how` for the next `times` requests (queued after the failures and misbehaviours before)."""
        with self._lock:
            self._failures.extend(how for _ in range(times))

    def __enter__(self) -> FakeAnthropic:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: nothing on stderr."""

            def do_POST(self) -> None:
                fake._handle(self)

        self._stopping.clear()
        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        server = self._server
        self._thread = threading.Thread(
            target=lambda: server.serve_forever(poll_interval=0.05), name="fake-anthropic", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._stopping.set()  # hanging requests end
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        body: dict[str, Any] = json.loads(handler.rfile.read(length) or b"{}")
        with self._lock:
            self.requests.append(
                RecordedRequest(handler.path, {k.lower(): v for k, v in handler.headers.items()}, body)
            )
            failure = self._failures.popleft() if self._failures else None
        if self.delay:
            time.sleep(self.delay)
        if handler.path.rstrip("/") != "/v1/messages":
            self._send_error(handler, 404, None)
            return
        if failure == "hang":
            self._stopping.wait()
            return
        if isinstance(failure, tuple):
            self._send_error(handler, *failure)
            return
        text = self.reply(body) if callable(self.reply) else self.reply
        model = str(body.get("model", "claude-fake"))
        usage = self._usage(body)
        if body.get("stream"):
            self._send_stream(handler, text, model, usage, failure)
        elif failure in ("cut", "malformed-json"):
            payload = json.dumps(self._message(text, model, usage)).encode()
            payload = payload[: len(payload) // 2] if failure == "cut" else payload[:-20] + b"}{]"
            handler.send_response(200)
            handler.send_header("content-type", "application/json")
            handler.send_header("content-length", str(len(payload) * (2 if failure == "cut" else 1)))
            handler.end_headers()
            handler.wfile.write(payload)
            handler.wfile.flush()
            handler.close_connection = True
        else:
            stop = "max_tokens" if failure == "max_tokens" else "end_turn"
            self._send_json(handler, 200, self._message(text, model, usage, stop))

    def _usage(self, body: dict[str, Any]) -> dict[str, int]:
        """Input tokens as the API counts them: cached system blocks are written once, then read."""
        system: object = body.get("system")
        blocks: list[Any] = system if isinstance(system, list) else []  # pyright: ignore[reportUnknownVariableType]
        cached: list[object] = [block for block in blocks if isinstance(block, dict) and "cache_control" in block]
        prefix = json.dumps(cached, sort_keys=True)
        prefix_tokens = len(prefix) // 4 if cached else 0
        rest = len(json.dumps(body.get("messages", []))) // 4 + (0 if cached else len(json.dumps(system or "")) // 4)
        usage = {"input_tokens": max(1, rest), "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}
        if prefix_tokens:
            with self._lock:
                seen = prefix in self._cached_prefixes
                self._cached_prefixes.add(prefix)
            usage["cache_read_input_tokens" if seen else "cache_creation_input_tokens"] = prefix_tokens
        return usage

    @staticmethod
    def _message(text: str, model: str, usage: dict[str, int], stop: str | None = "end_turn") -> dict[str, Any]:
        return {
            "id": f"msg_fake_{time.time_ns()}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {**usage, "output_tokens": max(1, len(text) // 4)},
        }

    @staticmethod
    def _send_json(handler: BaseHTTPRequestHandler, status: int, data: dict[str, Any], **headers: str) -> None:
        payload = json.dumps(data).encode()
        handler.send_response(status)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(payload)))
        handler.send_header("request-id", "req_fake")
        for name, value in headers.items():
            handler.send_header(name.replace("_", "-"), value)
        handler.end_headers()
        handler.wfile.write(payload)

    def _send_error(self, handler: BaseHTTPRequestHandler, status: int, retry_after: float | None) -> None:
        kind = _ERROR_TYPES.get(status, "api_error")
        extra = {"retry_after": f"{retry_after:g}"} if retry_after is not None else {}
        self._send_json(handler, status, {"type": "error", "error": {"type": kind, "message": f"fake {kind}"}}, **extra)

    def _send_stream(
        self,
        handler: BaseHTTPRequestHandler,
        text: str,
        model: str,
        usage: dict[str, int],
        failure: Misbehaviour | None,
    ) -> None:
        start = self._message("", model, usage, None)
        start["content"] = []
        start["usage"]["output_tokens"] = 1
        chunks = [text[index : index + 8] for index in range(0, len(text), 8)] or [""]
        events: list[tuple[str, dict[str, Any]]] = [
            ("message_start", {"type": "message_start", "message": start}),
            (
                "content_block_start",
                {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            ),
            *[
                (
                    "content_block_delta",
                    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": chunk}},
                )
                for chunk in chunks
            ],
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "max_tokens" if failure == "max_tokens" else "end_turn"},
                    "usage": {"output_tokens": max(1, len(text) // 4)},
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
        frames = [f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events]
        half = 2 + len(chunks) // 2  # message_start, the block's start and half of the text
        if failure == "clean-cut":
            frames = frames[:half]
        elif failure == "malformed-json":
            frames[half] = b'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, "del\n\n'
        elif failure == "bad-sse":
            bad = {"type": "content_block_delta", "index": 7, "delta": {"type": "text_delta", "text": "?"}}
            frames[half] = f"event: content_block_delta\ndata: {json.dumps(bad)}\n\n".encode()
        handler.send_response(200)
        handler.send_header("content-type", "text/event-stream")
        handler.send_header("cache-control", "no-cache")
        if failure == "cut":  # announce the whole stream, send half of it, close: the body is short
            handler.send_header("content-length", str(sum(len(frame) for frame in frames)))
            frames = frames[:half]
        handler.end_headers()
        for frame in frames:
            handler.wfile.write(frame)
            handler.wfile.flush()
        handler.close_connection = True


class FakeClock:
    """A clock for `LLMService(clock=..., sleep=...)` that its sleeps move forward: retries take no real time."""

    def __init__(self, now: float = 1000.0) -> None:
        """Start at `now` seconds."""
        self.now = now
        self.slept: list[float] = []
        """Each sleep, in seconds, in order."""

    def __call__(self) -> float:
        """The time now."""
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Move the clock `seconds` on at once."""
        self.slept.append(seconds)
        self.now += seconds


def fake_service(
    fake: FakeAnthropic,
    folder: Path,
    *,
    api_key: str = "sk-test",
    model: str = "claude-sonnet-5-5",
    **options: Any,
) -> LLMService:
    """An `LLMService` whose Anthropic backend is `fake`, with a response cache in `folder` (`options`: the rest)."""
    from codegen_lab.llm._backends import AnthropicBackend  # noqa: PLC0415 (the fake itself needs none of it)
    from codegen_lab.llm._cache import ResponseCache  # noqa: PLC0415
    from codegen_lab.llm._service import LLMService  # noqa: PLC0415

    backend = AnthropicBackend(api_key=api_key, model=model, base_url=fake.url, timeout=10)
    cache = ResponseCache(folder / "cache.sqlite3", ttl=3600, max_bytes=1_000_000)
    return LLMService(anthropic=backend, cache=cache, **options)
