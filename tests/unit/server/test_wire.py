"""Partial responses (AIP-157), over a real channel: `read_mask` fills only the Verdict
fields asked for, skips composing the explanations nobody asked for, and names a path
that isn't a field."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import field_mask_pb2

from earmark.v1 import earmark_pb2 as pb

from helpers import RunningServer, evaluate_request, product

HEADSET = {"mic": "boom", "connectivity": ["wireless_dongle"], "weight_g": 280, "price_usd": 120}


def _masked(paths: list[str], shopper: dict[str, object] | None = None) -> pb.EvaluateRequest:
    request = evaluate_request("p", HEADSET, shopper)
    request.read_mask.CopyFrom(field_mask_pb2.FieldMask(paths=paths))
    return request


def test_scores_only_carries_the_same_numbers_and_no_words(running: RunningServer) -> None:
    full = running.stub.Evaluate(evaluate_request("p", HEADSET, {"uses": ["calls"]}), timeout=10).verdict
    paths = ["category", "scores.use_case", "scores.score", "fit.score"]
    part = running.stub.Evaluate(_masked(paths, {"uses": ["calls"]}), timeout=10).verdict
    assert full.category == part.category
    assert [(s.use_case, s.score) for s in full.scores] == [(s.use_case, s.score) for s in part.scores]
    assert full.fit.score == part.fit.score
    assert ("", "", "", "") == (part.explanation, part.label, part.product_id, part.fit.explanation)
    assert {""} == {s.explanation for s in part.scores} | {s.title for s in part.scores}
    assert full.explanation and all(s.explanation for s in full.scores)


def test_asking_for_one_explanation_composes_it_as_the_full_verdict_does(running: RunningServer) -> None:
    full = running.stub.Evaluate(evaluate_request("p", HEADSET), timeout=10).verdict
    part = running.stub.Evaluate(_masked(["explanation", "scores"]), timeout=10).verdict
    assert full.explanation == part.explanation
    assert list(full.scores) == list(part.scores)
    assert "" == part.category


def test_a_batch_applies_the_mask_to_every_verdict(running: RunningServer) -> None:
    request = pb.EvaluateBatchRequest(products=[product("a", HEADSET), product("b", {"mic": "none"})])
    request.read_mask.CopyFrom(field_mask_pb2.FieldMask(paths=["product_id", "category"]))
    items = running.stub.EvaluateBatch(request, timeout=10).items
    assert [("a", "headset", 0), ("b", "headphones", 0)] == [
        (i.verdict.product_id, i.verdict.category, len(i.verdict.scores)) for i in items
    ]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("categroy", "read_mask.paths='categroy': not a field of Verdict (did you mean 'category'?)"),
        (
            "scores.points",
            "read_mask.paths='scores.points': not a field of scores; scores has: use_case, title, score, explanation",
        ),
        ("category.id", "read_mask.paths='category.id': not a field of category; category has no fields"),
    ],
)
def test_a_path_that_is_not_a_field_is_invalid_argument(
    running: RunningServer, path: str, message: str
) -> None:
    with pytest.raises(grpc.RpcError) as refused:
        running.stub.Evaluate(_masked([path]), timeout=10)
    assert grpc.StatusCode.INVALID_ARGUMENT == refused.value.code()
    assert message == refused.value.details()
