"""The decision log (server/decision_log.py) over a real channel: a line per product with
the id the client was told, masked as the pack says; a blocked sink that never slows a
call, and every decision either written or counted as dropped."""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from earmark.config import BUNDLED_RULES, Settings
from earmark.errors import ListenFailed
from earmark.evaluation.evaluator import Evaluator
from earmark.rulepack.model import Mask
from earmark.server.decision_log import Decision, DecisionLog, decision_line
from earmark.server.grpc_server import EarmarkServer
from earmark.server.live import LivePack
from earmark.v1 import earmark_pb2 as pb

from helpers import evaluate_request, product, serving

BOOM = {"form_factor": "over_ear", "mic": "boom", "detachable_cable": False}


@pytest.fixture(scope="module")
def uncached() -> Evaluator:
    return Evaluator.from_directory(BUNDLED_RULES)


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_each_evaluate_writes_a_line_whose_id_the_client_is_told(uncached: Evaluator, tmp_path: Path) -> None:
    log = tmp_path / "decisions.jsonl"
    request = evaluate_request("p1", BOOM)
    request.trace = True
    request.shopper.update({"uses": ["meetings"], "budget_usd": 120})
    with serving(LivePack(uncached), decision_log=log) as server:
        response, call = server.stub.Evaluate.with_call(request)
        again, second = server.stub.Evaluate.with_call(request)  # answered from the cache when not logged
    trailing = dict(call.trailing_metadata())
    (first, repeated) = _lines(log)
    assert first["decision_id"] == trailing["x-decision-id"]
    assert (
        dict(second.trailing_metadata())["x-decision-id"] == repeated["decision_id"] != first["decision_id"]
    )
    assert first["request_id"] == trailing["x-request-id"]
    assert first["pack"] == {"version": uncached.pack.version, "digest": uncached.pack.digest}
    verdict = response.verdict
    assert first["verdict"]["category"] == verdict.category
    assert first["verdict"]["scores"] == {s.use_case: s.score for s in verdict.scores}
    assert first["verdict"]["fit"] == verdict.fit.score
    assert first["rules_fired"] == list(dict.fromkeys(hit.rule_id for hit in verdict.trace))
    # The pack masks the shopper's budget: gone from the line, and said to be.
    assert first["input"]["shopper"] == {"uses": ["meetings"]}
    assert first["masked"] == ["/shopper/budget_usd"]
    assert first["input"]["product"] == {
        "id": "p1",
        "specs": {"form_factor": "over_ear", "mic": "boom", "detachable_cable": False},
    }
    assert again.verdict == verdict


def test_a_batch_logs_each_product_it_answered_under_the_page_id(uncached: Evaluator, tmp_path: Path) -> None:
    log = tmp_path / "decisions.jsonl"
    page = pb.EvaluateBatchRequest(
        products=[
            product("a", BOOM),
            product("bad", {"form_factor": "on_the_moon"}),
            product("c", {"mic": "none"}),
        ]
    )
    with serving(LivePack(uncached), decision_log=log) as server:
        _response, call = server.stub.EvaluateBatch.with_call(page)
    page_id = dict(call.trailing_metadata())["x-decision-id"]
    lines = _lines(log)
    # The refused product has no verdict, so no decision; the others keep their place.
    assert [line["decision_id"] for line in lines] == [f"{page_id}-0", f"{page_id}-2"]
    assert [line["input"]["product"]["id"] for line in lines] == ["a", "c"]


def test_a_sample_of_calls_is_logged(uncached: Evaluator, tmp_path: Path) -> None:
    log = tmp_path / "decisions.jsonl"
    with serving(LivePack(uncached), decision_log=log, decision_log_sample=1e-9) as server:
        _response, call = server.stub.Evaluate.with_call(evaluate_request("p1", BOOM))
    assert "x-decision-id" not in dict(call.trailing_metadata())
    assert log.read_text() == ""


def test_masks_erase_or_replace_what_they_name(uncached: Evaluator) -> None:
    pack = dataclasses.replace(
        uncached.pack,
        decision_mask=(
            Mask(("product", "id"), "hidden"),
            Mask(("specs", "mic"), None),
            Mask(("shopper",), None),
        ),
    )
    verdict = uncached.verdict_for("sku-1", BOOM, {"uses": ["meetings"]})
    subject = uncached.subject_for("sku-1", BOOM, {"uses": ["meetings"]})
    line = json.loads(decision_line(Decision("d", None, None, 0.0, pack, subject, verdict, 0.001)))
    assert line["input"]["product"] == {
        "id": "hidden",
        "specs": {"form_factor": "over_ear", "detachable_cable": False},
    }
    assert "shopper" not in line["input"]
    assert line["masked"] == ["/product/id", "/specs/mic", "/shopper"]
    assert subject.specs["mic"] == "boom"  # the call's own subject is left as it was


