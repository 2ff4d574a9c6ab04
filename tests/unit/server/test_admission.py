"""Admission against hostile and bursty clients, over a real channel: streams kept apart
from calls, bursts queued for a bounded time, refusals that never wait on a stalled
caller, health that tells the truth, and grpcio's internals checked before serving."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from grpc import _server as grpc_internals
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from earmark.config import Settings
from earmark.evaluation.evaluator import Evaluator
from earmark.server.grpc_server import EarmarkServer
from earmark.server.live import LivePack
from earmark.v1.earmark_pb2_grpc import EarmarkStub

from helpers import BOOM_GAMING_HEADSET, SlowEvaluator, evaluate_request, serving, stalled_call, wait_for

EVALUATE = "/earmark.v1.Earmark/Evaluate"
REFLECTION = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"


def _check(channel: grpc.Channel, service: str = "") -> int:
    request = health_pb2.HealthCheckRequest(service=service)
    return int(health_pb2_grpc.HealthStub(channel).Check(request, timeout=2).status)


def _idle_stream(
    channel: grpc.Channel, release: threading.Event, opened: list[str], ended: list[str]
) -> None:
    """Ask reflection one question, then say nothing more until `release`."""

    def questions() -> Iterator[reflection_pb2.ServerReflectionRequest]:
        yield reflection_pb2.ServerReflectionRequest(list_services="")
        release.wait()

    answers = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(questions(), timeout=60)
    try:
        next(answers)
    except grpc.RpcError as exc:
        opened.append(exc.code().name)
        return
    opened.append("held")
    try:
        for _ in answers:
            pass
        ended.append("OK")
    except grpc.RpcError as exc:
        ended.append(exc.code().name)


def test_idle_reflection_streams_take_no_slot_an_evaluation_needs(evaluator: Evaluator) -> None:
    """64 idle reflection streams on one connection used to hold every admission slot:
    each Evaluate and the main port's health check got RESOURCE_EXHAUSTED."""
    with serving(LivePack(evaluator), max_streams=4, stream_idle_seconds=2) as server:
        release = threading.Event()
        opened: list[str] = []
        ended: list[str] = []
        streams = [
            threading.Thread(target=_idle_stream, args=(server.channel, release, opened, ended))
            for _ in range(64)
        ]
        try:
            for stream in streams:
                stream.start()
            assert wait_for(lambda: len(opened) == 64, 10)
            assert 4 == opened.count("held")
            assert 60 == opened.count("RESOURCE_EXHAUSTED")
            assert 60 == server.sample("earmark_streams_refused_total", method=REFLECTION)
            # The four open streams hold no slot an evaluation or a probe needs.
            for i in range(20):
                verdict = server.stub.Evaluate(evaluate_request(f"p{i}", BOOM_GAMING_HEADSET), timeout=2)
                assert "headset" == verdict.verdict.category
            assert health_pb2.HealthCheckResponse.SERVING == _check(server.channel)
            # Silent for EARMARK_STREAM_IDLE_SECONDS, each is cancelled and its thread freed.
            assert wait_for(lambda: len(ended) == 4, 10)
            assert ["DEADLINE_EXCEEDED"] * 4 == ended
            assert 0 == server.server.admission.open_streams
        finally:
            release.set()
            for stream in streams:
                stream.join(timeout=10)


def test_a_burst_waits_its_turn_instead_of_being_refused(evaluator: Evaluator) -> None:
    """A listing page fanning out 300 calls used to get most of them RESOURCE_EXHAUSTED,
    a code the documented retry policy doesn't retry."""
    with serving(LivePack(evaluator)) as server:
        calls = [
            server.stub.Evaluate.future(evaluate_request(str(i), BOOM_GAMING_HEADSET)) for i in range(300)
        ]
        outcomes = []
        for call in calls:
            try:
                outcomes.append(call.result(timeout=20).verdict.category)
            except grpc.RpcError as exc:
                outcomes.append(exc.code().name)
        assert ["headset"] * 300 == outcomes


def test_a_call_queued_too_long_is_refused_at_once_not_at_its_deadline(evaluator: Evaluator) -> None:
    slow = SlowEvaluator(evaluator, seconds=4)
    with serving(LivePack(slow), threads=1, max_queue_seconds=0.5) as server:
        first = server.stub.Evaluate.future(evaluate_request("first", BOOM_GAMING_HEADSET))
        assert slow.started.wait(5)
        started = time.monotonic()
        with pytest.raises(grpc.RpcError) as caught:
            server.stub.Evaluate(evaluate_request("queued", BOOM_GAMING_HEADSET), timeout=10)
        waited = time.monotonic() - started
        assert grpc.StatusCode.RESOURCE_EXHAUSTED == caught.value.code()
        assert "EARMARK_MAX_QUEUE_SECONDS=0.5" in caught.value.details()
        assert 0.4 < waited < 2.0  # its bounded wait, not the 4 s the first call still needs
        assert not first.done()
        assert 1 == server.sample("earmark_rpcs_total", method=EVALUATE, code="RESOURCE_EXHAUSTED")
        slow.seconds = 0
        assert "headset" == first.result(timeout=10).verdict.category


