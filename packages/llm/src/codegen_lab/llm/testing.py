"""Test helpers: a loopback server that speaks the Anthropic Messages API.

No LLM API is needed to test LLM code: point the `anthropic` SDK (or `ANTHROPIC_BASE_URL`) at `FakeAnthropic`,
which answers JSON and streaming (server-sent events) requests, and can be told to fail with 429, 500 or 529
and a `retry-after`, or to answer slowly.

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
from types import TracebackType
from typing import Any

__all__ = ["FakeAnthropic", "RecordedRequest"]

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
        self._failures: deque[tuple[int, float | None]] = deque()
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

    def __enter__(self) -> FakeAnthropic:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: nothing on stderr."""

            def do_POST(self) -> None:
                fake._handle(self)

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
        if failure is not None:
            self._send_error(handler, *failure)
            return
        text = self.reply(body) if callable(self.reply) else self.reply
        model = str(body.get("model", "claude-fake"))
        input_tokens = max(1, len(json.dumps(body.get("messages", []))) // 4)
        if body.get("stream"):
            self._send_stream(handler, text, model, input_tokens)
        else:
            message = self._message(text, model, input_tokens)
            self._send_json(handler, 200, message)

    @staticmethod
    def _message(text: str, model: str, input_tokens: int) -> dict[str, Any]:
        return {
            "id": f"msg_fake_{time.time_ns()}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": max(1, len(text) // 4)},
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

    def _send_stream(self, handler: BaseHTTPRequestHandler, text: str, model: str, input_tokens: int) -> None:
        handler.send_response(200)
        handler.send_header("content-type", "text/event-stream")
        handler.send_header("cache-control", "no-cache")
        handler.end_headers()
        start = self._message("", model, input_tokens)
        start["content"] = []
        start["stop_reason"] = None
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
                    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                    "usage": {"output_tokens": max(1, len(text) // 4)},
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
        for name, data in events:
            handler.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
            handler.wfile.flush()
