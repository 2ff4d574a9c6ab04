"""A repeated request answered with the bytes sent last time (server/response_cache.py),
over a real channel: the same answer, counted in the metrics as a computed one is, and
never an answer of a pack that is no longer live."""

from __future__ import annotations

from pathlib import Path

import structlog
from structlog.testing import capture_logs

from earmark.evaluation.evaluator import Evaluator
from earmark.server.live import LivePack
from earmark.server.servicer import MAX_KEPT_REQUEST_BYTES

from helpers import BOOM_GAMING_HEADSET, RunningServer, evaluate_request, serving, set_boom_meetings

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
