"""Soak: a two-worker server and Studio, as deployed, under normal catalog traffic, alone
(before and after) and beside every hostile client at once (hostile_clients.py, a process
of its own) for a bounded time. Normal calls must keep 0 failures and a p99 within P99_BOUND
times the run without attackers (the median of the attack's 10 s windows; see _run), health must tell the truth, Studio must keep answering, and the
server's memory must stay under the manifests' limit."""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from earmark.config import BUNDLED_RULES
from earmark.v1 import earmark_pb2 as pb
from earmark.v1 import earmark_pb2_grpc

from helpers import EXAMPLES, served, studio_process, wait_for, wait_serving

HERE = Path(__file__).resolve().parent
# The run without attackers is measured before and after them, pooled, so that a shared
# machine's drift during the minute counts on both sides.
BASELINE_SECONDS = int(os.environ.get("SOAK_BASELINE_SECONDS", 10))
ATTACK_SECONDS = int(os.environ.get("SOAK_ATTACK_SECONDS", 40))
P99_BOUND = 3  # times the quiet run's p99 (issue 20)
EXTRA_FIELDS = 200  # what a real catalog sends beside the attributes the pack reads
SERVICE_CONFIG = (EXAMPLES / "client-service-config.json").read_text()

pytestmark = pytest.mark.alone  # its p99 is weighed against a quiet machine's


def manifest_memory_limit() -> int:
    deployment = (HERE.parents[1] / "deploy" / "kubernetes" / "earmark.yaml").read_text()
    mebibytes = re.search(r"limits:\n\s+cpu: \S+\n\s+memory: (\d+)Mi", deployment)
    assert mebibytes, "the deployment sets a memory limit"
    return int(mebibytes.group(1)) * 1024**2


def catalog_requests() -> list[pb.EvaluateRequest]:
    requests = []
    for line in (EXAMPLES / "catalog.jsonl").read_text().splitlines():
        item = json.loads(line)
        request = pb.EvaluateRequest(product=pb.Product(id=item["id"]))
        request.product.specs.update({**item["specs"], **{f"feed_field_{i}": i for i in range(EXTRA_FIELDS)}})
        requests.append(request)
    return requests


