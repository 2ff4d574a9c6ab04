"""8. What observing a call costs: Evaluate with tracing off, on (every call sampled,
exported over OTLP to a receiver in this process), sampled at 0, and with the decision
log written. One server process per setting, cache off (every call cold), measured in
alternating rounds; the figures are ratios to tracing off, from the same run.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
from common import alternating_best, catalog_requests, cycling, start_servers, stop
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from earmark.v1 import earmark_pb2_grpc


class _Receiver(trace_service_pb2_grpc.TraceServiceServicer):
    """An OTLP receiver that counts what it is sent and keeps nothing."""

    def __init__(self) -> None:
        self.spans = 0

    def Export(self, request, context):  # type: ignore[no-untyped-def]  # generated signature
        self.spans += sum(len(s.spans) for r in request.resource_spans for s in r.scope_spans)
        return trace_service_pb2.ExportTraceServiceResponse()


@contextmanager
def _receiver() -> Iterator[tuple[_Receiver, int]]:
    servicer, server = _Receiver(), grpc.server(futures.ThreadPoolExecutor(2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield servicer, port
    finally:
        server.stop(0)


def _settings(otlp_port: int, decisions: Path) -> dict[str, dict[str, str]]:
    otlp = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{otlp_port}",
        "OTEL_EXPORTER_OTLP_INSECURE": "true",
    }
    return {
        "tracing off": {},
        "tracing on": otlp,
        "sampled at 0": {**otlp, "OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0"},
        "decision log": {"EARMARK_DECISION_LOG": str(decisions)},
    }


def report(seconds: float) -> list[str]:
    with _receiver() as (receiver, port), tempfile.TemporaryDirectory() as folder:
        settings = _settings(port, Path(folder) / "decisions.jsonl")
        started = {name: start_servers(1, env=env) for name, env in settings.items()}
        channels = {name: grpc.insecure_channel(f"127.0.0.1:{p}") for name, (_s, p) in started.items()}
        try:
            best = _measure(started, channels, seconds)
        finally:
            stop(
                list(channels.values()),
                [process for processes, _p in started.values() for process in processes],
            )
        exported = receiver.spans
    base_rate, base_cpu = best["tracing off"]
    lines = ["observe  Evaluate, cold, one process each, side by side (ratio to tracing off):"]
    for name, (rate, cpu) in best.items():
        lines.append(
            f"         {name:13} {rate:7.0f} calls/s = {rate / base_rate:4.2f}x   server CPU {cpu:5.0f} µs per call"
            f" = {cpu - base_cpu:+5.0f} µs"
        )
    lines.append(f"         spans the receiver was sent: {exported}")
    return lines


def _measure(
    started: dict[str, tuple[list[Any], int]], channels: dict[str, grpc.Channel], seconds: float
) -> dict[str, tuple[float, float]]:
    requests = catalog_requests()
    calls = {
        name: cycling(earmark_pb2_grpc.EarmarkStub(c).Evaluate.future, requests)
        for name, c in channels.items()
    }
    return alternating_best(calls, {name: started[name][0][0].pid for name in calls}, seconds)
