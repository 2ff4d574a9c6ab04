"""Traces over a real channel: the span tree of a call, the caller's traceparent honoured,
health checks left out, and log lines that carry the trace's ids. OTLP over loopback is
tested in tests/e2e/test_tracing_otlp.py."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
import structlog
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from earmark.config import BUNDLED_RULES, load_settings, tracing_wanted
from earmark.errors import ConfigError
from earmark.evaluation.evaluator import Evaluator
from earmark.logs import configure_logging
from earmark.server.live import LivePack
from earmark.tracing import configure_tracing, shutdown_tracing, span
from earmark.v1 import earmark_pb2 as pb

from helpers import FailingEvaluator, RunningServer, evaluate_request, product, serving

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
SPECS = {"form_factor": "over_ear", "mic": "boom", "connection": "usb"}


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    configure_tracing({}, exporter=exporter)
    try:
        yield exporter
    finally:
        shutdown_tracing()


@pytest.fixture(scope="module")
def uncached() -> Evaluator:
    """An evaluator of this module's own: the session's may carry another test's cache."""
    return Evaluator.from_directory(BUNDLED_RULES)


@pytest.fixture
def traced(spans: InMemorySpanExporter, uncached: Evaluator) -> Iterator[RunningServer]:
    # Every cache off: every call here must reach the engine.
    with serving(LivePack(uncached), cache_entries=0, memo_entries=0) as server:
        yield server


def _by_name(exporter: InMemorySpanExporter) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for finished in exporter.get_finished_spans():
        found.setdefault(finished.name, []).append(finished)
    return found


def test_a_call_is_a_server_span_with_validation_engine_and_composition_beneath_it(
    traced: RunningServer, spans: InMemorySpanExporter
) -> None:
    traceparent = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"
    traced.stub.Evaluate(evaluate_request("p1", SPECS), metadata=(("traceparent", traceparent),))
    found = _by_name(spans)
    (call,) = found["/earmark.v1.Earmark/Evaluate"]
    assert call.kind is SpanKind.SERVER
    # The caller's trace goes on: same trace id, and the caller's span is the parent.
    assert format(call.context.trace_id, "032x") == CALLER_TRACE
    assert call.parent is not None and format(call.parent.span_id, "016x") == CALLER_SPAN
    assert call.attributes["earmark.ruleset.version"] == traced.server.live.current().pack.version
    assert call.attributes["earmark.products"] == 1
    for stage in ("validate", "engine", "compose"):
        (child,) = found[stage]
        assert child.parent is not None and child.parent.span_id == call.context.span_id, stage
        assert child.context.trace_id == call.context.trace_id


def test_a_batch_names_its_product_count_and_has_stages_for_each_product(
    traced: RunningServer, spans: InMemorySpanExporter
) -> None:
    request = pb.EvaluateBatchRequest(products=[product(f"p{i}", SPECS) for i in range(3)])
    traced.stub.EvaluateBatch(request)
    found = _by_name(spans)
    (call,) = found["/earmark.v1.Earmark/EvaluateBatch"]
    assert call.attributes["earmark.products"] == 3
    assert len(found["engine"]) == 3 and len(found["compose"]) == 3


def test_a_refused_request_has_its_status_on_its_span_and_keeps_its_request_id(
    traced: RunningServer, spans: InMemorySpanExporter
) -> None:
    with pytest.raises(grpc.RpcError) as refused:
        traced.stub.Evaluate(evaluate_request("p1", {"form_factor": "on_the_moon"}))
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    # The interceptor's trailing metadata survives the tracing wrapper around its context.
    assert "x-request-id" in dict(refused.value.trailing_metadata())
    (call,) = _by_name(spans)["/earmark.v1.Earmark/Evaluate"]
    assert call.attributes["rpc.grpc.status_code"] == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    # OpenTelemetry's conventions: a server span errs for the server's faults, not the
    # caller's; a bad request leaves it unset.
    assert call.status.status_code is StatusCode.UNSET


def test_health_checks_make_no_spans(traced: RunningServer, spans: InMemorySpanExporter) -> None:
    health = health_pb2_grpc.HealthStub(traced.channel)
    assert health.Check(health_pb2.HealthCheckRequest()).status == health_pb2.HealthCheckResponse.SERVING
    traced.stub.DescribeRules(pb.DescribeRulesRequest())
    names = [finished.name for finished in spans.get_finished_spans()]
    assert names == ["/earmark.v1.Earmark/DescribeRules"]


def test_log_lines_carry_the_trace_and_span_ids(traced: RunningServer, spans: InMemorySpanExporter) -> None:
    stream = io.BytesIO()
    configure_logging("info", "json", stream)
    traced.stub.Evaluate(
        evaluate_request("p1", SPECS), metadata=(("traceparent", f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"),)
    )
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    (rpc,) = [line for line in lines if line["event"] == "rpc"]
    (call,) = _by_name(spans)["/earmark.v1.Earmark/Evaluate"]
    assert rpc["trace_id"] == CALLER_TRACE
    assert rpc["span_id"] == format(call.context.span_id, "016x")


def test_untraced_log_lines_have_no_trace_fields() -> None:
    stream = io.BytesIO()
    configure_logging("info", "json", stream)
    with span("engine"):  # tracing off: nothing to name
        structlog.get_logger("t").info("rpc")
    assert "trace_id" not in json.loads(stream.getvalue())


@pytest.mark.parametrize(
    ("environ", "wanted"),
    [
        ({}, False),
        ({"OTEL_SERVICE_NAME": "earmark"}, False),  # naming the service asks for nothing
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}, True),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317"}, False),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "console"}, False),
    ],
)
def test_tracing_is_off_unless_the_standard_variables_ask_for_it(
    environ: dict[str, str], wanted: bool
) -> None:
    assert tracing_wanted(environ) is wanted
    assert load_settings(environ).tracing is wanted


def test_there_is_no_earmark_variable_for_tracing() -> None:
    with pytest.raises(ConfigError, match=r"EARMARK_TRACING is not a setting.*OTEL_"):
        load_settings({"EARMARK_TRACING": "true"})


def test_a_call_that_fails_inside_the_server_ends_its_span_in_error(
    spans: InMemorySpanExporter, uncached: Evaluator
) -> None:
    broken = FailingEvaluator(uncached, RuntimeError("the engine fell over"))
    with serving(LivePack(broken), cache_entries=0) as server, pytest.raises(grpc.RpcError) as failed:
        server.stub.Evaluate(evaluate_request("p1", SPECS))
    assert failed.value.code() is grpc.StatusCode.INTERNAL
    (call,) = _by_name(spans)["/earmark.v1.Earmark/Evaluate"]
    assert call.status.status_code is StatusCode.ERROR


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        (
            {"OTEL_TRACES_EXPORTER": "zipkin"},
            "OTEL_TRACES_EXPORTER='zipkin': Earmark ships the otlp and console",
        ),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"},
            "OTEL_EXPORTER_OTLP_PROTOCOL='http/protobuf': Earmark's OTLP exporter speaks grpc",
        ),
    ],
)
def test_an_exporter_earmark_does_not_ship_is_refused_by_name(environ: dict[str, str], named: str) -> None:
    """Sent to the wrong exporter or protocol, every span would be lost without a word."""
    with pytest.raises(ConfigError) as refused:
        load_settings(environ)
    assert named in str(refused.value)
