"""No silent wrong answers, over a real channel: an undeclared attribute close to a
declared one, a Value with no kind set and an empty Struct come back as warnings in the
verdict; strict mode (per request, or EARMARK_STRICT for the server) refuses them; an
empty product id is refused; a batch answers every slot, duplicates too; and undeclared
names are counted in the metrics with bounded label values."""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.protobuf import struct_pb2

from earmark.evaluation import validation
from earmark.evaluation.evaluator import Evaluator
from earmark.evaluation.request_notes import NAMES_LOOKED_AT
from earmark.server.live import LivePack
from earmark.server.metrics import UNDECLARED_NAMES
from earmark.v1 import earmark_pb2 as pb

from helpers import RunningServer, evaluate_request, product, serving, struct

MICC = "specs.micc is not an attribute of this pack and was ignored (did you mean 'mic'?)"


def _evaluate(running: RunningServer, request: pb.EvaluateRequest) -> pb.Verdict:
    return running.stub.Evaluate(request, timeout=10).verdict


def test_a_near_miss_of_a_spec_or_shopper_attribute_is_a_warning(running: RunningServer) -> None:
    verdict = _evaluate(running, evaluate_request("p", {"micc": "boom", "colour": "red"}, {"budget": 100}))
    assert "unclassified" == verdict.category  # as before: nothing declared was sent
    assert [
        "shopper.budget is not an attribute of this pack and was ignored (did you mean 'budget_usd'?)",
        MICC,
    ] == list(verdict.warnings)  # colour is close to nothing: catalogs carry such fields


def test_a_clean_request_has_no_warnings(running: RunningServer) -> None:
    assert [] == list(_evaluate(running, evaluate_request("p", {"mic": "boom", "colour": "red"})).warnings)


def test_a_value_with_no_kind_and_an_empty_struct_are_warnings(running: RunningServer) -> None:
    request = evaluate_request("p", {"form_factor": "over_ear"})
    request.product.specs.fields["mic"].CopyFrom(
        struct_pb2.Value()
    )  # no kind: what a JS {string_value} becomes
    (warning,) = _evaluate(running, request).warnings
    assert warning.startswith("specs.mic has no value: none of the google.protobuf.Value kinds is set")
    (empty,) = _evaluate(running, pb.EvaluateRequest(product=pb.Product(id="p"))).warnings
    assert empty.startswith("specs carries no attributes")


def test_strict_mode_refuses_what_would_be_ignored(running: RunningServer) -> None:
    for specs, field in (({"micc": "boom"}, "specs.micc"), ({"colour": "red"}, "specs.colour")):
        request = evaluate_request("p", specs)
        request.strict = True
        with pytest.raises(grpc.RpcError) as refused:
            _evaluate(running, request)
        assert grpc.StatusCode.INVALID_ARGUMENT == refused.value.code()
        assert refused.value.details().startswith(f"{field}: not an attribute of this pack")


def test_a_strict_server_refuses_every_request_so(evaluator: Evaluator) -> None:
    with serving(LivePack(evaluator), strict=True) as strict:
        with pytest.raises(grpc.RpcError) as refused:
            _evaluate(strict, evaluate_request("p", {"micc": "boom"}))
        assert (
            "specs.micc: not an attribute of this pack (did you mean 'mic'?) (strict mode)"
            == refused.value.details()
        )
        batch = strict.stub.EvaluateBatch(
            pb.EvaluateBatchRequest(products=[product("a", {"mic": "boom"}), product("b", {"micc": "boom"})]),
            timeout=10,
        )
        assert ["verdict", "error"] == [item.WhichOneof("result") for item in batch.items]


def test_an_empty_product_id_is_refused(running: RunningServer) -> None:
    with pytest.raises(grpc.RpcError) as refused:
        _evaluate(running, evaluate_request("", {"mic": "boom"}))
    assert grpc.StatusCode.INVALID_ARGUMENT == refused.value.code()
    assert refused.value.details().startswith("product.id='': every product needs an id")
    batch = running.stub.EvaluateBatch(
        pb.EvaluateBatchRequest(products=[product("a", {"mic": "boom"}), product("", {"mic": "boom"})]),
        timeout=10,
    )
    assert "verdict" == batch.items[0].WhichOneof("result")
    assert ("INVALID_ARGUMENT", True) == (
        batch.items[1].error.code,
        batch.items[1].error.message.startswith("product.id=''"),
    )


