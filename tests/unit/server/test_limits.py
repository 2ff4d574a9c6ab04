"""Limits, each with a safe default and answered with its own status code: message size,
batch size (see test_server), concurrent calls, and a deadline for clients that set none."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import grpc
import pytest

from earmark.errors import DeadlineExceeded
from earmark.evaluation.evaluator import Evaluator
from earmark.server.live import LivePack
from earmark.server.metrics import Metrics
from earmark.server.servicer import EarmarkServicer
from earmark.v1 import earmark_pb2 as pb

from helpers import BOOM_GAMING_HEADSET, SlowEvaluator, evaluate_request, product, serving


def test_a_message_over_the_size_limit_is_resource_exhausted(evaluator: Evaluator) -> None:
    with serving(LivePack(evaluator), max_message_bytes=2048) as server:
        with pytest.raises(grpc.RpcError) as caught:
            server.stub.Evaluate(evaluate_request("big", {"mic": "boom", "notes": "x" * 4000}))
        assert grpc.StatusCode.RESOURCE_EXHAUSTED == caught.value.code()
        assert "larger than max" in caught.value.details() and "2048" in caught.value.details()
        assert "headset" == server.stub.Evaluate(evaluate_request("small", {"mic": "boom"})).verdict.category


def test_calls_past_the_concurrency_limit_are_refused_not_queued(evaluator: Evaluator) -> None:
    slow = SlowEvaluator(evaluator, seconds=2.0)
    # One handler thread, busy with the admitted call: a refusal that queued for a thread
    # would only come after that call ends.
    with serving(LivePack(slow), max_concurrent_rpcs=1, threads=1) as server:  # type: ignore[arg-type]
        first = server.stub.Evaluate.future(evaluate_request("first", BOOM_GAMING_HEADSET))
        assert slow.started.wait(5)
        with pytest.raises(grpc.RpcError) as caught:
            server.stub.Evaluate(evaluate_request("second", BOOM_GAMING_HEADSET), timeout=5)
        assert not first.done(), "the refusal waited behind the admitted call"
        assert grpc.StatusCode.RESOURCE_EXHAUSTED == caught.value.code()
        assert "EARMARK_MAX_CONCURRENT_RPCS=1" in caught.value.details()
        assert 1 == server.sample(
            "earmark_rpcs_total", method="/earmark.v1.Earmark/Evaluate", code="RESOURCE_EXHAUSTED"
        )  # counted like any other call
        assert "headset" == first.result(timeout=5).verdict.category  # the admitted call is unharmed
        slow.seconds = 0
        # Its slot is free again: the next call is admitted.
        assert (
            "headset" == server.stub.Evaluate(evaluate_request("third", BOOM_GAMING_HEADSET)).verdict.category
        )


def test_a_batch_without_a_deadline_stops_at_the_servers_default(evaluator: Evaluator) -> None:
    slow = SlowEvaluator(evaluator, seconds=0.2)
    with serving(LivePack(slow), default_deadline_seconds=0.3) as server:  # type: ignore[arg-type]
        batch = pb.EvaluateBatchRequest(products=[product(str(i), BOOM_GAMING_HEADSET) for i in range(5)])
        with pytest.raises(grpc.RpcError) as caught:
            server.stub.EvaluateBatch(batch)
        assert grpc.StatusCode.DEADLINE_EXCEEDED == caught.value.code()
        details = caught.value.details()
        assert "of 5 products" in details and "EARMARK_DEFAULT_DEADLINE_SECONDS" in details
        short = pb.EvaluateBatchRequest(products=[product("a", BOOM_GAMING_HEADSET)])
        assert 1 == len(server.stub.EvaluateBatch(short).items)


def test_a_clients_own_deadline_wins_over_the_default(evaluator: Evaluator) -> None:
    slow = SlowEvaluator(evaluator, seconds=0.2)
    with serving(LivePack(slow), default_deadline_seconds=60) as server:  # type: ignore[arg-type]
        batch = pb.EvaluateBatchRequest(products=[product(str(i), BOOM_GAMING_HEADSET) for i in range(20)])
        with pytest.raises(grpc.RpcError) as caught:
            server.stub.EvaluateBatch(batch, timeout=0.5)
        assert grpc.StatusCode.DEADLINE_EXCEEDED == caught.value.code()


def test_a_client_that_goes_away_mid_batch_frees_the_worker(evaluator: Evaluator) -> None:
    slow = SlowEvaluator(evaluator, seconds=0.01)  # 500 products: 5 s if nobody stops it
    with serving(LivePack(slow), threads=1) as server:  # type: ignore[arg-type]
        batch = pb.EvaluateBatchRequest(products=[product(str(i), BOOM_GAMING_HEADSET) for i in range(500)])
        abandoned = server.stub.EvaluateBatch.future(batch)
        assert slow.started.wait(5)
        abandoned.cancel()
        started = time.monotonic()
        # The only handler thread must come free well before the batch would have ended.
        answer = server.stub.Evaluate(evaluate_request("next", BOOM_GAMING_HEADSET), timeout=3)
        assert "headset" == answer.verdict.category
        assert time.monotonic() - started < 2


class _CallerGone:
    """A ServicerContext at the boundary: a call whose deadline has passed."""

    def time_remaining(self) -> float:
        return 0.0

    def is_active(self) -> bool:
        return True


def test_a_single_evaluate_stops_reading_once_its_deadline_has_passed(evaluator: Evaluator) -> None:
    """One Evaluate with 100,000 undeclared names used to be read to the end and logged OK
    long after its caller had given up."""
    servicer = EarmarkServicer(LivePack(evaluator), 500, 5.0, Metrics())
    request = evaluate_request("big", {"mic": "boom", **{f"junk_{i}": i for i in range(5000)}})
    call: Callable[..., Any] = servicer.Evaluate
    with pytest.raises(DeadlineExceeded) as caught:
        call(request, _CallerGone())
    assert "past the call's deadline" in str(caught.value)
    small = evaluate_request("small", BOOM_GAMING_HEADSET)  # too short to be worth a check
    assert "small" == pb.EvaluateResponse.FromString(call(small, _CallerGone())).verdict.product_id
