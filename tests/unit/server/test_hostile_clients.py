"""Clients written to hurt, over a real channel: calls that never send their message, bytes
that are not a request, responses too big to send. None may hold the server, and each is
answered, logged and counted like any other call."""

from __future__ import annotations

import statistics
import threading
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from structlog.testing import capture_logs

from earmark.evaluation.evaluator import Evaluator
from earmark.server.live import LivePack
from earmark.v1 import earmark_pb2 as pb

from helpers import (
    BOOM_GAMING_HEADSET,
    RunningServer,
    evaluate_request,
    product,
    serving,
    stalled_call,
    wait_for,
)

STALLED = 40


def test_calls_that_never_send_their_message_hold_no_evaluation_and_time_out(evaluator: Evaluator) -> None:
    """Two such calls used to hold both handler threads for as long as the client kept the
    connection, and one held the health-only port's only thread."""
    with serving(
        LivePack(evaluator), health_address="127.0.0.1:0", read_timeout_seconds=3, threads=2
    ) as server:
        release = threading.Event()
        outcomes: list[str] = []
        health_address = f"127.0.0.1:{server.server.health_port}"
        stalled = [
            threading.Thread(
                target=stalled_call, args=(server.address, "/earmark.v1.Earmark/Evaluate", release, outcomes)
            )
            for _ in range(STALLED)
        ] + [
            threading.Thread(
                target=stalled_call, args=(health_address, "/grpc.health.v1.Health/Check", release, outcomes)
            )
            for _ in range(4)
        ]
        try:
            for thread in stalled:
                thread.start()
            # Each stuck call gets a spare thread once it has reached the server.
            assert wait_for(lambda: server.server.admission.workers >= STALLED, 10)
            latencies = []
            with grpc.insecure_channel(health_address) as health_channel:
                probe = health_pb2_grpc.HealthStub(health_channel)
                for i in range(40):
                    started = time.perf_counter()
                    verdict = server.stub.Evaluate(evaluate_request(f"p{i}", BOOM_GAMING_HEADSET), timeout=2)
                    latencies.append(time.perf_counter() - started)
                    assert "headset" == verdict.verdict.category
                    assert (
                        health_pb2.HealthCheckResponse.SERVING
                        == probe.Check(health_pb2.HealthCheckRequest(), timeout=2).status
                    )
            assert statistics.median(latencies) < 0.05
            assert server.server.admission.workers >= STALLED  # a thread for each stuck call
            for thread in stalled:
                thread.join(timeout=15)
            assert ["DEADLINE_EXCEEDED"] * len(stalled) == outcomes
            # The spare threads leave once idle.
            assert wait_for(lambda: server.server.admission.workers <= 2, 10)
            assert 2 == server.server.admission.workers
        finally:
            release.set()


def test_normal_calls_keep_the_pool_as_narrow_as_the_threads_setting(evaluator: Evaluator) -> None:
    """A thread per call cost a no-op call about 40% more server CPU (a wake-up and a GIL
    hand-off each); with EARMARK_THREADS threads a busy one takes the next call at once."""
    with serving(LivePack(evaluator), threads=2) as server:
        calls = [
            server.stub.Evaluate.future(evaluate_request(str(i), BOOM_GAMING_HEADSET)) for i in range(60)
        ]
        assert all("headset" == call.result(timeout=10).verdict.category for call in calls)
        # A thread per call would be 60. On a loaded machine a read can take past the 20 ms
        # that counts it as stuck and earn a spare thread, which leaves once idle.
        assert server.server.admission.workers < 10
        assert wait_for(lambda: server.server.admission.workers == 2, 5)


def _raw(server: RunningServer, method: str) -> grpc.UnaryUnaryMultiCallable:
    return server.channel.unary_unary(method, request_serializer=bytes, response_deserializer=bytes)


