"""Soak: a real server under steady load while its rules directory receives, one after
another, packs that break each limit the service guards. Every good call must succeed,
health must stay SERVING, memory must stay flat, and each bad pack must be refused with
file:line while the last good pack keeps serving. Bounded to about a minute."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from earmark.config import Settings
from earmark.evaluation.examples import load_checked
from earmark.server.grpc_server import EarmarkServer
from earmark.server.live import LivePack
from earmark.server.reload import Reloader
from earmark.v1 import earmark_pb2_grpc

from helpers import (
    BOOM_GAMING_HEADSET,
    LONG_ONE_OF,
    WIDE_ANY,
    alias_bomb,
    evaluate_request,
    probe_rule,
    rss_bytes,
    wait_for,
)

ROUNDS = 2
RSS_GROWTH_BOUND = 80 * 1024**2


def _write(text: str) -> Callable[[Path], None]:
    return lambda path: path.write_text(text)


def _sparse(path: Path) -> None:
    with open(path, "wb") as file:
        file.truncate(2 * 1024**3)


BAD_PACKS: dict[str, Callable[[Path], None]] = {
    "any-of-512": _write("rules:\n" + probe_rule("zz-wide", WIDE_ANY)),
    "one-of-600": _write("rules:\n" + probe_rule("zz-one-of", LONG_ONE_OF)),
    "70-tiers": _write(
        "rules:\n"
        + "".join(probe_rule(f"zz-t{i}", f"battery_hours: {{at_least: {1000 + i}}}") for i in range(70))
    ),
    "300-identical": _write(
        "rules:\n" + "".join(probe_rule(f"zz-s{i}", "weight_g: {at_least: 123}") for i in range(300))
    ),
    "alias-bomb": _write(alias_bomb(9, 9)),
    "fifo": lambda path: os.mkfifo(path),
    "sparse-2gb": _sparse,
}


def test_the_service_survives_every_bad_pack_under_load(pack_copy: Path) -> None:
    live = LivePack(load_checked(pack_copy))
    # Queueing up to 5 s, not the default 1: each refused pack costs a reload's ~0.1 s of
    # GIL, and beside the other test processes a call could otherwise be refused as
    # overload (tested in test_admission.py), which is not what this test is about.
    server = EarmarkServer(Settings(address="127.0.0.1:0", threads=2, max_queue_seconds=5), live)
    server.start()
    stop_watching = threading.Event()
    reloader = Reloader(live, pack_copy)
    reloader.watch(stop_watching)
    address = f"127.0.0.1:{server.port}"
    stop = threading.Event()
    failures: list[str] = []
    calls = [0]
    lock = threading.Lock()

    def load() -> None:
        with grpc.insecure_channel(address) as channel:
            stub = earmark_pb2_grpc.EarmarkStub(channel)
            health = health_pb2_grpc.HealthStub(channel)
            while not stop.is_set():
                try:
                    verdict = stub.Evaluate(evaluate_request("soak", BOOM_GAMING_HEADSET), timeout=10).verdict
                    status = health.Check(health_pb2.HealthCheckRequest(), timeout=10).status
                    if verdict.category != "headset" or status != health_pb2.HealthCheckResponse.SERVING:
                        failures.append(f"{verdict.category} {status}")
                except grpc.RpcError as exc:
                    failures.append(f"{exc.code().name}: {exc.details()}")
                with lock:
                    calls[0] += 1

    clients = [threading.Thread(target=load) for _ in range(2)]
    for client in clients:
        client.start()
    try:
        version = live.current().pack.version
        assert wait_for(lambda: calls[0] >= 200, 30)  # warmed up: caches and pools at their size
        baseline = rss_bytes()
        for _ in range(ROUNDS):
            for name, make in BAD_PACKS.items():
                bad = pack_copy / "zz-bad.yaml"
                refused_before = reloader.status.reloads_failed
                make(bad)
                assert wait_for(lambda before=refused_before: reloader.status.reloads_failed > before, 30), (
                    f"{name} was not refused"
                )
                assert "zz-bad.yaml:" in reloader.status.last_reload_error, (
                    name,
                    reloader.status.last_reload_error,
                )
                assert version == live.current().pack.version
                reloads_before = reloader.status.reloads_succeeded
                bad.unlink()  # the watcher sees the removal: an unchanged reload, counted as a success
                assert wait_for(lambda before=reloads_before: reloader.status.reloads_succeeded > before, 30)
        grown = rss_bytes() - baseline
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=30)
        stop_watching.set()
        server.stop(grace=1)
    assert [] == failures
    assert calls[0] > 100
    assert grown < RSS_GROWTH_BOUND, f"RSS grew by {grown / 1024**2:.0f} MB"
