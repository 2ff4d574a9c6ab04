"""Reloads at soak size, in-process: a pack flipping under four clients without a
failed or mixed answer, and a thousand reloads without memory growth. Moved here from
tests/unit (30 s together), so that `make test-fast` stays fast."""

from __future__ import annotations

import threading
from pathlib import Path

import grpc
import pytest

from earmark.config import BUNDLED_RULES
from earmark.evaluation.engine import CompiledRules
from earmark.evaluation.evaluator import Evaluator
from earmark.evaluation.examples import load_checked
from earmark.rulepack.loader import load_pack
from earmark.server.live import LivePack
from earmark.server.reload import Reloader

from helpers import BOOM_ONLY, evaluate_request, meetings_score, rss_bytes, serving, set_boom_meetings


def test_reloads_under_load_fail_no_call_and_never_mix_two_packs(pack_copy: Path) -> None:
    """Clients call continuously while the pack flips between two versions. Every answer
    must be whole: its scores are the ones its own ruleset_version gives."""
    live = LivePack(load_checked(pack_copy))
    reloader = Reloader(live, pack_copy)
    expected = {}
    for amount in (30, 28):
        set_boom_meetings(pack_copy, amount)
        reloader.reload("setup")
        expected.update([meetings_score(live, BOOM_ONLY)])
    assert 2 == len(set(expected.values()))

    # A reload holds the GIL for ~0.1 s (120 rules, 78 cases). Twenty back to back, beside
    # the other test processes, could keep a call queued past the default 1 s, and admission
    # would refuse it as overload (tested in test_admission.py): not what this test is about.
    with serving(live, threads=4, max_queue_seconds=5) as server:
        stop = threading.Event()
        failures: list[str] = []
        answers: list[tuple[str, int]] = []

        def client() -> None:
            while not stop.is_set():
                try:
                    verdict = server.stub.Evaluate(evaluate_request("p", BOOM_ONLY), timeout=10).verdict
                    answers.append((verdict.ruleset_version, verdict.scores[3].score))
                except grpc.RpcError as exc:
                    failures.append(f"{exc.code()}: {exc.details()}")

        clients = [threading.Thread(target=client) for _ in range(4)]
        try:
            for thread in clients:
                thread.start()
            for flip in range(20):
                set_boom_meetings(pack_copy, 28 if flip % 2 else 30)  # setup left it at 28
                assert reloader.reload("flip")
        finally:
            stop.set()
            for thread in clients:
                thread.join()
        assert [] == failures
        assert len(answers) > 100
        assert {version for version, _ in answers} == set(expected)
        for version, score in answers:
            assert expected[version] == score


def test_a_thousand_reloads_keep_memory_flat_and_free_every_replaced_ruleset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each swap compiles a fresh ruleset while requests run; every replaced one must be
    closed (its engine memory freed) once its requests finish. Parsing the YAML is not
    the concern here, so one parsed pack is compiled anew for each swap."""
    pack = load_pack(BUNDLED_RULES)
    closes = [0]  # a count, not the objects: keeping them would itself hold memory
    counting = threading.Lock()  # request threads close rulesets too, and += is not atomic
    real_close = CompiledRules.close

    def counting_close(rules: CompiledRules) -> None:
        with counting:
            closes[0] += 0 if rules.closed else 1
        real_close(rules)

    monkeypatch.setattr(CompiledRules, "close", counting_close)
    live = LivePack(Evaluator(pack))
    stop = threading.Event()

    def requests() -> None:
        # A pause between requests: without it the two threads held the GIL two thirds of
        # the time and the swaps took a minute; with it, requests still overlap every swap.
        while not stop.wait(0.002):
            meetings_score(live, BOOM_ONLY)

    workers = [threading.Thread(target=requests) for _ in range(2)]
    for worker in workers:
        worker.start()
    try:
        baseline = 0
        for n in range(1000):
            live.swap(Evaluator(pack))
            if n == 49:  # after the allocator has warmed up
                baseline = rss_bytes()
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    end = rss_bytes()
    print(
        f"\nreload memory: baseline {baseline / 2**20:.1f} MiB after 50 reloads, {end / 2**20:.1f} MiB after 1000"
    )
    assert 1000 == closes[0]  # every replaced ruleset was closed
    assert not live.current().rules.closed
    assert end <= baseline * 1.10
