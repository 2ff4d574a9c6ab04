"""Where protobuf meets the domain (server/wire.py). Reading a request looks at the
attributes the pack declares and only a bounded number of the others, however many it
carries. Partial responses (AIP-157), over a real channel: `read_mask` fills only the
Verdict fields asked for, skips composing the explanations nobody asked for, and names a
path that isn't a field."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2

from earmark.evaluation.evaluator import Evaluator
from earmark.evaluation.request_notes import NAMES_LOOKED_AT, RequestNotes
from earmark.server.wire import struct_values
from earmark.v1 import earmark_pb2 as pb

from helpers import RunningServer, evaluate_request, product, struct

HEADSET = {"mic": "boom", "connectivity": ["wireless_dongle"], "weight_g": 280, "price_usd": 120}


class CountedFields(dict[str, Any]):
    """A Struct's fields that count the names read one by one (by iterating them)."""

    read = 0

    def __iter__(self) -> Iterator[str]:
        for name in super().__iter__():
            self.read += 1
            yield name

    def items(self) -> Iterator[tuple[str, Any]]:  # type: ignore[override]
        for name in self:
            yield name, self[name]


def test_a_request_with_20000_undeclared_names_is_read_only_as_far_as_they_are_checked(
    evaluator: Evaluator,
) -> None:
    """Every name used to be read: 100,000 of them held a worker's GIL for ~50 ms."""
    sent = struct({"mic": "boom", "weight_g": None, **{f"junk_{i:05d}": i for i in range(20_000)}})
    fields = CountedFields(sent.fields)
    notes = RequestNotes(evaluator.validator, strict=False)
    values = struct_values(SimpleNamespace(fields=fields), evaluator.validator.spec_names, notes)  # type: ignore[arg-type]
    assert {"mic": "boom"} == values  # null counts as absent
    assert fields.read <= NAMES_LOOKED_AT + 2
    checked = {name for _, name in notes.undeclared}
    assert NAMES_LOOKED_AT == len(checked) and all(name.startswith("junk_") for name in checked)
    assert f"{20_000 - NAMES_LOOKED_AT} more attributes" in notes.warnings[-1]


@pytest.mark.parametrize("padding", [0, 3, 40], ids=["declared only", "a few more", "more than declared"])
def test_a_struct_reads_the_same_however_many_names_it_carries(evaluator: Evaluator, padding: int) -> None:
    """A Struct with no more names than the pack declares is read in one pass over its
    names, a bigger one by looking up each declared name: the same values, warnings and
    undeclared names either way."""
    sent = {
        "mic": "boom",
        "weight_g": None,
        "micc": "boom",  # a near miss
        "price_usd": 99.0,
        **{f"extra_{i}": i for i in range(padding)},
    }
    declared = evaluator.validator.spec_names
    assert (len(sent) > len(declared)) == (padding == 40)  # both ways are taken
    notes = RequestNotes(evaluator.validator, strict=False)
    values = struct_values(struct(sent), declared, notes)
    assert {"mic": "boom", "price_usd": 99.0} == values
    assert {("specs", "micc")} | {("specs", f"extra_{i}") for i in range(padding)} == set(notes.undeclared)
    assert 1 == len(notes.warnings) and "did you mean 'mic'?" in notes.warnings[0], notes.warnings


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
