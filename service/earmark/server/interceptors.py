"""Around every RPC: a request id, one canonical log line, and errors turned into statuses.

Servicer methods raise EarmarkError subclasses and stay a few lines long. Here every
exception a call raises is handed to errors.public_error, the one function that decides
what a client is told (an unexpected exception becomes INTERNAL with the request id, never
a stack trace on the wire), and its answer becomes the call's status.
"""

from __future__ import annotations

import functools
import os
import random
import time
from collections.abc import Callable
from typing import Any

import grpc
import structlog

from earmark.errors import EngineFailure, InvalidArgument, Overloaded, ResponseTooLarge, public_error
from earmark.server.admission import Refused, tag_method
from earmark.server.metrics import Metrics
from earmark.server.response_cache import Raw

REQUEST_ID_KEY = "x-request-id"
MAX_REQUEST_ID = 128
# Probes call these every few seconds; logging each at info would drown the RPC lines.
QUIET_METHODS = frozenset({"/grpc.health.v1.Health/Check"})

log = structlog.get_logger("earmark.rpc")


def stalled_call_recorder(metrics: Metrics) -> Callable[[str, float], None]:
    """What the admission watchdog calls for a call cancelled because its request message
    never came: counted and logged like any call (no handler, so no interceptor, saw it)."""

    def record(method: str, seconds: float) -> None:
        metrics.record_call(method, grpc.StatusCode.DEADLINE_EXCEEDED.name, seconds)
        log.warning(
            "rpc",
            method=method,
            status=grpc.StatusCode.DEADLINE_EXCEEDED.name,
            outcome="error",
            duration_ms=round(seconds * 1000, 3),
            error="no request message arrived within EARMARK_READ_TIMEOUT_SECONDS",
            request_id=None,
        )

    return record


def stream_refusal_recorder(metrics: Metrics) -> Callable[[str], None]:
    """What admission calls for a stream refused because EARMARK_MAX_STREAMS were open."""

    def record(method: str) -> None:
        metrics.streams_refused.labels(method).inc()
        log.warning("stream_refused", method=method, status=grpc.StatusCode.RESOURCE_EXHAUSTED.name)

    return record


def request_id_from(metadata: Any) -> str:
    """The caller's x-request-id if it sent a sane one, else a fresh id."""
    for key, value in metadata or ():
        if (
            key == REQUEST_ID_KEY
            and isinstance(value, str)
            and 0 < len(value) <= MAX_REQUEST_ID
            and value.isprintable()
        ):
            return value
    return os.urandom(16).hex()  # as random as uuid4().hex, at a quarter of its cost


class Undecodable:
    """What a request that is not a valid message decodes to, so that it reaches the
    interceptor (and its log line and metrics) as INVALID_ARGUMENT. grpcio would answer
    INTERNAL with no request id and log nothing."""

    __slots__ = ("error", "message_name")

    def __init__(self, message_name: str, error: Exception) -> None:
        self.message_name = message_name
        self.error = error

    def describe(self) -> str:
        reason = str(self.error).rpartition(": ")[2] or type(self.error).__name__
        return f"the request is not a valid {self.message_name} message: {reason}"


