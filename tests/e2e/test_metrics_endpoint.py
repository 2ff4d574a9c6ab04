"""/metrics: RPCs by method and code, latency, products, rule hits, reloads and the live
ruleset version, summed correctly over worker processes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

import grpc

from earmark.v1 import earmark_pb2 as pb
from earmark.v1 import earmark_pb2_grpc

from helpers import (
    evaluate_request,
    live_versions,
    product,
    sample_value,
    scrape,
    scrape_until,
    serve_workers,
    set_boom_meetings,
    wait_serving,
)

EVALUATE = "/earmark.v1.Earmark/Evaluate"


def _call_many(address: str, count: int) -> None:
    for i in range(count):  # a fresh connection each time, so that workers share them
        with grpc.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)]) as channel:
            stub = earmark_pb2_grpc.EarmarkStub(channel)
            stub.Evaluate(evaluate_request(str(i), {"mic": "boom"}), timeout=5)


def _start(pack: Path, workers: int) -> tuple[subprocess.Popen[str], str, int]:
    return serve_workers(pack, workers, {"EARMARK_WATCH": "false"})


def test_a_single_server_exports_its_metrics(pack_copy: Path) -> None:
    server, address, metrics_port = _start(pack_copy, workers=1)
    try:
        with grpc.insecure_channel(address) as channel:
            wait_serving(channel, server)
            stub = earmark_pb2_grpc.EarmarkStub(channel)
            _call_many(address, 5)
            stub.EvaluateBatch(
                pb.EvaluateBatchRequest(products=[product("a", {"mic": "none"}), product("b", {"mic": "x"})])
            )
            with contextlib.suppress(grpc.RpcError):
                stub.Evaluate(evaluate_request("bad", {"mic": "laser"}))
            _call_many(address, 1)
            set_boom_meetings(pack_copy, 29)
            server.send_signal(signal.SIGHUP)
            samples = scrape_until(
                metrics_port, lambda s: sample_value(s, "earmark_reloads_total", outcome="succeeded") >= 1
            )
            reloaded = stub.DescribeRules(pb.DescribeRulesRequest()).ruleset_version
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)
    assert 6 == sample_value(samples, "earmark_rpcs_total", method=EVALUATE, code="OK")
    assert 1 == sample_value(samples, "earmark_rpcs_total", method=EVALUATE, code="INVALID_ARGUMENT")
    assert 7 == sample_value(samples, "earmark_rpc_duration_seconds_count", method=EVALUATE)
    assert 7 == sample_value(samples, "earmark_products_evaluated_total")  # 6 single + 1 good batch item
    assert sample_value(samples, "earmark_rule_hits_total", rule_id="boom-mic-for-talking") >= 5
    assert 1 == sample_value(samples, "earmark_rule_hits_total", rule_id="no-mic-cannot-talk")
    assert 0 == sample_value(samples, "earmark_rule_hits_total", rule_id="short-battery")  # never fired
    assert 1 == sample_value(samples, "earmark_reloads_total", outcome="succeeded")
    # Its own process, labelled as a supervisor labels each worker's.
    assert sample_value(samples, "process_resident_memory_bytes", worker="0") > 0
    # The new version only; the old one reads 0.
    assert [reloaded] == [dict(labels)["version"] for labels in live_versions(samples)]


def test_metrics_are_summed_over_workers(pack_copy: Path) -> None:
    supervisor, address, metrics_port = _start(pack_copy, workers=2)
    try:
        with grpc.insecure_channel(address) as channel:
            wait_serving(channel, supervisor)
        scrape_until(metrics_port, lambda s: len(live_versions(s)) == 2)  # both workers loaded
        _call_many(address, 30)
        samples = scrape(metrics_port)
    finally:
        supervisor.send_signal(signal.SIGTERM)
        supervisor.communicate(timeout=60)
    assert 30 == sample_value(samples, "earmark_rpcs_total", method=EVALUATE, code="OK")
    per_worker = [
        v for (n, ls), v in samples.items() if n == "earmark_rpcs_total" and ("method", EVALUATE) in ls
    ]
    assert 30 == sum(per_worker)
    versions = live_versions(samples)
    assert 2 == len(versions)  # one live series per worker
    assert 1 == len({dict(ls)["version"] for ls in versions})  # both on the same version


def test_workers_have_process_series_of_their_own_and_restarts_are_counted(pack_copy: Path) -> None:
    supervisor, address, metrics_port = _start(pack_copy, workers=2)
    try:
        with grpc.insecure_channel(address) as channel:
            wait_serving(channel, supervisor)
        before = scrape_until(metrics_port, lambda s: len(live_versions(s)) == 2)
        victim = _worker_pids(supervisor.pid)[0]  # the workers are the supervisor's children
        os.kill(victim, signal.SIGKILL)
        after = scrape_until(
            metrics_port,
            lambda s: sample_value(s, "earmark_worker_restarts_total", reason="died") == 1,
            seconds=60,
        )
        after = scrape_until(
            metrics_port, lambda s: sample_value(s, "earmark_workers_running") == 2, seconds=60
        )
    finally:
        supervisor.send_signal(signal.SIGTERM)
        supervisor.communicate(timeout=60)
    workers = {
        dict(ls).get("worker") for (n, ls), _v in before.items() if n == "process_resident_memory_bytes"
    }
    assert workers == {"0", "1", "supervisor"}
    # Before the kill: every outcome's series at 0, no restart yet.
    for outcome in ("succeeded", "failed", "unchanged"):
        assert frozenset({("outcome", outcome)}) in {
            ls for (n, ls) in before if n == "earmark_reloads_total"
        }, outcome
    assert sample_value(before, "earmark_worker_restarts_total", reason="died") == 0
    assert sample_value(after, "earmark_worker_restarts_total", reason="hung") == 0


def _worker_pids(supervisor: int) -> list[int]:
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    return [int(pid) for pid in children]
