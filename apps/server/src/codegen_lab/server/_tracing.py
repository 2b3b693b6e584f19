"""Traces: the OpenTelemetry SDK, configured only when the environment asks for it.

When `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) or `OTEL_TRACES_EXPORTER` is set,
`configure_tracing` installs a tracer provider that exports spans over OTLP/HTTP (the exporter reads the
standard `OTEL_*` variables: endpoint, headers, timeout), names the service `codegen-lab` (or
`OTEL_SERVICE_NAME`) and turns on `codegen_lab.common.tracing`, so that the spans of rule matching, validation,
sandboxed runs, cache lookups and Redis calls are recorded beside the `mcp` SDK's own. Otherwise it imports
nothing. `OTEL_TRACES_EXPORTER=console` writes spans to stderr instead; `none` turns tracing off.
"""

from __future__ import annotations

import atexit
import logging
import sys
from collections.abc import Mapping

from codegen_lab.common.errors import UsageError

__all__ = ["configure_tracing"]

logger = logging.getLogger(__name__)

_ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def configure_tracing(environ: Mapping[str, str]) -> bool:
    """Configure the OpenTelemetry SDK when the environment names an exporter; whether it did.

    Raises:
        UsageError: When `OTEL_TRACES_EXPORTER` names an exporter other than `otlp`, `console` or `none`.
    """
    exporter_name = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    endpoint = next((environ[name] for name in _ENDPOINTS if environ.get(name, "").strip()), None)
    if exporter_name == "none" or not (exporter_name or endpoint):
        return False
    if exporter_name not in {"", "otlp", "console"}:
        raise UsageError(
            f"OTEL_TRACES_EXPORTER={exporter_name!r} is not supported",
            hint="use otlp (OTLP over HTTP), console or none",
        )
    from opentelemetry import trace  # noqa: PLC0415
    from opentelemetry.sdk.resources import Resource  # noqa: PLC0415
    from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter  # noqa: PLC0415

    from codegen_lab.common import tracing  # noqa: PLC0415

    if exporter_name == "console":
        exporter: SpanExporter = ConsoleSpanExporter(out=sys.stderr)  # stdout belongs to the stdio transport
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: PLC0415

        exporter = OTLPSpanExporter()
    service = environ.get("OTEL_SERVICE_NAME", "").strip() or "codegen-lab"
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    atexit.register(provider.shutdown)  # the spans still queued are sent as the process ends
    tracing.enable()
    logger.info(
        "tracing: spans go to %s",
        "stderr" if exporter_name == "console" else f"OTLP/HTTP at {endpoint or 'localhost:4318'}",
    )
    return True
