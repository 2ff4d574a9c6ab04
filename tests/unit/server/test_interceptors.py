"""The interceptor's handlers, made once per method (server/interceptors.py), and the
request id it gives each call. What a client meets of it (statuses, log lines, metrics)
is tested over real channels in test_server.py and test_metrics.py."""

from __future__ import annotations

import collections
import re
from typing import Any

import grpc
import pytest
from structlog.testing import capture_logs

from earmark.evaluation.evaluator import Evaluator
from earmark.server.interceptors import CallInterceptor, request_id_from
from earmark.server.live import LivePack
from earmark.server.metrics import Metrics
from earmark.v1 import earmark_pb2 as pb

from helpers import evaluate_request, serving

Details = collections.namedtuple("Details", "method invocation_metadata")
METHOD = "/earmark.v1.Earmark/Evaluate"


class _Context:
    """The two things a successful call asks of its context."""

    def __init__(self) -> None:
        self.trailing: tuple[tuple[str, str], ...] = ()

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return ()

    def set_trailing_metadata(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self.trailing = metadata


def _registered(label: str) -> Any:
    return grpc.unary_unary_rpc_method_handler(
        lambda request, context: pb.EvaluateResponse(verdict=pb.Verdict(label=label)),
        pb.EvaluateRequest.FromString,
        pb.EvaluateResponse.SerializeToString,
    )


def _answer(interceptor: CallInterceptor, registered: Any) -> tuple[Any, str]:
    handler = interceptor.intercept_service(lambda _details: registered, Details(METHOD, ()))
    return handler, handler.unary_unary(pb.EvaluateRequest(), _Context()).verdict.label


def test_a_method_is_wrapped_once_and_again_if_its_handler_changes() -> None:
    interceptor = CallInterceptor(1 << 20, Metrics())
    first, second = _registered("first"), _registered("second")
    handler, label = _answer(interceptor, first)
    again, label_again = _answer(interceptor, first)
    assert again is handler
    assert ("first", "first") == (label, label_again)
    changed, changed_label = _answer(interceptor, second)
    assert changed is not handler
    assert "second" == changed_label


def test_a_call_gets_the_callers_request_id_or_a_fresh_one() -> None:
    assert "abc-123" == request_id_from((("x-request-id", "abc-123"),))
    fresh = {request_id_from((("x-request-id", "bad\nid"),)), request_id_from(()), request_id_from(None)}
    assert 3 == len(fresh)
    assert all(re.fullmatch(r"[0-9a-f]{32}", request_id) for request_id in fresh), fresh


def test_sampled_out_rpc_lines_spare_errors_and_slow_calls(evaluator: Evaluator) -> None:
    good = evaluate_request("p1", {"mic": "boom"})
    bad = evaluate_request("p2", {"mic": "laser"})
    with serving(LivePack(evaluator), log_sample=0.0) as server, capture_logs() as logs:
        for _ in range(3):
            server.stub.Evaluate(good)
        with pytest.raises(grpc.RpcError):
            server.stub.Evaluate(bad)
    assert [line["status"] for line in logs if line["event"] == "rpc"] == ["INVALID_ARGUMENT"]
    with (
        serving(LivePack(evaluator), log_sample=0.0, slow_call_seconds=1e-9) as server,
        capture_logs() as logs,
    ):
        server.stub.Evaluate(good)
    (slow,) = [line for line in logs if line["event"] == "rpc"]
    assert slow["status"] == "OK" and slow["slow"] is True