def test_a_blocked_sink_never_slows_a_call_and_every_decision_is_written_or_counted(
    uncached: Evaluator, tmp_path: Path
) -> None:
    fifo = tmp_path / "decisions.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # opened, never read until the end
    calls = 400
    with serving(LivePack(uncached), decision_log=fifo, decision_log_buffer=8) as server:
        for i in range(calls):  # each would time out if handing over its decision waited
            server.stub.Evaluate(evaluate_request(f"p{i}", {**BOOM, "weight_g": 100 + i}), timeout=10)
        dropped = server.sample("earmark_decisions_dropped_total")
        assert dropped > 0
        drained: list[bytes] = []
        draining = threading.Thread(target=_drain, args=(reader, drained), daemon=True)
        draining.start()  # the writer can finish once someone reads
        server.server.stop(grace=1)
        written = server.sample("earmark_decisions_logged_total")
        dropped = server.sample("earmark_decisions_dropped_total")
    draining.join(10)
    lines = b"".join(drained).splitlines()
    assert len(lines) == written
    assert written + dropped == calls


def _drain(fd: int, into: list[bytes]) -> None:
    import select

    while True:
        ready, _, _ = select.select([fd], [], [], 2.0)
        if not ready:
            return
        chunk = os.read(fd, 65536)
        if not chunk:
            return
        into.append(chunk)


def test_a_decision_log_that_cannot_be_written_stops_the_start(uncached: Evaluator, tmp_path: Path) -> None:
    settings = Settings(address="127.0.0.1:0", decision_log=tmp_path / "no-such-folder" / "d.jsonl")
    with pytest.raises(ListenFailed, match=r"EARMARK_DECISION_LOG=.*no-such-folder"):
        EarmarkServer(settings, LivePack(uncached))


def test_two_writers_sharing_a_full_pipe_keep_every_line_whole(uncached: Evaluator, tmp_path: Path) -> None:
    """Two workers' logs on one pipe (the chart's /dev/stdout), each with a backlog bigger
    than the pipe holds: a pipe keeps only writes up to PIPE_BUF whole, so every write must
    stay under it, or lines from the two mix."""
    fifo = tmp_path / "stdout.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    subject = uncached.subject_for("p", BOOM)
    verdict = uncached.evaluate(subject)
    logs = [DecisionLog(fifo, 1.0, 10_000, lambda n: None, lambda n: None) for _ in range(2)]
    each = 400  # about 300 KB per writer, against a pipe of 64 KB
    for writer, log in enumerate(logs):
        for n in range(each):
            log.offer(Decision(f"w{writer}-{n}", None, None, 0.0, uncached.pack, subject, verdict, 0.001))
    drained: list[bytes] = []
    draining = threading.Thread(target=_drain, args=(reader, drained), daemon=True)
    draining.start()  # both writers are blocked on the full pipe by now, mid-backlog
    for log in logs:
        log.close(timeout=30)
    draining.join(30)
    lines = b"".join(drained).splitlines()
    assert len(lines) == 2 * each
    assert all(json.loads(line)["decision_id"].startswith(("w0-", "w1-")) for line in lines)


def test_closing_beside_a_stuck_sink_counts_what_it_could_not_write(
    uncached: Evaluator, tmp_path: Path
) -> None:
    fifo = tmp_path / "stuck.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # held open, never read
    subject = uncached.subject_for("p", BOOM)
    verdict = uncached.evaluate(subject)
    counts = {"written": 0, "dropped": 0}
    log = DecisionLog(
        fifo,
        1.0,
        50,
        lambda n: counts.__setitem__("written", counts["written"] + n),
        lambda n: counts.__setitem__("dropped", counts["dropped"] + n),
    )
    offered = 600  # far more than the pipe (64 KiB) and the buffer (50) hold
    for n in range(offered):
        log.offer(Decision(f"d{n}", None, None, 0.0, uncached.pack, subject, verdict, 0.001))
        if n % 50 == 0:
            time.sleep(0.06)  # the writer takes a batch, and then blocks on the full pipe
    log.close(timeout=0.5)
    in_flight = offered - counts["written"] - counts["dropped"]
    # Nothing is lost without a count but the one batch the stuck writer holds mid-write,
    # which is at most what the buffer held; the buffer's own 50 are counted as dropped.
    assert 0 < in_flight <= 50
    assert counts["dropped"] > 0
    os.close(reader)
