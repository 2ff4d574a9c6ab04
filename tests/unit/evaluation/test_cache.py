"""The verdict cache: it answers a repeated product from memory under the id asked, never
answers from an old pack after a reload, stays within its size, and is counted."""

from __future__ import annotations

from pathlib import Path

from earmark.evaluation.cache import VerdictCache
from earmark.evaluation.evaluator import Evaluator
from earmark.evaluation.validation import Subject
from earmark.server.live import LivePack

from helpers import evaluate_request, serving, set_boom_meetings

HEADSET = {"mic": "boom", "connectivity": ["wireless_dongle", "bluetooth"], "weight_g": 280}


def _meetings(verdict: object) -> int:
    return next(s.score for s in verdict.scores if s.use_case == "meetings")  # type: ignore[attr-defined]


def test_a_repeated_product_is_answered_from_the_cache_under_its_own_id(evaluator: Evaluator) -> None:
    with serving(LivePack(Evaluator(evaluator.pack)), cache_entries=100) as server:
        first = server.stub.Evaluate(evaluate_request("a", HEADSET), timeout=10).verdict
        reordered = dict(reversed(list(HEADSET.items())))  # the same specs, sent in another order
        second = server.stub.Evaluate(evaluate_request("b", reordered), timeout=10).verdict
        assert ("a", "b") == (first.product_id, second.product_id)
        assert list(first.scores) == list(second.scores) and first.explanation == second.explanation
        lookups = "earmark_verdict_cache_lookups_total"
        assert (1, 1) == (server.sample(lookups, result="miss"), server.sample(lookups, result="hit"))


def test_a_reload_starts_a_fresh_cache_so_an_old_verdict_is_never_answered(
    evaluator: Evaluator, pack_copy: Path
) -> None:
    live = LivePack(Evaluator(evaluator.pack))
    with serving(live, cache_entries=100) as server:
        before = _meetings(server.stub.Evaluate(evaluate_request("a", HEADSET), timeout=10).verdict)
        set_boom_meetings(pack_copy, 5)
        live.swap(Evaluator.from_directory(pack_copy))
        after = _meetings(server.stub.Evaluate(evaluate_request("a", HEADSET), timeout=10).verdict)
        assert after == before - 17  # the boom mic's meetings bonus went from 22 to 5
        assert 0 == server.sample("earmark_verdict_cache_lookups_total", result="hit")


def test_with_the_cache_off_nothing_is_looked_up(evaluator: Evaluator) -> None:
    with serving(LivePack(Evaluator(evaluator.pack)), cache_entries=0) as server:
        for _ in range(2):
            server.stub.Evaluate(evaluate_request("a", HEADSET), timeout=10)
        assert 0 == server.sample("earmark_verdict_cache_lookups_total", result="miss")


def test_the_cache_keeps_at_most_its_size_dropping_the_least_recently_used(evaluator: Evaluator) -> None:
    cache = VerdictCache(2)
    subjects = [Subject(str(i), evaluator.validator.specs({"weight_g": 100 + i}), None) for i in range(3)]
    keys = [cache.key(s, True) for s in subjects]
    for key, subject in zip(keys, subjects, strict=True):
        if key == keys[2]:
            assert cache.get(keys[0], "0") is not None  # touched: now the most recent
        cache.put(key, evaluator.evaluate(subject))
    assert 2 == len(cache)
    assert cache.get(keys[1], "1") is None and cache.get(keys[0], "0") is not None
    assert cache.key(subjects[0], True) != cache.key(subjects[0], False)  # words are part of the key