def test_duplicate_ids_in_a_batch_are_each_answered_in_their_slot(running: RunningServer) -> None:
    products = [product("a", {"mic": "boom"}), product("a", {"mic": "none"}), product("a", {"mic": "boom"})]
    items = running.stub.EvaluateBatch(pb.EvaluateBatchRequest(products=products), timeout=10).items
    assert ["a", "a", "a"] == [item.product_id for item in items]
    assert ["headset", "headphones", "headset"] == [item.verdict.category for item in items]


def test_batch_verdicts_carry_the_pages_shopper_warnings_and_their_own(running: RunningServer) -> None:
    request = pb.EvaluateBatchRequest(
        products=[product("a", {"micc": "boom"}), product("b", {"mic": "boom"})]
    )
    request.shopper.CopyFrom(struct({"budget": 100}))
    items = running.stub.EvaluateBatch(request, timeout=10).items
    budget = "shopper.budget is not an attribute of this pack and was ignored (did you mean 'budget_usd'?)"
    assert [[budget, MICC], [budget]] == [list(item.verdict.warnings) for item in items]


def test_undeclared_names_are_counted_with_bounded_labels(evaluator: Evaluator) -> None:
    with serving(LivePack(evaluator)) as fresh:
        _evaluate(fresh, evaluate_request("p", {"micc": "boom", "ean": "4006381333931"}))
        _evaluate(fresh, evaluate_request("q", {"ean": "4006381333932"}))
        count = fresh.server.metrics.registry.get_sample_value
        total = "earmark_undeclared_attributes_total"
        assert 1 == count(total, {"section": "specs", "name": "micc"})
        assert 2 == count(total, {"section": "specs", "name": "ean"})
        # A client inventing a name per request must not grow the label set.
        for i in range(UNDECLARED_NAMES + 30):
            _evaluate(fresh, evaluate_request("p", {f"made_up_{i}": 1}))
        names = {
            sample.labels["name"]
            for metric in fresh.server.metrics.registry.collect()
            if metric.name == "earmark_undeclared_attributes"
            for sample in metric.samples
            if sample.name.endswith("_total")
        }
        assert len(names) == UNDECLARED_NAMES + 1 and "other" in names
        assert 32 == count(total, {"section": "specs", "name": "other"})


def _counting_near_misses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names whose near misses are really looked for (the memo spares the rest)."""
    looked: list[str] = []
    real = validation.did_you_mean

    def counting(name: str, options: object, **kwargs: object) -> str:
        looked.append(name)
        return real(name, options, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(validation, "did_you_mean", counting)
    return looked


def test_a_request_of_junk_names_does_not_spoil_the_memo_for_catalog_traffic(
    evaluator: Evaluator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Was: the memo kept the first 10,000 names it saw, so after one request of junk every
    catalog page looked for near misses of its extra fields again (13-16x slower)."""
    validator = validation.RequestValidator(evaluator.pack)
    for i in range(validation.MAX_REMEMBERED_NAMES + 1):
        validator.near_miss("specs", f"junk-{i}")
    catalog = [f"catalog_field_{i}" for i in range(200)]
    looked = _counting_near_misses(monkeypatch)
    for _ in range(3):  # three products of a page, each with the same extra fields
        for name in catalog:
            validator.near_miss("specs", name)
    assert catalog == looked  # once each, then remembered


def test_past_a_few_hundred_undeclared_names_the_rest_are_counted_not_checked(
    running: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Was: 100,000 invented names cost 11 s of CPU in one Evaluate."""
    looked = _counting_near_misses(monkeypatch)
    specs = {"mic": "boom", **{f"invented-{uuid.uuid4().hex}": 1 for _ in range(3_000)}}
    verdict = _evaluate(running, evaluate_request("p", specs))
    assert "headset" == verdict.category
    assert NAMES_LOOKED_AT == len(looked)
    assert [
        f"{3_000 - NAMES_LOOKED_AT} more attributes this pack doesn't declare were ignored without a "
        f"check for near misses (only the first {NAMES_LOOKED_AT} are checked)"
    ] == list(verdict.warnings)
