"""A repeated request, or a batch's repeated product, answered with the bytes sent last
time (server/response_cache.py), over a real channel: the same answer, counted in the
metrics as a computed one is, and never an answer of a pack that is no longer live."""

from __future__ import annotations

from pathlib import Path

import structlog
from structlog.testing import capture_logs

from earmark.evaluation.evaluator import Evaluator
from earmark.server.live import LivePack
from earmark.server.response_cache import spliced_items
from earmark.server.servicer import MAX_KEPT_REQUEST_BYTES
from earmark.v1 import earmark_pb2 as pb

from helpers import (
    BOOM_GAMING_HEADSET,
    RunningServer,
    evaluate_request,
    product,
    serving,
    set_boom_meetings,
    struct,
)

COUNTED = (
    ("earmark_products_evaluated_total", {}),
    ("earmark_rule_hits_total", {"rule_id": "boom-mic-makes-a-headset"}),
    ("earmark_undeclared_attributes_total", {"section": "specs", "name": "micc"}),
)


def _counted(running: RunningServer) -> dict[str, float]:
    registry = running.server.metrics.registry
    return {metric: registry.get_sample_value(metric, labels) or 0.0 for metric, labels in COUNTED}


def test_a_repeated_request_gets_the_same_bytes_and_counts_as_one_computed(pack_copy: Path) -> None:
    request = evaluate_request("p1", {**BOOM_GAMING_HEADSET, "micc": "boom"}, {"uses": ["meetings"]})
    with serving(LivePack(Evaluator.from_directory(pack_copy))) as running:
        call = running.channel.unary_unary("/earmark.v1.Earmark/Evaluate")  # the raw bytes back
        with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
            counts = []
            answers = []
            for _ in range(3):
                before = _counted(running)
                answers.append(call(request.SerializeToString(), timeout=5))
                counts.append({name: value - before[name] for name, value in _counted(running).items()})
        assert answers[0] == answers[1] == answers[2]
        assert counts[0] == counts[1] == counts[2]
        assert all(value >= 1 for value in counts[0].values()), counts[0]  # each was counted
        answered_from = [line.get("answered_from") for line in logs if line.get("event") == "rpc"]
        assert [None, "response_cache", "response_cache"] == answered_from


def test_after_a_reload_the_answer_is_the_new_packs(pack_copy: Path) -> None:
    request = evaluate_request("p1", {"mic": "boom"})
    live = LivePack(Evaluator.from_directory(pack_copy))
    with serving(live) as running:
        before = running.stub.Evaluate(request, timeout=5).verdict
        assert before == running.stub.Evaluate(request, timeout=5).verdict  # now kept
        set_boom_meetings(pack_copy, 29)
        live.swap(Evaluator.from_directory(pack_copy))
        after = running.stub.Evaluate(request, timeout=5).verdict
    assert before.ruleset_version != after.ruleset_version
    meetings = [s.score for s in after.scores if s.use_case == "meetings"]
    assert meetings != [s.score for s in before.scores if s.use_case == "meetings"]


def test_a_big_request_is_answered_but_never_kept(pack_copy: Path) -> None:
    """A hostile client's 4 MB requests as keys would hold 4 MB an entry."""
    request = evaluate_request("p1", {"mic": "boom", "notes": "x" * (MAX_KEPT_REQUEST_BYTES + 1)})
    with (
        serving(LivePack(Evaluator.from_directory(pack_copy))) as running,
        capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs,
    ):
        for _ in range(2):
            assert "headset" == running.stub.Evaluate(request, timeout=5).verdict.category
    assert [None, None] == [line.get("answered_from") for line in logs if line.get("event") == "rpc"]


def _rpc_lines(logs: list[dict[str, object]]) -> list[dict[str, object]]:
    return [line for line in logs if line.get("event") == "rpc"]


def test_a_batchs_repeated_products_get_the_same_bytes_and_count_as_computed(pack_copy: Path) -> None:
    page = pb.EvaluateBatchRequest(
        products=[product("p1", {**BOOM_GAMING_HEADSET, "micc": "boom"}), product("p2", {"mic": "none"})],
        shopper=struct({"uses": ["meetings"]}),
    )
    with serving(LivePack(Evaluator.from_directory(pack_copy))) as running:
        call = running.channel.unary_unary("/earmark.v1.Earmark/EvaluateBatch")
        registry = running.server.metrics.registry
        with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
            counts, answers, hits = [], [], []
            for _ in range(3):
                before = _counted(running)
                hits_before = registry.get_sample_value(
                    "earmark_verdict_cache_lookups_total", {"result": "hit"}
                )
                answers.append(call(page.SerializeToString(), timeout=5))
                counts.append({name: value - before[name] for name, value in _counted(running).items()})
                hits_after = registry.get_sample_value(
                    "earmark_verdict_cache_lookups_total", {"result": "hit"}
                )
                hits.append((hits_after or 0.0) - (hits_before or 0.0))
    assert answers[0] == answers[1] == answers[2]
    assert ["p1", "p2"] == [item.product_id for item in pb.EvaluateBatchResponse.FromString(answers[0]).items]
    assert counts[0] == counts[1] == counts[2]
    assert all(value >= 1 for value in counts[0].values()), counts[0]
    assert [0.0, 2.0, 2.0] == hits
    assert [0, 2, 2] == [line["products_from_response_cache"] for line in _rpc_lines(logs)]


def test_a_page_with_another_shopper_is_not_answered_with_kept_items(pack_copy: Path) -> None:
    products = [product("p1", BOOM_GAMING_HEADSET)]
    with serving(LivePack(Evaluator.from_directory(pack_copy))) as running:
        for_gamers = pb.EvaluateBatchRequest(products=products, shopper=struct({"uses": ["gaming_solo"]}))
        for_meetings = pb.EvaluateBatchRequest(products=products, shopper=struct({"uses": ["meetings"]}))
        gamers = running.stub.EvaluateBatch(for_gamers, timeout=5).items[0].verdict.fit
        meetings = running.stub.EvaluateBatch(for_meetings, timeout=5).items[0].verdict.fit
    assert gamers != meetings


def test_a_big_product_in_a_batch_is_answered_but_never_kept(pack_copy: Path) -> None:
    big = product("p1", {"mic": "boom", "notes": "x" * (MAX_KEPT_REQUEST_BYTES + 1)})
    page = pb.EvaluateBatchRequest(products=[big, product("p2", {"mic": "boom"})])
    with (
        serving(LivePack(Evaluator.from_directory(pack_copy))) as running,
        capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs,
    ):
        for _ in range(2):
            items = running.stub.EvaluateBatch(page, timeout=5).items
            assert ["headset", "headset"] == [item.verdict.category for item in items]
    assert [0, 1] == [line["products_from_response_cache"] for line in _rpc_lines(logs)]


def test_spliced_items_are_the_response_the_items_make() -> None:
    """Lengths of one, two and three varint bytes (under 128, under 16,384, over)."""
    items = [
        pb.BatchItem(product_id="a"),
        pb.BatchItem(product_id="b", verdict=pb.Verdict(label="x" * 200)),
        pb.BatchItem(product_id="c", error=pb.Error(code="INVALID_ARGUMENT", message="y" * 20_000)),
        pb.BatchItem(),
    ]
    spliced = spliced_items([item.SerializeToString() for item in items])
    assert pb.EvaluateBatchResponse(items=items).SerializeToString() == spliced