def _tolerant(deserialize: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    message_class = getattr(deserialize, "__self__", None)
    name = getattr(getattr(message_class, "DESCRIPTOR", None), "full_name", "request")

    def tolerant(data: bytes) -> Any:
        try:
            return deserialize(data)
        except Exception as exc:  # DecodeError, invalid UTF-8, nesting past the recursion limit
            return Undecodable(name, exc)

    return tolerant


def _with_bytes(deserialize: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    def decode(data: bytes) -> Any:
        message = deserialize(data)
        return message if isinstance(message, Undecodable) else Raw(message, data)

    return decode


def _bytes_as_they_are(serialize: Callable[[Any], bytes] | None) -> Callable[[Any], bytes] | None:
    """The response serializer, passing an answer kept as bytes through as it is (grpcio's
    Cython layer takes exactly bytes from a serializer)."""
    if serialize is None:
        return None

    def serialized(response: Any) -> bytes:
        return response if response.__class__ is bytes else serialize(response)

    return serialized


def _named_stream(handler: Any, method: str) -> Any:
    """The stream's handler with its behaviour tagged with its method (grpcio doesn't tell
    the executor which method a registered call is for). A partial takes attributes where
    a bound method doesn't; grpcio's own flags on the behaviour (Health/Watch runs without
    a thread) are kept."""
    kind = next(
        k for k in ("unary_stream", "stream_stream", "stream_unary") if getattr(handler, k) is not None
    )
    original = getattr(handler, kind)
    behaviour = functools.partial(original)
    for flag in ("experimental_non_blocking", "experimental_thread_pool"):
        if hasattr(original, flag):
            setattr(behaviour, flag, getattr(original, flag))
    return handler._replace(**{kind: tag_method(behaviour, method)})


class CallInterceptor(grpc.ServerInterceptor):  # type: ignore[type-arg]  # generic in the stubs only
    """Wraps unary RPCs: binds the request id, logs one line, maps errors to statuses, and
    refuses a response too large to send. Which calls run, and when, is admission's
    (admission.py); a call it refused arrives here as a Refused request."""

    def __init__(
        self,
        max_response_bytes: int,
        metrics: Metrics,
        keep_bytes_of: frozenset[str] = frozenset(),
        *,
        log_sample: float = 1.0,
        slow_call_seconds: float = 1.0,
    ) -> None:
        self._metrics = metrics
        # The share of successful, quick calls whose rpc line is written (EARMARK_LOG_SAMPLE);
        # errors and calls slower than slow_call_seconds are always written.
        self._log_sample = log_sample
        self._slow_call_seconds = slow_call_seconds
        self._max_response_bytes = max_response_bytes
        # Each method's wrapped handler, made on its first call: what grpcio registered
        # for a method doesn't change, and a closure and a handler made on every call cost
        # a few µs of every call. The registered handler is kept beside it, to check that.
        self._wrapped: dict[str, tuple[Any, Any]] = {}
        # Methods whose requests reach the servicer with their bytes (response_cache.Raw),
        # so that a repeated request can be answered with the bytes sent last time.
        self._keep_bytes_of = keep_bytes_of

    def intercept_service(self, continuation: Callable[[Any], Any], handler_call_details: Any) -> Any:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        made = self._wrapped.get(method)
        if made is not None and made[0] is handler:
            return made[1]
        if handler.unary_unary is None:  # a stream: named for admission, which limits streams
            wrapped = _named_stream(handler, method)
        else:
            wrapped = self._wrap(method, handler)
        self._wrapped[method] = (handler, wrapped)
        return wrapped

    def _wrap(self, method: str, handler: Any) -> Any:
        behaviour = handler.unary_unary
        deserialize = handler.request_deserializer
        if deserialize is not None:
            deserialize = _tolerant(deserialize)
            if method in self._keep_bytes_of:
                deserialize = _with_bytes(deserialize)

        in_flight = self._metrics.in_flight
        log_sample, slow = self._log_sample, self._slow_call_seconds

        def wrapped(request: Any, context: grpc.ServicerContext) -> Any:
            started = time.perf_counter()
            in_flight.inc()
            request_id = request_id_from(context.invocation_metadata())
            structlog.contextvars.clear_contextvars()
            structlog.contextvars.bind_contextvars(request_id=request_id)
            context.set_trailing_metadata(((REQUEST_ID_KEY, request_id),))
            status = grpc.StatusCode.OK
            detail = ""
            try:
                if isinstance(request, Refused):
                    raise Overloaded(request.message)
                if isinstance(request, Undecodable):
                    raise InvalidArgument(request.describe())
                response = behaviour(request, context)
                # Bytes are an answer the servicer kept; ByteSize costs 0.8 µs, as much as
                # serialising the message once more.
                size = len(response) if response.__class__ is bytes else response.ByteSize()
                if size > self._max_response_bytes:  # refused here, so the log says what the client got
                    raise ResponseTooLarge(
                        f"the response would be {size} bytes, over EARMARK_MAX_MESSAGE_BYTES="
                        f"{self._max_response_bytes}; ask for fewer products per call"
                    )
                return response
            except Exception as exc:
                code, detail = public_error(exc, request_id)
                status = grpc.StatusCode[code]
                if isinstance(exc, EngineFailure):
                    log.error("engine_failure", method=method, error=exc.message)
                elif status is grpc.StatusCode.INTERNAL:  # a bug: its text stays in the log
                    log.exception("unexpected_error", method=method)
                context.abort(status, detail)
            finally:
                elapsed = time.perf_counter() - started
                in_flight.dec()
                self._metrics.record_call(method, status.name, elapsed)
                sampled_out = (
                    log_sample < 1.0
                    and status is grpc.StatusCode.OK
                    and elapsed < slow
                    and random.random() >= log_sample
                )
                if not sampled_out:
                    fields = {
                        "method": method,
                        "status": status.name,
                        "outcome": "ok" if status is grpc.StatusCode.OK else "error",
                        "duration_ms": round(elapsed * 1000, 3),
                    }
                    if detail and status is not grpc.StatusCode.INTERNAL:
                        fields["error"] = detail
                    if elapsed >= slow:
                        fields["slow"] = True
                    if method in QUIET_METHODS:
                        log.debug("rpc", **fields)
                    else:
                        log.info("rpc", **fields)
                structlog.contextvars.clear_contextvars()

        return grpc.unary_unary_rpc_method_handler(
            tag_method(wrapped, method),
            request_deserializer=deserialize,
            response_serializer=_bytes_as_they_are(handler.response_serializer),
        )


class TracedCalls(grpc.ServerInterceptor):  # type: ignore[type-arg]  # generic in the stubs only
    """OpenTelemetry's gRPC server interceptor (the official one), outermost, for Earmark's
    own methods: a SERVER span per call, the caller's `traceparent` honoured, the status
    set from the abort. Health checks and reflection are left out: probes every few
    seconds would be most of the traces.

    The official interceptor rebuilds each handler around its own wrapper, which drops the
    method tag admission sorts calls by; it is put back here."""

    def __init__(self, tracer_provider: Any) -> None:
        from opentelemetry.instrumentation.grpc import filters, server_interceptor

        traced = filters.negate(
            filters.any_of(filters.health_check(), filters.service_prefix("grpc.reflection"))
        )
        self._traced = server_interceptor(tracer_provider=tracer_provider, filter_=traced)  # type: ignore[no-untyped-call]
        # Each method's traced handler, made once, as CallInterceptor keeps its own: the
        # official wrapper reads only the method name from the call's details.
        self._wrapped: dict[str, tuple[Any, Any]] = {}

    def intercept_service(self, continuation: Callable[[Any], Any], handler_call_details: Any) -> Any:
        inner = continuation(handler_call_details)
        if inner is None or inner.unary_unary is None:  # streams are not traced (see above)
            return inner
        method = handler_call_details.method
        made = self._wrapped.get(method)
        if made is not None and made[0] is inner:
            return made[1]
        handler = self._traced.intercept_service(lambda _details: inner, handler_call_details)
        if handler is not inner:  # traced: put admission's tag back
            handler = handler._replace(unary_unary=tag_method(handler.unary_unary, method))
        self._wrapped[method] = (inner, handler)
        return handler
