"""Metrics as an object: each server counts in a registry of its own, and buffered rule
hits are in the counter whenever Prometheus reads it."""

from __future__ import annotations

from earmark.evaluation.evaluator import Evaluator
from earmark.server.live import LivePack
from earmark.server.metrics import Metrics

from helpers import SlowEvaluator, evaluate_request, serving, wait_for


def test_rule_hits_are_counted_by_the_scrape_that_reads_them() -> None:
    metrics = Metrics()
    metrics.rule_hits.add(["boom-mic-for-talking", "boom-mic-for-talking", "short-battery"])
    read = metrics.registry.get_sample_value  # a scrape: collects every metric in order
    assert 2 == read("earmark_rule_hits_total", {"rule_id": "boom-mic-for-talking"})
    assert 1 == read("earmark_rule_hits_total", {"rule_id": "short-battery"})
    metrics.rule_hits.add(["short-battery"])
    assert 2 == read("earmark_rule_hits_total", {"rule_id": "short-battery"})


def test_two_servers_in_one_process_never_share_counts() -> None:
    first, second = Metrics(), Metrics()
    first.record_call("/earmark.v1.Earmark/Evaluate", "OK", 0.001)
    first.products.inc(3)
    labels = {"method": "/earmark.v1.Earmark/Evaluate", "code": "OK"}
    assert 1 == first.registry.get_sample_value("earmark_rpcs_total", labels)
    assert 3 == first.registry.get_sample_value("earmark_products_evaluated_total")
    assert second.registry.get_sample_value("earmark_rpcs_total", labels) is None
    assert 0 == second.registry.get_sample_value("earmark_products_evaluated_total")


def test_the_live_version_is_the_only_one_at_1() -> None:
    metrics = Metrics()
    metrics.set_ruleset("audio-aaa", None)
    metrics.set_ruleset("audio-bbb", "audio-aaa")
    read = metrics.registry.get_sample_value
    assert 0 == read("earmark_ruleset_info", {"version": "audio-aaa"})
    assert 1 == read("earmark_ruleset_info", {"version": "audio-bbb"})


def test_calls_in_flight_are_counted_while_they_run(evaluator: Evaluator) -> None:
    slow = SlowEvaluator(evaluator, seconds=1.0)
    with serving(LivePack(slow), cache_entries=0) as server:
        call = server.stub.Evaluate.future(evaluate_request("p1", {"mic": "boom"}))
        assert wait_for(lambda: server.sample("earmark_calls_in_flight") == 1, 10)
        call.result(timeout=30)
        assert server.sample("earmark_calls_in_flight") == 0


def test_every_reload_outcome_is_exported_from_the_start() -> None:
    metrics = Metrics()
    exported = {
        sample.labels["outcome"]: sample.value
        for family in metrics.registry.collect()
        if family.name == "earmark_reloads"
        for sample in family.samples
        if sample.name == "earmark_reloads_total"
    }
    assert exported == {"succeeded": 0, "failed": 0, "unchanged": 0}