def rss(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm") as statm:
                total += int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except FileNotFoundError:
            continue
    return total


def test_normal_traffic_is_unharmed_while_every_hostile_client_attacks(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(BUNDLED_RULES, pack)
    working = tmp_path / "working"
    shutil.copytree(BUNDLED_RULES, working)
    with served(pack, tmp_path, 2, EARMARK_HEALTH_ADDRESS="127.0.0.1:0") as server:
        health_address = f"127.0.0.1:{server.bound()['health_port']}"
        studio, studio_url = studio_process(
            *(str(working), "--live", str(pack), "--catalog", str(EXAMPLES / "catalog.jsonl"))
        )
        try:
            with grpc.insecure_channel(server.address) as channel:
                wait_serving(channel, server.process)  # type: ignore[arg-type]  # bytes or text: only poll() is used
            assert wait_for(lambda: _studio_status(studio_url) == 200, 30)
            report = _run(server.address, health_address, studio_url, [server.process.pid, *server.workers()])
        finally:
            studio.terminate()
            studio.wait(20)
    print(json.dumps(report, indent=1))  # the figures, for the record (pytest -s)
    assert [] == report["normal_failures"]
    # Measured alone (make test runs it after the rest): 1.5-2.1x, and 2.6x once with three
    # stray servers from an earlier run still up. Serially right after the chaos test it
    # was 3.3-3.6x; first-come-first-served queueing gave 10.7x.
    assert report["attack_p99_ms"] <= P99_BOUND * report["baseline_p99_ms"], report
    assert {"SERVING": report["health_probes"]} == report["health"], (
        "health said otherwise while calls were served"
    )
    assert {"200": report["studio_requests"]} == report["studio"]
    assert report["max_rss_bytes"] < manifest_memory_limit()
    attacks = report["attackers"]
    assert attacks["reflection"].get("RESOURCE_EXHAUSTED", 0) > 100  # past EARMARK_MAX_STREAMS
    assert sum(attacks["name_bombs"].values()) >= 12  # three every 5 s; each got an answer
    assert sum(attacks["bursts"].values()) >= 1000  # 200 every 4 s
    assert attacks["stalled_callers"].get("DEADLINE_EXCEEDED", 0) >= 40  # each cancelled at least once
    assert attacks["idle_connections"].get("opened", 0) >= 5000
    assert attacks["studio_slowloris"].get("closed by Studio", 0) > 0


def _studio_status(url: str) -> int:
    try:
        return httpx.get(url + "/static/studio.css", timeout=5).status_code
    except httpx.HTTPError as exc:
        return -len(type(exc).__name__)  # never 200


def _run(address: str, health_address: str, studio_url: str, pids: list[int]) -> dict[str, object]:
    requests = catalog_requests()
    phase = ["baseline"]
    latencies: dict[str, list[float]] = {"baseline": [], "attack": []}
    attack_started = [0.0]
    attack_windows: dict[int, list[float]] = {}  # the attack's latencies by 10 s window
    failures: list[str] = []
    health: Counter[str] = Counter()
    studio: Counter[str] = Counter()
    memory = [0]
    stop = threading.Event()

    def normal_traffic(offset: int) -> None:
        with grpc.insecure_channel(address, options=[("grpc.service_config", SERVICE_CONFIG)]) as channel:
            stub = earmark_pb2_grpc.EarmarkStub(channel)
            n = offset
            while not stop.is_set():
                request = requests[n % len(requests)]
                n += 1
                started = time.perf_counter()
                try:
                    answer = stub.Evaluate(request, timeout=2)
                    if not answer.verdict.category:
                        failures.append(f"{request.product.id}: no category")
                except grpc.RpcError as exc:
                    failures.append(f"{phase[0]} {exc.code().name}: {exc.details()}")
                took = time.perf_counter() - started
                latencies[phase[0]].append(took)
                if phase[0] == "attack":
                    attack_windows.setdefault(int((started - attack_started[0]) // 10), []).append(took)
                stop.wait(0.01)

    def probes() -> None:
        with grpc.insecure_channel(health_address) as channel:
            check = health_pb2_grpc.HealthStub(channel).Check
            while not stop.wait(0.25):
                try:
                    answer = check(health_pb2.HealthCheckRequest(service="earmark.v1.Earmark"), timeout=2)
                    health[health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)] += 1
                except grpc.RpcError as exc:
                    health[exc.code().name] += 1

    def merchandiser() -> None:
        while not stop.wait(0.5):
            studio[str(_studio_status(studio_url))] += 1

    def watch_memory() -> None:
        while not stop.wait(0.5):
            memory[0] = max(memory[0], rss(pids))

    threads = [threading.Thread(target=normal_traffic, args=(i * 50,)) for i in range(4)]
    threads += [threading.Thread(target=job) for job in (probes, merchandiser, watch_memory)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(BASELINE_SECONDS)
        attack_started[0] = time.perf_counter()
        phase[0] = "attack"
        # At the lowest priority: the attackers share this machine's two cores with the
        # server, which in production they would not; niced, they take only the CPU the
        # server leaves, and the volume checks below show they still attacked in earnest.
        attackers = subprocess.run(
            ["nice", "-n", "19", sys.executable, str(HERE / "hostile_clients.py"), address, studio_url]
            + [str(ATTACK_SECONDS)]
            + ([os.environ["SOAK_ATTACKERS"]] if "SOAK_ATTACKERS" in os.environ else []),
            capture_output=True,
            text=True,
            # Slack for a niced process on a host other machines load: at a load average
            # of 90 it overran 60 s of slack (CI, twice), which failed the soak though no
            # normal call had failed.
            timeout=ATTACK_SECONDS + 240,
            check=True,
        )
        phase[0] = "baseline"
        time.sleep(BASELINE_SECONDS)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    p99 = {name: _p99_ms(values) for name, values in latencies.items()}
    # This machine has two cores, shared by the server, Studio, the attackers and this
    # test; one noisy 10 s window moved the whole attack's p99 by 3x from run to run. The
    # median window's p99 is what the check weighs; the whole attack's is reported beside.
    windows = [_p99_ms(values) for values in attack_windows.values() if len(values) >= 100]
    return {
        "baseline_calls": len(latencies["baseline"]),
        "attack_calls": len(latencies["attack"]),
        "baseline_p99_ms": round(p99["baseline"], 2),
        "attack_p99_ms": round(statistics.median(windows), 2),
        "attack_p99_ms_by_window": [round(value, 2) for value in windows],
        "attack_p99_ms_overall": round(p99["attack"], 2),
        "normal_failures": failures[:20],
        "health_probes": sum(health.values()),
        "health": dict(health),
        "studio_requests": sum(studio.values()),
        "studio": dict(studio),
        "max_rss_bytes": memory[0],
        "attackers": json.loads(attackers.stdout.strip().splitlines()[-1]),
    }


def _p99_ms(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] * 1000
