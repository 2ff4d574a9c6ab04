"""Traces leave a real `earmark serve` over OTLP/gRPC, configured by the standard OTEL_*
variables alone, and reach a receiver this test starts on loopback: from a lone server and
from the workers of a supervised one (each configures its own exporter after the fork)."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from earmark.v1 import earmark_pb2_grpc

from helpers import evaluate_request, serve_process, unanswered_address, wait_for, wait_serving

pytestmark = pytest.mark.slow
CALLS = 12


class Receiver(trace_service_pb2_grpc.TraceServiceServicer):
    """An OTLP trace receiver that keeps every span it is sent, with its service name."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, str, bytes, bytes]] = []  # (service, name, span id, parent)
        self._lock = threading.Lock()

    def Export(self, request, context):  # type: ignore[no-untyped-def]  # generated signature
        with self._lock:
            for resource_spans in request.resource_spans:
                attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                for scope in resource_spans.scope_spans:
                    for span in scope.spans:
                        self.spans.append(
                            (attributes.get("service.name", ""), span.name, span.span_id, span.parent_span_id)
                        )
        return trace_service_pb2.ExportTraceServiceResponse()

    def names(self) -> list[str]:
        with self._lock:
            return [name for _service, name, _id, _parent in self.spans]


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, int]]:
    servicer = Receiver()
    server = grpc.server(futures.ThreadPoolExecutor(4))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield servicer, port
    finally:
        server.stop(0)


@pytest.mark.parametrize("workers", [1, 2])
def test_spans_reach_an_otlp_receiver_from_a_lone_server_and_from_workers(
    receiver: tuple[Receiver, int], workers: int
) -> None:
    spans, port = receiver
    process = serve_process(
        {
            "EARMARK_WORKERS": str(workers),
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
            "OTEL_EXPORTER_OTLP_INSECURE": "true",
            "OTEL_SERVICE_NAME": "earmark-under-test",
            "OTEL_BSP_SCHEDULE_DELAY": "100",  # ms: export soon, not every 5 s
        }
    )
    try:
        with grpc.insecure_channel(process.address) as channel:
            wait_serving(channel, process)  # workers bind after their supervisor names the port
            stub = earmark_pb2_grpc.EarmarkStub(channel)
            for call in range(CALLS):  # new products: none answered from a cache
                stub.Evaluate(evaluate_request(f"p{call}", {"form_factor": "in_ear", "weight_g": 5 + call}))
        assert wait_for(lambda: spans.names().count("/earmark.v1.Earmark/Evaluate") == CALLS, 60), (
            spans.names()
        )
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert '"tracing":true' in err.replace(" ", "")
    by_id = {span_id: name for _service, name, span_id, _parent in spans.spans}
    engine_parents = [by_id.get(parent) for _s, name, _id, parent in spans.spans if name == "engine"]
    assert engine_parents == ["/earmark.v1.Earmark/Evaluate"] * CALLS
    assert {service for service, *_rest in spans.spans} == {"earmark-under-test"}


def test_an_unreachable_collector_does_not_hold_the_exit() -> None:
    """The exporter retries a collector that is down for OTEL_EXPORTER_OTLP_TIMEOUT (30 s
    here); exiting waits for buffered spans 3 s at most, so a pod's grace period goes on
    draining calls, not on a collector. Before, this exit took 14 s."""
    with unanswered_address() as collector:
        process = serve_process(
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{collector}",
                "OTEL_EXPORTER_OTLP_INSECURE": "true",
                "OTEL_EXPORTER_OTLP_TIMEOUT": "30",
            }
        )
        with grpc.insecure_channel(process.address) as channel:
            wait_serving(channel, process)
            earmark_pb2_grpc.EarmarkStub(channel).Evaluate(evaluate_request("p", {"mic": "boom"}), timeout=30)
        asked = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=120)
    assert process.returncode == 0
    assert time.monotonic() - asked < 10
