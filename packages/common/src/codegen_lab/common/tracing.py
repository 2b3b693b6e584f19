"""Spans for the work that takes time (rule matching, validation, sandboxed runs, cache lookups, Redis calls).

`span("codegen_lab.rules.match", files=3)` is a no-op (`contextlib.nullcontext`) until the application turns
tracing on with `enable()`, which it does only when it configured an OpenTelemetry SDK (the server does when
`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_TRACES_EXPORTER` is set). Libraries call `span` and `event` freely: nothing
of OpenTelemetry is imported, and nothing is recorded, while tracing is off.

An `event` is also shown to the observers of the current context (`observed`): the server counts what a tool call's
work reports this way (sandboxed runs by isolation and outcome, `SANDBOX_RUN`) without the library knowing the
server. Observers follow the context into the worker threads that `anyio.to_thread` and `asyncio.to_thread` start.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable, Generator, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer

__all__ = ["SANDBOX_RUN", "Observer", "annotate", "enable", "enabled", "event", "observed", "span", "traced"]

AttributeValue = str | bool | int | float
Observer = Callable[[str, Mapping[str, AttributeValue]], None]
"""Sees each `event` (its name and attributes) reported in the context where it was made an observer."""

SANDBOX_RUN = "codegen_lab.sandbox.run"
"""The event of one sandboxed run ended: attributes `isolation` (`bubblewrap`, `namespaces`, `uid`, `none`) and
`outcome` (`ok`, `failed`, `timeout`, `cancelled`, `output_limit`, `killed`)."""

_tracer: Tracer | None = None
_observers: ContextVar[tuple[Observer, ...]] = ContextVar("codegen_lab_observers", default=())


def enable() -> None:
    """Record spans from now on, with the global OpenTelemetry tracer provider (configure it first)."""
    global _tracer  # noqa: PLW0603 - one switch for the process, set once by the application
    from opentelemetry import trace  # noqa: PLC0415

    _tracer = trace.get_tracer("codegen_lab")


def enabled() -> bool:
    """Whether spans are recorded."""
    return _tracer is not None


def span(name: str, **attributes: AttributeValue | None) -> contextlib.AbstractContextManager[Any]:
    """A span named `name` around a block, with `attributes` (None values left out); a no-op while tracing is off.

    An exception leaving the block is recorded on the span, which is marked as an error.
    """
    if _tracer is None:
        return contextlib.nullcontext()
    return _tracer.start_as_current_span(
        name, attributes={key: value for key, value in attributes.items() if value is not None}
    )


def event(name: str, **attributes: AttributeValue) -> None:
    """An event on the current span (such as an incident id), shown to the context's observers first.

    With no observer and tracing off, nothing happens.
    """
    for observer in _observers.get():
        observer(name, attributes)
    if _tracer is None:
        return
    from opentelemetry import trace  # noqa: PLC0415

    trace.get_current_span().add_event(name, attributes=attributes)


@contextlib.contextmanager
def observed(observer: Observer) -> Generator[None]:
    """Show `observer` every `event` reported in this context (and the contexts copied from it) within the block."""
    reset = _observers.set((*_observers.get(), observer))
    try:
        yield
    finally:
        _observers.reset(reset)


def annotate(**attributes: AttributeValue) -> None:
    """Set attributes on the current span (what a traced function learns as it runs); a no-op while off."""
    if _tracer is None:
        return
    from opentelemetry import trace  # noqa: PLC0415

    trace.get_current_span().set_attributes(attributes)


def traced[F: Callable[..., Any]](name: str) -> Callable[[F], F]:
    """Decorate a function (sync or async) to run in a span named `name` while tracing is on."""

    def decorate(function: F) -> F:
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with span(name):
                    return await function(*args, **kwargs)

            return cast("F", run_async)

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            with span(name):
                return function(*args, **kwargs)

        return cast("F", run)

    return decorate