def test_when_full_a_stalled_caller_holds_up_no_refusal(evaluator: Evaluator) -> None:
    """Refusals used to read the request on a single thread: one stalled caller past the
    limit made every later caller wait out its deadline instead of being refused."""
    with serving(LivePack(evaluator), threads=1, max_concurrent_rpcs=2, read_timeout_seconds=30) as server:
        release = threading.Event()
        outcomes: list[str] = []
        stalled = [
            threading.Thread(target=stalled_call, args=(server.address, EVALUATE, release, outcomes))
            for _ in range(3)
        ]
        try:
            for thread in stalled[:2]:
                thread.start()
            assert wait_for(lambda: server.server.admission.workers == 2, 10)  # both hold the limit, stuck
            stalled[2].start()  # past the limit, and it never sends its message either
            assert wait_for(lambda: outcomes == ["RESOURCE_EXHAUSTED"], 5)
            for i in range(5):
                started = time.monotonic()
                with pytest.raises(grpc.RpcError) as caught:
                    server.stub.Evaluate(evaluate_request(f"p{i}", BOOM_GAMING_HEADSET), timeout=3)
                assert grpc.StatusCode.RESOURCE_EXHAUSTED == caught.value.code()
                assert time.monotonic() - started < 1.0
        finally:
            release.set()
            for thread in stalled:
                if thread.ident is not None:
                    thread.join(timeout=10)


def test_health_says_not_serving_while_no_call_can_be_served(evaluator: Evaluator) -> None:
    """Health used to answer SERVING from a pod whose every thread was stuck."""
    slow = SlowEvaluator(evaluator, seconds=3)
    with serving(LivePack(slow), threads=1, max_queue_seconds=10, health_address="127.0.0.1:0") as server:
        server.server.admission.stalled_service_seconds = 0.5
        health_only = grpc.insecure_channel(f"127.0.0.1:{server.server.health_port}")
        try:
            assert health_pb2.HealthCheckResponse.SERVING == _check(server.channel)
            first = server.stub.Evaluate.future(evaluate_request("first", BOOM_GAMING_HEADSET))
            assert slow.started.wait(5)
            waiting = server.stub.Evaluate.future(evaluate_request("waiting", BOOM_GAMING_HEADSET))
            time.sleep(1.0)
            assert health_pb2.HealthCheckResponse.NOT_SERVING == _check(server.channel)
            assert health_pb2.HealthCheckResponse.NOT_SERVING == _check(health_only, "earmark.v1.Earmark")
            # Alive all the same: restarting it would lose the calls it is serving.
            assert health_pb2.HealthCheckResponse.SERVING == _check(health_only, "liveness")
            slow.seconds = 0
            assert "headset" == first.result(timeout=10).verdict.category
            assert "headset" == waiting.result(timeout=10).verdict.category
            assert health_pb2.HealthCheckResponse.SERVING == _check(server.channel)
        finally:
            health_only.close()


def test_a_grpcio_without_the_expected_internals_refuses_to_start(
    evaluator: Evaluator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Admission used to pass every call through, unguarded, when grpcio's runners changed."""
    from earmark.errors import AdmissionUnsupported  # new here: the rest runs on older code
    from earmark.server import admission

    def changed_runner(rpc_event: Any, state: Any, behavior: Any, argument_thunk: Any, **more: Any) -> None:
        raise AssertionError("never called")

    monkeypatch.setattr(grpc_internals, "_unary_response_in_pool", changed_runner)
    admission.verify_grpc_internals.cache_clear()
    try:
        with pytest.raises(AdmissionUnsupported) as caught:
            EarmarkServer(Settings(address="127.0.0.1:0"), LivePack(evaluator))
        message = str(caught.value)
        assert f"grpcio {grpc.__version__}" in message and "_unary_response_in_pool" in message
    finally:
        monkeypatch.undo()
        admission.verify_grpc_internals.cache_clear()
    EarmarkServer(Settings(address="127.0.0.1:0"), LivePack(evaluator)).stop(0)  # the real one passes


def test_one_clients_burst_does_not_hold_up_another_client(evaluator: Evaluator) -> None:
    """Calls were taken first come, first served: a caller arriving just after another's
    burst of 100 waited for all of them. Clients (connections) now take turns."""
    slow = SlowEvaluator(evaluator, seconds=0.01)
    with serving(LivePack(slow), threads=1, max_queue_seconds=10) as server:
        burst = [
            server.stub.Evaluate.future(evaluate_request(str(i), BOOM_GAMING_HEADSET)) for i in range(100)
        ]
        assert slow.started.wait(5)
        with grpc.insecure_channel(server.address, options=[("grpc.use_local_subchannel_pool", 1)]) as other:
            started = time.monotonic()
            answer = EarmarkStub(other).Evaluate(evaluate_request("other", BOOM_GAMING_HEADSET), timeout=10)
            waited = time.monotonic() - started
        pending = sum(not call.done() for call in burst)
        assert "headset" == answer.verdict.category
        assert waited < 0.3 and pending > 50, (waited, pending)  # first come, first served: ~1 s, 0
        assert all("headset" == call.result(timeout=10).verdict.category for call in burst)


def test_callers_that_never_send_their_message_do_not_make_health_say_not_serving(
    evaluator: Evaluator,
) -> None:
    """Found by the soak: a worker that had only stalled callers (no one else) answered
    NOT_SERVING, though its threads were free. They wait for their client, not for it."""
    with serving(LivePack(evaluator), threads=1, read_timeout_seconds=30) as server:
        server.server.admission.stalled_service_seconds = 0.5
        release = threading.Event()
        outcomes: list[str] = []
        stalled = [
            threading.Thread(target=stalled_call, args=(server.address, EVALUATE, release, outcomes))
            for _ in range(3)
        ]
        try:
            for thread in stalled:
                thread.start()
            assert wait_for(lambda: server.server.admission.calls.held == 3, 10), (
                server.server.admission.workers
            )
            time.sleep(1.0)
            assert health_pb2.HealthCheckResponse.SERVING == _check(server.channel)
            assert (
                "headset"
                == server.stub.Evaluate(
                    evaluate_request("p", BOOM_GAMING_HEADSET), timeout=5
                ).verdict.category
            )
        finally:
            release.set()
            for thread in stalled:
                thread.join(timeout=10)
