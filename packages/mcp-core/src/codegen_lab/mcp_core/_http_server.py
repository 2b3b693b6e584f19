"""The HTTP server under the Streamable HTTP app: uvicorn's h11 protocol with read deadlines and a connection cap.

uvicorn alone keeps a connection open for as long as its client sends a byte now and then, and it accepts
connections until the process runs out of file descriptors. Each connection here has a deadline for its headers
(from when it opens, or from the end of its previous answer) and one for its body; a connection that misses one
is closed, however much it has trickled in. Past `max_connections`, a new connection takes the place of the one
that has waited longest for the client (one that sent part of its headers first, then a new one that sent
nothing, then one sending a body, then one idle between requests), or is closed at once when every connection is
serving a request. A body being received is a request in flight: a flood of new connections (as when 1,500 open
at once) takes the places of each other before it takes those. This module imports uvicorn: only `serve_http`
imports it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

if TYPE_CHECKING:
    from codegen_lab.common._settings import Settings

__all__ = ["GuardedH11Protocol", "uvicorn_config"]

logger = logging.getLogger(__name__)

_Phase = Literal["headers", "body"] | None


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, with deadlines for a request's headers and body, and a cap on open connections.

    The limits are class attributes: `guarded_protocol` makes a subclass with the settings' values.
    """

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_connections: int = 1000
    waiting: ClassVar[OrderedDict[GuardedH11Protocol, None]] = OrderedDict()
    """The connections waiting for headers that sent none yet, oldest first (each subclass has its own)."""
    waiting_partial: ClassVar[OrderedDict[GuardedH11Protocol, None]] = OrderedDict()
    """The connections waiting for headers that sent part of them, by when they began, oldest first."""
    receiving: ClassVar[OrderedDict[GuardedH11Protocol, None]] = OrderedDict()
    """The connections waiting for the rest of a request's body, oldest first."""
    kept: ClassVar[OrderedDict[GuardedH11Protocol, None]] = OrderedDict()
    """The connections idle between requests after answering one at least (a client's keep-alive), oldest first."""
    _answered: bool = False

    _phase: _Phase = None
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # pyright: ignore[reportIncompatibleMethodOverride]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections and not self._make_room():
            logger.warning("refused a connection: %d connections are serving requests", len(self.connections) - 1)
            transport.abort()
            return
        self._watch()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch()
        if self._phase == "headers" and (self.waiting.pop(self, 0) is None or self.kept.pop(self, 0) is None):
            self.waiting_partial[self] = None  # the first part of its headers

    def on_response_complete(self) -> None:
        self._answered = True
        super().on_response_complete()
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._set_phase(None)
        super().connection_lost(exc)

    def _watch(self) -> None:
        """Arm the deadline of what the connection now waits for from the client: headers, a body, or nothing."""
        if self.transport.is_closing():
            self._set_phase(None)
            return
        state = self.conn.their_state
        self._set_phase("headers" if state is h11.IDLE else "body" if state is h11.SEND_BODY else None)

    def _set_phase(self, phase: _Phase) -> None:
        if phase == self._phase:
            return
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        if self._phase == "headers":
            self.waiting.pop(self, None)
            self.waiting_partial.pop(self, None)
            self.kept.pop(self, None)
        elif self._phase == "body":
            self.receiving.pop(self, None)
        self._phase = phase
        if phase == "headers":
            (self.kept if self._answered else self.waiting)[self] = None
        elif phase == "body":
            self.receiving[self] = None
        if phase is not None:
            timeout = self.header_timeout if phase == "headers" else self.body_timeout
            self._deadline = self.loop.call_later(timeout, self._expire)

    def _expire(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        logger.info("closed a connection from %s that sent no complete request %s in time", self.client, self._phase)
        self._set_phase(None)
        self.transport.abort()

    def _make_room(self) -> bool:
        """Close the connection that has waited longest for the client; False when all are serving requests.

        One that sent part of its headers goes first, then a new one that sent nothing yet, then one still sending
        a body (a request in flight), then one idle between requests (a client that was answered before): the
        oldest of the first kind there is.
        """
        for queue in (self.waiting_partial, self.waiting, self.receiving, self.kept):
            if queue:
                oldest = next(iter(queue))  # an OrderedDict: its first key in constant time
                oldest._set_phase(None)
                oldest.transport.abort()
                return True
        return False


def guarded_protocol(settings: Settings) -> type[GuardedH11Protocol]:
    """A `GuardedH11Protocol` with the limits of `settings`."""
    attributes: dict[str, Any] = {
        "header_timeout": settings.http_header_timeout,
        "body_timeout": settings.http_body_timeout,
        "max_connections": settings.http_max_connections,
        "waiting": OrderedDict(),
        "waiting_partial": OrderedDict(),
        "receiving": OrderedDict(),
        "kept": OrderedDict(),
    }
    return type("GuardedH11Protocol", (GuardedH11Protocol,), attributes)


def uvicorn_config(app: Any, settings: Settings) -> uvicorn.Config:
    """The uvicorn configuration that serves `app` on `settings.host` and `settings.port` with the HTTP limits."""
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        # no access log (it would print query strings), and uvicorn's own loggers reach the redacting handler
        log_config=None,
        access_log=False,
        http=guarded_protocol(settings),
        ws="none",
        timeout_keep_alive=settings.http_keep_alive,  # pyright: ignore[reportArgumentType]
        # A backstop for requests in flight (answered 503 past it): the protocol caps connections, and a request
        # can outlive its connection only briefly.
        limit_concurrency=2 * settings.http_max_connections,
        h11_max_incomplete_event_size=settings.http_max_header_bytes,
    )
