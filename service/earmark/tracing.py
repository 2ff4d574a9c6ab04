"""Traces: OpenTelemetry, off unless the standard OTEL_* variables ask for it.

Off, `span()` hands back one shared do-nothing context and log lines get no fields, so a
process that isn't traced pays a global lookup per stage. On, the SDK reads its own
standard variables (sampler, resource, exporter endpoint, batch sizes); Earmark reads only
whether tracing is wanted (config.tracing_wanted) and which exporter to build.

Each process configures its own provider after it starts: a batch processor's thread
doesn't survive a fork, so the supervisor's workers each call `configure_tracing`.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Mapping, MutableMapping
from typing import Any

from opentelemetry import trace

# The SDK's provider once configured; None while tracing is off. Like logging, it is
# process state: set once at start-up, read on every call.
_tracer: trace.Tracer | None = None
_provider: Any = None
_NOT_TRACED = contextlib.nullcontext()


def configure_tracing(environ: Mapping[str, str] | None = None, *, exporter: Any = None) -> None:
    """Install an SDK tracer provider, with the exporter OTEL_TRACES_EXPORTER names
    (settings.tracing says whether to; config.py checked the name). `exporter` replaces it
    (tests pass an in-memory one)."""
    global _tracer, _provider
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    env = os.environ if environ is None else environ
    if exporter is None:
        exporter = _exporter_named(env.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower())
        processor: Any = BatchSpanProcessor(exporter)  # exports off the call's thread
    else:
        processor = SimpleSpanProcessor(exporter)  # in tests: every span at once
    # The sampler comes from OTEL_TRACES_SAMPLER(_ARG), read by the provider itself; the
    # service name from OTEL_SERVICE_NAME, defaulting to ours.
    resource = Resource.create({"service.name": env.get("OTEL_SERVICE_NAME", "earmark")})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(processor)
    _provider = provider
    _tracer = provider.get_tracer("earmark")


def _exporter_named(name: str) -> Any:
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    # otlp (the default): OTLP over gRPC, to OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT.
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


SHUTDOWN_SECONDS = 3.0  # the longest exiting waits for buffered spans


def shutdown_tracing() -> None:
    """Export what is still buffered, for SHUTDOWN_SECONDS at most, and stop; tracing is
    off afterwards. The exporter retries an unreachable collector for as long as
    OTEL_EXPORTER_OTLP_TIMEOUT allows, and a pod must not spend its grace period on that."""
    global _tracer, _provider
    provider, _tracer, _provider = _provider, None, None
    if provider is None:
        return
    flushing = threading.Thread(target=provider.shutdown, name="tracing-shutdown", daemon=True)
    flushing.start()
    flushing.join(SHUTDOWN_SECONDS)


def tracer_provider() -> Any:
    """The SDK provider, for the gRPC instrumentation; None while tracing is off."""
    return _provider


def span(name: str, **attributes: Any) -> contextlib.AbstractContextManager[Any]:
    """A child span of the current span, or nothing while tracing is off or no recorded
    span is current: a pack's example cases, run as it loads, are no call of anyone's,
    and a call sampled out wants no children."""
    tracer = _tracer
    if tracer is None or not trace.get_current_span().is_recording():
        return _NOT_TRACED
    return tracer.start_as_current_span(name, attributes=attributes or None)


def tracing_on() -> bool:
    """Whether this process traces: a caller can skip building what only a span needs."""
    return _tracer is not None


def annotate(**attributes: Any) -> None:
    """Set attributes on the current span (the call's), if it records."""
    if _tracer is None:
        return
    current = trace.get_current_span()
    if current.is_recording():
        current.set_attributes(attributes)


def current_trace_id() -> str | None:
    """The current trace's id as 32 hex digits, or None outside a trace."""
    if _tracer is None:
        return None
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def add_trace_ids(logger: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog processor: the trace_id and span_id of the current span, under the
    names OpenTelemetry's spec gives them for logs that are not OTLP, so that a log
    line and its trace can be joined."""
    if _tracer is None:
        return event
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event["trace_id"] = format(context.trace_id, "032x")
        event["span_id"] = format(context.span_id, "016x")
    return event