def _field(number: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field, by hand: the library refuses to build a message
    as deep as the ones a hostile client sends."""
    length, size = b"", len(payload)
    while True:
        byte, size = size & 0x7F, size >> 7
        length += bytes([byte | (0x80 if size else 0)])
        if not size:
            break
    return bytes([number << 3 | 2]) + length + payload


def _nested_request(depth: int) -> bytes:
    value = _field(3, b"deep")  # Value.string_value
    for _ in range(depth):
        value = _field(6, _field(1, value))  # Value.list_value -> ListValue.values
    specs = _field(1, _field(1, b"mic") + _field(2, value))  # Struct.fields entry
    return _field(1, _field(1, b"deep") + _field(2, specs))  # EvaluateRequest.product


def _undecodable() -> list[tuple[str, bytes]]:
    good = evaluate_request("AAAA", BOOM_GAMING_HEADSET).SerializeToString()
    return [
        ("garbage", b"\xff\xff\xff\xff\xff"),
        ("invalid UTF-8", good.replace(b"AAAA", b"\xff\xfe\xfd\xfc")),
        ("truncated", good[:-3]),
        ("nested 60 deep", _nested_request(60)),
    ]


@pytest.mark.parametrize(("what", "payload"), _undecodable(), ids=[w for w, _ in _undecodable()])
@pytest.mark.parametrize("method", ["/earmark.v1.Earmark/Evaluate", "/earmark.v1.Earmark/EvaluateBatch"])
def test_a_request_that_cannot_be_decoded_is_invalid_argument(
    running: RunningServer, method: str, what: str, payload: bytes
) -> None:
    """Such requests used to get INTERNAL, with no request id, no log line and no count."""
    before = running.sample("earmark_rpcs_total", method=method, code="INVALID_ARGUMENT")
    with capture_logs() as logs, pytest.raises(grpc.RpcError) as caught:
        _raw(running, method)(payload, timeout=5, metadata=(("x-request-id", f"bad-{what}"),))
    assert grpc.StatusCode.INVALID_ARGUMENT == caught.value.code()
    assert "is not a valid earmark.v1." in caught.value.details()
    assert ("x-request-id", f"bad-{what}") in caught.value.trailing_metadata()
    assert 1 == running.sample("earmark_rpcs_total", method=method, code="INVALID_ARGUMENT") - before
    lines = [
        line for line in logs if line.get("event") == "rpc"
    ]  # the request id is a contextvar, not captured
    assert [("INVALID_ARGUMENT", method)] == [(line["status"], line["method"]) for line in lines]


def test_a_batch_too_big_to_send_is_logged_as_what_the_client_got(evaluator: Evaluator) -> None:
    with serving(LivePack(evaluator), max_message_bytes=2048) as server:
        # A small request whose verdicts, with their explanations, are far bigger.
        batch = pb.EvaluateBatchRequest(products=[product(str(i), BOOM_GAMING_HEADSET) for i in range(3)])
        assert batch.ByteSize() < 2048
        with capture_logs() as logs, pytest.raises(grpc.RpcError) as caught:
            server.stub.EvaluateBatch(batch, timeout=5)
        assert grpc.StatusCode.RESOURCE_EXHAUSTED == caught.value.code()
        assert "EARMARK_MAX_MESSAGE_BYTES=2048" in caught.value.details()
        statuses = [line["status"] for line in logs if line.get("event") == "rpc"]
        assert ["RESOURCE_EXHAUSTED"] == statuses  # it used to say OK


def test_the_time_to_send_a_request_is_its_own_setting(evaluator: Evaluator) -> None:
    """It used to be EARMARK_DEFAULT_DEADLINE_SECONDS, which is for calls without a
    deadline: raising that for long batches also let stalled callers hold threads longer."""
    with serving(LivePack(evaluator), read_timeout_seconds=0.5, default_deadline_seconds=60) as server:
        outcomes: list[str] = []
        started = time.monotonic()
        stalled_call(server.address, "/earmark.v1.Earmark/Evaluate", threading.Event(), outcomes)
        assert ["DEADLINE_EXCEEDED"] == outcomes
        assert time.monotonic() - started < 5
