"""The multi-worker server under load and faults. Bounded in time and in calls, on
loopback only:

- about a minute of calls from many threads, with a rule change published midway: no
  failed call, no answer mixing two packs, and each worker's memory reported and flat;
- a worker killed with SIGKILL under load: replaced, and clients that retry lose nothing;
- a corrupt rule file written mid-reload: refused, the last good pack keeps serving.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import grpc

from earmark.v1 import earmark_pb2 as pb
from earmark.v1 import earmark_pb2_grpc

from helpers import (
    EXAMPLES,
    evaluate_request,
    live_versions,
    product,
    scrape_until,
    serve_workers,
    set_boom_meetings,
    wait_for,
    wait_serving,
)

LOAD_SECONDS = 60
THREADS = 8
# Each caller pauses between calls: steady traffic at about half of this machine's two
# cores, not all of it. Correctness and memory under a minute of traffic are what is
# tested here; saturation is the soak's and the benchmarks' job, and an unpaced minute
# starved every test running beside it in `make test`.
PAUSE_SECONDS = 0.01
# Clients configured as docs/operations.md recommends: retry UNAVAILABLE, and wait for a
# ready connection instead of failing fast while a reconnect backs off. Without waitForReady
# a connection the kernel queued on the killed worker is reset, the channel backs off for
# about a second, and every retry inside that second fails at once.
CLIENT_CONFIG = (EXAMPLES / "client-service-config.json").read_text()


def _workers(pid: int) -> list[int]:
    return [int(p) for p in os.popen(f"pgrep -P {pid}").read().split()]


def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


class Load:
    """THREADS callers, each on its own connections, until stopped."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.stop = threading.Event()
        self.failures: list[str] = []
        self.answers: list[tuple[str, int]] = []  # (ruleset_version, meetings score)
        self.calls = 0
        self._counting = threading.Lock()  # the callers add their counts at the end
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(THREADS)]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def _run(self, index: int) -> None:
        options = [
            ("grpc.service_config", CLIENT_CONFIG),
            ("grpc.enable_retries", 1),
            ("grpc.use_local_subchannel_pool", 1),
        ]
        calls = 0
        while not self.stop.is_set() and calls < 200_000:
            with grpc.insecure_channel(
                self.address, options=options
            ) as channel:  # fresh connections spread over workers
                stub = earmark_pb2_grpc.EarmarkStub(channel)
                for _ in range(25):
                    calls += 1
                    try:
                        if calls % 10 == 0:
                            items = stub.EvaluateBatch(
                                pb.EvaluateBatchRequest(
                                    products=[product(str(i), {"mic": "boom"}) for i in range(20)]
                                ),
                                timeout=10,
                            ).items
                            verdicts = [item.verdict for item in items]
                            assert len({v.ruleset_version for v in verdicts}) == 1, "a batch mixed two packs"
                        else:
                            verdicts = [
                                stub.Evaluate(
                                    evaluate_request(f"{index}-{calls}", {"mic": "boom"}), timeout=10
                                ).verdict
                            ]
                        self.answers.extend((v.ruleset_version, v.scores[3].score) for v in verdicts)
                    except (grpc.RpcError, AssertionError) as exc:
                        self.failures.append(f"{type(exc).__name__}: {exc}")
                    if self.stop.wait(PAUSE_SECONDS):
                        break
        with self._counting:
            self.calls += calls


def _start(pack: Path, workers: int = 2) -> tuple[subprocess.Popen[str], str, int]:
    """A supervisor and its workers, once every worker has loaded the pack."""
    supervisor, address, metrics_port = serve_workers(
        pack,
        workers,
        {"EARMARK_LOG_FORMAT": "json"},  # info: the line naming the ports bound
    )
    with grpc.insecure_channel(address) as channel:
        wait_serving(channel, supervisor)
    scrape_until(metrics_port, lambda samples: workers == len(live_versions(samples)))  # all loaded
    return supervisor, address, metrics_port


def _stop(supervisor) -> None:  # type: ignore[no-untyped-def]
    supervisor.send_signal(signal.SIGTERM)
    supervisor.communicate(timeout=60)
    assert 0 == supervisor.returncode


def test_a_minute_of_load_with_a_rule_change_midway(pack_copy: Path) -> None:
    supervisor, address, _ = _start(pack_copy)
    try:
        with Load(address) as load:
            time.sleep(10)
            workers = _workers(supervisor.pid)
            warm = {pid: _rss_mib(pid) for pid in workers}
            time.sleep(LOAD_SECONDS / 2 - 10)
            set_boom_meetings(pack_copy, 29)  # published midway; every worker reloads
            time.sleep(LOAD_SECONDS / 2)
            end = {pid: _rss_mib(pid) for pid in workers}
        print(
            f"\nload: {load.calls} calls in {LOAD_SECONDS} s by {THREADS} threads, {len(load.failures)} failed"
        )
        for pid in workers:
            print(f"  worker {pid}: {warm[pid]:.1f} MiB after 10 s, {end[pid]:.1f} MiB at the end")
    finally:
        _stop(supervisor)
    assert [] == load.failures[:5]
    scores = {}
    for version, score in load.answers:
        scores.setdefault(version, set()).add(score)
    assert 2 == len(scores), "the rule change should have gone live midway"
    assert all(1 == len(s) for s in scores.values()), f"answers mixed two packs: {scores}"
    for pid in workers:
        assert end[pid] - warm[pid] < max(20.0, 0.2 * warm[pid]), f"worker {pid} grew"


def test_a_killed_worker_costs_retrying_clients_nothing(pack_copy: Path) -> None:
    supervisor, address, metrics_port = _start(pack_copy)
    try:
        with Load(address) as load:
            assert wait_for(lambda: len(load.answers) >= 100, 30)  # under load before the kill
            victim = _workers(supervisor.pid)[0]
            os.kill(victim, signal.SIGKILL)
            replaced = lambda: len(_workers(supervisor.pid)) == 2 and victim not in _workers(supervisor.pid)  # noqa: E731
            assert wait_for(replaced, 30), "the killed worker was not replaced"
            scrape_until(metrics_port, lambda samples: 2 == len(live_versions(samples)))
            answered = len(load.answers)
            assert wait_for(lambda: len(load.answers) >= answered + 100, 30)  # and after it
        assert load.calls > 100
    finally:
        _stop(supervisor)
    assert [] == load.failures[:5]


def test_a_corrupt_file_mid_reload_leaves_the_last_good_pack_serving(pack_copy: Path) -> None:
    supervisor, address, _ = _start(pack_copy)
    try:
        with grpc.insecure_channel(address) as channel:
            stub = earmark_pb2_grpc.EarmarkStub(channel)
            good = stub.DescribeRules(pb.DescribeRulesRequest()).ruleset_version
            with Load(address) as load:
                talking = pack_copy / "talking.yaml"
                text = talking.read_text()
                talking.write_text(text[: len(text) // 2])  # a copy cut off halfway, as a failed upload
                describe = lambda: stub.DescribeRules(pb.DescribeRulesRequest())  # noqa: E731
                assert wait_for(lambda: describe().reloads_failed > 0, 30), "the cut-off file was not tried"
                described = describe()
                restored_at = described.reloads_succeeded
                talking.write_text(text)  # the same files as before: an unchanged reload
                assert wait_for(lambda: describe().reloads_succeeded > restored_at, 30)
    finally:
        _stop(supervisor)
    assert [] == load.failures[:5]
    assert good == described.ruleset_version
    assert "talking.yaml:" in described.last_reload_error
    assert {good} == {version for version, _ in load.answers}
