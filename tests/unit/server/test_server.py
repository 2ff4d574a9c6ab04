"""End to end over a real gRPC channel: every RPC, every error path, health, trailers."""

from __future__ import annotations

import math
import threading

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from earmark.errors import EngineFailure
from earmark.evaluation.evaluator import Evaluator
from earmark.server.live import LivePack
from earmark.v1 import earmark_pb2 as pb

from helpers import (
    ANC_HEADPHONES,
    BOOM_GAMING_HEADSET,
    FailingEvaluator,
    RunningServer,
    SlowEvaluator,
    evaluate_request,
    product,
    serving,
    struct,
    wait_for,
)


def test_boom_mic_gaming_headset_is_a_headset_with_seven_explained_scores(running: RunningServer) -> None:
    """The issue's acceptance call: a boom-mic gaming headset."""
    verdict = running.stub.Evaluate(evaluate_request("hs-1", BOOM_GAMING_HEADSET)).verdict
    assert "headset" == verdict.category
    assert "hs-1" == verdict.product_id
    assert ["music", "gaming_solo", "gaming_social", "meetings", "calls", "call_center", "commute"] == [
        s.use_case for s in verdict.scores
    ]
    assert all(s.explanation and s.title for s in verdict.scores)
    assert all(0 <= s.score <= 100 for s in verdict.scores)
    assert verdict.explanation and len(verdict.explanation) <= 300
    assert verdict.ruleset_version.startswith("audio-")
    assert not verdict.HasField("fit")
    assert [] == list(verdict.trace)


def test_shopper_context_adds_a_fit_that_speaks_to_the_shopper(running: RunningServer) -> None:
    shopper = {"uses": ["music", "commute"], "budget_usd": 150, "priorities": ["noise_cancelling"]}
    verdict = running.stub.Evaluate(evaluate_request("p", ANC_HEADPHONES, shopper)).verdict
    assert verdict.HasField("fit")
    assert "$150 budget" in verdict.fit.explanation
    assert 0 <= verdict.fit.score <= 100


def test_trace_lists_every_effect_with_signed_amounts(running: RunningServer) -> None:
    verdict = running.stub.Evaluate(evaluate_request("p", BOOM_GAMING_HEADSET, trace=True)).verdict
    hits = {(h.rule_id, h.use_case): h for h in verdict.trace}
    boom = hits[("boom-mic-for-talking", "meetings")]
    assert 22 == boom.amount
    assert "meetings +22" == boom.effect
    assert "boom mic" in boom.fragment
    assert any(h.rule_id == "boom-mic-makes-a-headset" and "decided" in h.effect for h in verdict.trace)
    assert any(h.amount < 0 for h in verdict.trace)


def test_undeclared_attributes_are_ignored(running: RunningServer) -> None:
    specs = {**BOOM_GAMING_HEADSET, "colour": "black", "sku_weight": {"nested": [1, 2]}}
    assert "headset" == running.stub.Evaluate(evaluate_request("p", specs)).verdict.category


@pytest.mark.parametrize(
    ("specs", "shopper", "expected"),
    [
        ({"mic": "boom_arm"}, None, "specs.mic='boom_arm'"),
        ({"battery_hours": -3}, None, "specs.battery_hours=-3"),
        ({"battery_hours": math.inf}, None, "specs.battery_hours=inf"),
        ({"weight_g": math.nan}, None, "specs.weight_g=nan"),
        ({"price_usd": "cheap"}, None, "specs.price_usd='cheap'"),
        ({"connectivity": "bluetooth"}, None, "specs.connectivity='bluetooth'"),
        ({"connectivity": ["wifi"]}, None, "specs.connectivity.0='wifi'"),
        ({"detachable_cable": 1}, None, "specs.detachable_cable=1"),
        ({}, {"uses": ["karaoke"]}, "shopper.uses.0='karaoke'"),
        ({}, {"hours_per_day": 25}, "shopper.hours_per_day=25"),
        ({}, {"environment": "space"}, "shopper.environment='space'"),
    ],
)
def test_bad_values_get_invalid_argument_naming_field_and_value(
    running: RunningServer, specs: dict, shopper: dict | None, expected: str
) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        running.stub.Evaluate(evaluate_request("p", specs, shopper))
    assert grpc.StatusCode.INVALID_ARGUMENT == caught.value.code()
    assert expected in caught.value.details()


