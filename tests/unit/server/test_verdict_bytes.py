"""Verdict bytes kept for the composition memo's copies (server/verdict_bytes.py) are, byte
for byte, what filling the message and serializing it make: for every example product of
the bundled pack, under every read mask, with and without warnings, asked first and then
for a copy under another product id."""

from __future__ import annotations

import dataclasses

import pytest
from google.protobuf import field_mask_pb2

from earmark.config import BUNDLED_RULES
from earmark.evaluation.evaluator import Evaluator
from earmark.evaluation.verdict import Verdict
from earmark.server.verdict_bytes import VerdictBytes
from earmark.server.wire import FULL, ReadMask, fill_verdict, read_mask
from earmark.v1 import earmark_pb2 as pb

EVALUATOR = Evaluator.from_directory(BUNDLED_RULES)
MASK_PATHS = [
    "",
    "scores",
    "scores.score",
    "category,label",
    "product_id,fit.score",
    "explanation,fit,warnings",
]
MASKS = {
    paths or "full": read_mask(field_mask_pb2.FieldMask(paths=paths.split(","))) if paths else FULL
    for paths in MASK_PATHS
}
WARNINGS = [(), ("specs.micc is not an attribute of this pack; did you mean 'mic'?",)]


def _serialized(verdict: Verdict, mask: ReadMask, warnings: tuple[str, ...]) -> bytes:
    message = fill_verdict(pb.Verdict(), verdict, trace=False, mask=mask)
    message.warnings.extend(warnings)
    return message.SerializeToString()


@pytest.mark.parametrize("mask_name", MASKS)
@pytest.mark.parametrize("warnings", WARNINGS, ids=len)
def test_kept_bytes_are_the_serialized_message(mask_name: str, warnings: tuple[str, ...]) -> None:
    mask = MASKS[mask_name]
    kept = VerdictBytes(4096)
    for n, case in enumerate(EVALUATOR.pack.examples):
        first = EVALUATOR.verdict_for(f"p-{n}", case.product)
        for verdict in (first, first.for_product(f"another-{n}-{'x' * 200}")):  # a two-byte length
            expected = _serialized(verdict, mask, warnings)
            assert expected == kept.verdict(verdict, mask, warnings), case.name
            item = pb.BatchItem(product_id=verdict.product_id)
            item.verdict.ParseFromString(expected)
            assert item.SerializeToString() == kept.batch_item(verdict.product_id, verdict, mask, warnings)
            response = pb.EvaluateResponse()
            response.verdict.ParseFromString(expected)
            assert response.SerializeToString() == kept.response(verdict, mask, warnings)


def test_a_verdict_sharing_only_its_scores_is_not_taken_for_a_copy() -> None:
    kept = VerdictBytes(16)
    verdict = EVALUATOR.verdict_for("p-1", EVALUATOR.pack.examples[0].product)
    kept.verdict(verdict, FULL, ())
    relabelled = dataclasses.replace(verdict, label="Something else entirely")
    assert relabelled.scores is verdict.scores
    assert _serialized(relabelled, FULL, ()) == kept.verdict(relabelled, FULL, ())


def test_off_keeps_nothing_and_serializes_whole() -> None:
    verdict = EVALUATOR.verdict_for("p-1", EVALUATOR.pack.examples[0].product)
    assert _serialized(verdict, FULL, ()) == VerdictBytes(0).verdict(verdict, FULL, ())
