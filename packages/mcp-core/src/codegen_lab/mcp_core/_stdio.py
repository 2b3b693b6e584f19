"""The stdio transport, guarded: every request whose id can be read gets an answer, and nothing else reaches stdout.

The SDK drops some malformed requests without an answer (parameters of the wrong type, a message without a
method, `jsonrpc` other than "2.0", a batch, JSON its parser cannot take: too deep, a number too long), which
leaves a client waiting forever. Each line from stdin is checked here first, with the SDK's own JSON parser: a
bad request is answered with a JSON-RPC error carrying its id, found by a scan of the line's top level when the
line cannot be parsed (`null` only when no id can be read), a line over the size limit is discarded unparsed,
and the rest goes to the SDK. While serving, file descriptor 1 points at stderr and 0 at the null device, so a
library that prints or reads cannot touch the wire.

The SDK is run by its public `MCPServer.run_stdio_async()`, whose `stdio_server()` serves the buffers of `sys.stdin`
and `sys.stdout` in place when they are not descriptors 0 and 1: the checked lines and the wire, given here.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import sys
import threading
from collections.abc import Buffer, Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO, cast

import mcp_types
from pydantic_core import from_json

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

__all__ = ["DEFAULT_MAX_MESSAGE_BYTES", "check_message", "serve_stdio"]

logger = logging.getLogger(__name__)

DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024
"""Lines longer than this are refused without being parsed."""

_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')
_KEY_END = re.compile(rb"\s*:\s*")
_ID_VALUE = re.compile(rb'-?\d{1,4000}(?![\d.eE])|"(?:[^"\\]|\\.){0,10000}"')
_VALID_ID_TYPES = (str, int)
_ID_SCAN_BYTES = 512 * 1024
"""How far into an unreadable line its id is looked for, which bounds the time the scan of a line can take."""


def _error(request_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


def _readable_id(message: dict[str, Any]) -> tuple[bool, Any]:
    """(whether the message has a usable id, the id or None)."""
    if "id" not in message:
        return False, None
    request_id = message["id"]
    if isinstance(request_id, bool) or not isinstance(request_id, _VALID_ID_TYPES):
        return True, None
    if isinstance(request_id, str):
        try:
            request_id.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: no answer could carry it back
            return True, None
    return True, request_id


def check_message(line: bytes, *, max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> tuple[list[dict[str, Any]], bool]:
    """Check one line from the client before the SDK sees it.

    Returns:
        The JSON-RPC error answers to send (with the request's id when it can be read, else `null`), and whether
        the line goes on to the SDK. A malformed notification gets no answer (JSON-RPC forbids one) and is dropped.
    """
    if len(line) > max_bytes:
        message = f"Invalid Request: the message is over the limit of {max_bytes:,} bytes"
        return [_error(_top_level_id(line), mcp_types.INVALID_REQUEST, message)], False
    stripped = line.strip()
    if not stripped:
        return [], False
    try:
        message = from_json(stripped)  # the SDK's parser: what it cannot take is answered here
    except (ValueError, RecursionError) as exc:
        reason = f"Parse error: the line is not JSON the server can read ({str(exc)[:200]})"
        return [_error(_top_level_id(stripped), mcp_types.PARSE_ERROR, reason)], False
    if isinstance(message, list):
        batch: list[Any] = message  # pyright: ignore[reportUnknownVariableType]
        ids = [_readable_id(item)[1] for item in batch if isinstance(item, dict)]  # pyright: ignore[reportUnknownArgumentType]
        readable = [request_id for request_id in ids if request_id is not None] or [None]
        return [
            _error(i, mcp_types.INVALID_REQUEST, "Invalid Request: batches are not supported") for i in readable
        ], False
    if not isinstance(message, dict):
        return [_error(None, mcp_types.INVALID_REQUEST, "Invalid Request: a message must be a JSON object")], False
    data: dict[str, Any] = message  # pyright: ignore[reportUnknownVariableType]
    has_id, request_id = _readable_id(data)
    if has_id and request_id is None and "method" in data:
        return [_error(None, mcp_types.INVALID_REQUEST, "Invalid Request: id must be a string or an integer")], False
    problem = _envelope_problem(data, has_id)
    if problem is None:
        return [], True
    if not has_id:
        logger.warning("dropped a malformed notification: %s", problem)
        return [], False
    code = mcp_types.INVALID_PARAMS if problem.startswith("params") else mcp_types.INVALID_REQUEST
    prefix = "Invalid params" if code == mcp_types.INVALID_PARAMS else "Invalid Request"
    return [_error(request_id, code, f"{prefix}: {problem}")], False


def _top_level_id(line: bytes) -> Any:
    """The id of the object `line` holds, read without parsing the rest of it; None when it cannot be read.

    A scan of the strings and brackets of the line's first `_ID_SCAN_BYTES`, at C speed between them: it finds the
    `"id"` key of the outermost object however deep or unreadable the members before it are (a 100,000-deep array
    takes 200 KB), and whether or not the line ends.
    """
    depth = 0
    for token in _TOKEN.finditer(line, 0, _ID_SCAN_BYTES):
        text = token.group()
        if text in (b"{", b"["):
            depth += 1
        elif text in (b"}", b"]"):
            depth -= 1
            if depth <= 0:
                return None
        elif depth == 1 and text == b'"id"':
            separator = _KEY_END.match(line, token.end())
            if separator is None:
                continue  # a string value "id", not the key
            value = _ID_VALUE.match(line, separator.end())
            if value is None:
                return None
            try:
                request_id: object = json.loads(value.group())
            except ValueError:
                return None
            return _readable_id({"id": request_id})[1]
    return None


def _envelope_problem(message: dict[str, Any], has_id: bool) -> str | None:
    if message.get("jsonrpc") != "2.0":
        return 'jsonrpc must be "2.0"'
    if "method" in message:
        if not isinstance(message["method"], str):
            return "method must be a string"
        if "params" in message and not isinstance(message["params"], dict):
            return "params must be an object"
        return None
    if has_id and ("result" in message or "error" in message):
        return None  # a response to one of our requests
    return "a request needs a method"


def _divert_standard_streams() -> tuple[BinaryIO, BinaryIO, Callable[[], None]]:
    """Private duplicates of fd 0 and 1 for the wire; fd 0 then reads the null device and fd 1 writes stderr."""
    wire_in = os.dup(0)
    wire_out = os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)

    def restore() -> None:
        with suppress(OSError):
            os.dup2(wire_in, 0)
            os.dup2(wire_out, 1)

    return os.fdopen(wire_in, "rb", buffering=0), os.fdopen(wire_out, "wb"), restore


class _Standard:
    """What `sys.stdin` or `sys.stdout` is while serving: the text stream it replaces, but `buffer` is the wire.

    The SDK's `stdio_server()` serves the buffer of the process's standard stream in place when that buffer is not
    file descriptor 0 or 1; a library's `print()` or `input()` still goes to stderr or reads nothing.
    """

    def __init__(self, text: TextIO, buffer: io.RawIOBase) -> None:
        self._text = text
        self.buffer = buffer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._text, name)


class _Wire(io.RawIOBase):
    """The wire to the client: whole lines only, so an answer from the guard never lands inside one of the SDK's."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self._raw = raw
        self._lock = threading.Lock()
        self._pending = b""

    def writable(self) -> bool:
        return True

    def write(self, data: Buffer, /) -> int:
        chunk = bytes(data)
        with self._lock:
            self._pending += chunk
            end = self._pending.rfind(b"\n") + 1
            if end:
                self._raw.write(self._pending[:end])
                self._raw.flush()
                self._pending = self._pending[end:]
        return len(chunk)

    def send(self, answer: dict[str, Any]) -> None:
        """Write one JSON-RPC message, serialized as the SDK writes its own."""
        message = mcp_types.jsonrpc_message_adapter.validate_python(answer)
        line = message.model_dump_json(by_alias=True, exclude_unset=True).encode() + b"\n"
        with self._lock:
            self._raw.write(line)
            self._raw.flush()


class _LineReader:
    """Lines from a binary stream, never holding more than `limit` bytes of one line in memory."""

    def __init__(self, raw: BinaryIO, limit: int) -> None:
        self._raw = raw
        self._limit = limit
        self._buffer = b""
        self._eof = False

    def next(self) -> bytes | None:
        """The next line (a line over the limit comes back cut at limit + 1 bytes); None at the end."""
        while True:
            newline = self._buffer.find(b"\n")
            if newline >= 0:
                line, self._buffer = self._buffer[: newline + 1], self._buffer[newline + 1 :]
                return line
            if len(self._buffer) > self._limit:
                head = self._buffer[: self._limit + 1]
                self._skip_rest()
                return head
            if self._eof:
                line, self._buffer = self._buffer, b""
                return line or None
            chunk = self._raw.read(65536)
            if not chunk:
                self._eof = True
            self._buffer += chunk

    def _skip_rest(self) -> None:
        self._buffer = b""
        while True:
            chunk = self._raw.read(65536)
            if not chunk:
                self._eof = True
                return
            newline = chunk.find(b"\n")
            if newline >= 0:
                self._buffer = chunk[newline + 1 :]
                return


class _CheckedInput(io.RawIOBase):
    """What the SDK's stdio reader reads: the lines that passed the checks; the others are answered on the wire.

    Each read returns at most one line, read and checked in the SDK's reader thread: a line that takes a while to
    parse holds up no other request, and nothing is read ahead of the line the server is waiting for.
    """

    def __init__(self, reader: _LineReader, max_bytes: int, wire: _Wire) -> None:
        super().__init__()
        self._reader = reader
        self._max_bytes = max_bytes
        self._wire = wire
        self._rest = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Buffer, /) -> int:
        while not self._rest:
            line = self._reader.next()
            if line is None:
                return 0
            answers, forward = check_message(line, max_bytes=self._max_bytes)
            for answer in answers:
                self._wire.send(answer)
            if forward:
                self._rest = line
        view = memoryview(buffer).cast("B")
        size = min(len(view), len(self._rest))
        view[:size] = self._rest[:size]
        self._rest = self._rest[size:]
        return size


async def serve_stdio(server: MCPServer, *, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> None:
    """Run `server` over stdin and stdout, with the guard in front of the SDK."""
    stdin_raw, stdout_raw, restore = _divert_standard_streams()
    wire = _Wire(stdout_raw)
    saved = sys.stdin, sys.stdout
    sys.stdin = cast(
        "TextIO",
        _Standard(sys.stdin, _CheckedInput(_LineReader(stdin_raw, max_message_bytes), max_message_bytes, wire)),
    )
    sys.stdout = cast("TextIO", _Standard(sys.stderr, wire))
    try:
        await server.run_stdio_async()
    finally:
        sys.stdin, sys.stdout = saved
        restore()