def test_missing_product_is_invalid_argument(running: RunningServer) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        running.stub.Evaluate(pb.EvaluateRequest())
    assert grpc.StatusCode.INVALID_ARGUMENT == caught.value.code()
    assert "product" in caught.value.details()


def test_batch_keeps_order_and_isolates_a_bad_product(running: RunningServer) -> None:
    request = pb.EvaluateBatchRequest(
        products=[
            product("a", BOOM_GAMING_HEADSET),
            product("bad", {"mic": "laser"}),
            product("c", ANC_HEADPHONES),
        ],
        shopper=struct({"uses": ["calls"]}),
    )
    items = running.stub.EvaluateBatch(request).items
    assert ["a", "bad", "c"] == [i.product_id for i in items]
    assert ["verdict", "error", "verdict"] == [i.WhichOneof("result") for i in items]
    assert "INVALID_ARGUMENT" == items[1].error.code
    assert "specs.mic='laser'" in items[1].error.message
    assert "headset" == items[0].verdict.category
    assert "headphones" == items[2].verdict.category
    assert items[0].verdict.HasField("fit")


def test_batch_over_the_limit_names_the_limit(running: RunningServer) -> None:
    request = pb.EvaluateBatchRequest(products=[product(str(i), {}) for i in range(51)])
    with pytest.raises(grpc.RpcError) as caught:
        running.stub.EvaluateBatch(request)
    assert grpc.StatusCode.INVALID_ARGUMENT == caught.value.code()
    assert "batch limit of 50" in caught.value.details()


def test_batch_with_a_bad_shopper_is_rejected_whole(running: RunningServer) -> None:
    request = pb.EvaluateBatchRequest(products=[product("a", {})], shopper=struct({"budget_usd": -1}))
    with pytest.raises(grpc.RpcError) as caught:
        running.stub.EvaluateBatch(request)
    assert grpc.StatusCode.INVALID_ARGUMENT == caught.value.code()
    assert "shopper.budget_usd=-1" in caught.value.details()


def test_describe_rules_exposes_the_vocabulary(running: RunningServer) -> None:
    described = running.stub.DescribeRules(pb.DescribeRulesRequest())
    assert described.ruleset_version.startswith("audio-")
    assert {"headphones", "headset", "unclassified"} == {c.id for c in described.categories}
    assert 7 == len(described.use_cases)
    mic = next(a for a in described.specs if a.name == "mic")
    assert pb.Attribute.ENUM == mic.type
    assert "retractable_boom" in mic.allowed_values
    hours = next(a for a in described.shopper if a.name == "hours_per_day")
    assert (0, 24) == (hours.minimum, hours.maximum)
    assert 50 == described.max_batch_size
    assert described.rule_count > 50
    assert described.loaded_at.seconds > 0


def test_health_is_serving_and_request_id_comes_back(running: RunningServer) -> None:
    health = health_pb2_grpc.HealthStub(running.channel)
    for service in ("", "earmark.v1.Earmark"):
        answer = health.Check(health_pb2.HealthCheckRequest(service=service))
        assert health_pb2.HealthCheckResponse.SERVING == answer.status
    _, call = running.stub.Evaluate.with_call(
        evaluate_request("p", {}), metadata=(("x-request-id", "req-42"),)
    )
    assert ("x-request-id", "req-42") in tuple(call.trailing_metadata())


@pytest.mark.parametrize("error", [EngineFailure("assert_fact returned 301"), RuntimeError("boom")])
def test_engine_failures_become_internal_with_the_request_id_and_serving_goes_on(
    evaluator: Evaluator, error: Exception
) -> None:
    with serving(LivePack(FailingEvaluator(evaluator, error))) as server:  # type: ignore[arg-type]
        with pytest.raises(grpc.RpcError) as caught:
            server.stub.Evaluate(evaluate_request("p", {}), metadata=(("x-request-id", "trace-me"),))
        assert grpc.StatusCode.INTERNAL == caught.value.code()
        assert "trace-me" in caught.value.details()
        assert "301" not in caught.value.details() and "boom" not in caught.value.details()
        items = server.stub.EvaluateBatch(pb.EvaluateBatchRequest(products=[product("a", {})])).items
        assert "INTERNAL" == items[0].error.code
        assert (
            "trace-me" not in items[0].error.message
            and "internal error (request id" in items[0].error.message
        )
        assert server.stub.DescribeRules(pb.DescribeRulesRequest()).ruleset_version


def test_calls_before_a_pack_is_loaded_are_unavailable_and_health_says_not_serving() -> None:
    with serving(LivePack()) as server:
        with pytest.raises(grpc.RpcError) as caught:
            server.stub.Evaluate(evaluate_request("p", {}))
        assert grpc.StatusCode.UNAVAILABLE == caught.value.code()
        health = health_pb2_grpc.HealthStub(server.channel)
        assert (
            health_pb2.HealthCheckResponse.NOT_SERVING == health.Check(health_pb2.HealthCheckRequest()).status
        )


def test_stopping_drains_in_flight_calls_and_turns_health_not_serving(evaluator: Evaluator) -> None:
    slow = SlowEvaluator(evaluator)
    with serving(LivePack(slow)) as server:  # type: ignore[arg-type]
        # A watcher connected before the stop sees the status change (new checks are refused).
        watch = health_pb2_grpc.HealthStub(server.channel).Watch(health_pb2.HealthCheckRequest(service=""))
        assert health_pb2.HealthCheckResponse.SERVING == next(watch).status
        in_flight = server.stub.Evaluate.future(evaluate_request("slow", BOOM_GAMING_HEADSET))
        assert slow.started.wait(5)
        stopper = threading.Thread(target=server.server.stop, kwargs={"grace": 5})
        stopper.start()
        assert health_pb2.HealthCheckResponse.NOT_SERVING == next(watch).status  # the drain has begun

        def refused() -> bool:
            try:
                server.stub.Evaluate(evaluate_request("late", {}), timeout=2)
            except grpc.RpcError:
                return True
            return False

        assert wait_for(refused, 5)  # new calls are refused while draining
        watch.cancel()  # a watch never ends by itself and would hold the drain to its grace
        assert "headset" == in_flight.result(timeout=5).verdict.category  # the in-flight call finished
        stopper.join(timeout=10)
        assert not stopper.is_alive()
        server.channel.close()


def test_explanations_come_in_the_shoppers_language(running: RunningServer) -> None:
    request = evaluate_request("p", BOOM_GAMING_HEADSET, {"budget_usd": 100})
    request.locale = "de-DE"
    verdict = running.stub.Evaluate(request).verdict
    assert "Kabelloses Gaming-Headset" == verdict.label
    assert "Spielen mit Freunden" == verdict.scores[2].title
    assert verdict.scores[3].explanation.startswith(
        "Gut für Online-Besprechungen, Stärken: ein Bügelmikrofon"
    )
    assert "über Ihrem Budget von 100 $" in verdict.fit.explanation
    assert "headset" == verdict.category  # ids never change with the language


@pytest.mark.parametrize("tag", ["fr-FR", "en-GB", ""])
def test_other_languages_fall_back_to_the_packs_default(running: RunningServer, tag: str) -> None:
    request = evaluate_request("p", BOOM_GAMING_HEADSET)
    request.locale = tag
    assert "Wireless gaming headset" == running.stub.Evaluate(request).verdict.label


def test_a_malformed_locale_is_invalid_argument(running: RunningServer) -> None:
    request = evaluate_request("p", {})
    request.locale = "de DE!"
    with pytest.raises(grpc.RpcError) as caught:
        running.stub.Evaluate(request)
    assert grpc.StatusCode.INVALID_ARGUMENT == caught.value.code()
    assert "locale='de DE!'" in caught.value.details()


def test_a_batch_is_written_in_its_locale_and_describe_lists_the_locales(running: RunningServer) -> None:
    batch = pb.EvaluateBatchRequest(products=[product("a", BOOM_GAMING_HEADSET)], locale="de")
    assert "Kabelloses Gaming-Headset" == running.stub.EvaluateBatch(batch).items[0].verdict.label
    assert ["en", "de"] == list(running.stub.DescribeRules(pb.DescribeRulesRequest()).locales)
