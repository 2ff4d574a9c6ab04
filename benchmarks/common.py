"""What the benchmarks share: the sample catalogs, servers to measure (this code's, a bare
grpcio one, or an older commit's), and how calls/s, CPU and memory are read."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc

from earmark.config import Address
from earmark.evaluation.catalog import CatalogProduct, read_catalog
from earmark.evaluation.evaluator import Evaluator
from earmark.server.supervisor import hold_free_port
from earmark.v1 import earmark_pb2 as pb

HERE = Path(__file__).resolve().parent
CATALOG = HERE.parent / "examples" / "catalog.jsonl"
SCORES_ONLY = ["product_id", "category", "scores.use_case", "scores.score", "fit.score"]
ROUNDS = 3  # alternate the measured paths so drift hits both alike
WINDOW = 16  # calls in flight from the client
# What a server is started with to show the per-call log line's cost: the rpc lines of
# successful, quick calls written for 1 in 100 (EARMARK_LOG_SAMPLE; errors always are).
QUIET_LOG = {"EARMARK_LOG_SAMPLE": "0.01"}
SERVER_LOG = tempfile.TemporaryFile()  # noqa: SIM115  # the servers' log lines, for the whole run


def catalog(evaluator: Evaluator) -> list[dict[str, Any]]:
    """The pack's example products, and two that match few rules."""
    products = [case.product for case in evaluator.pack.examples]
    return [*products, {}, {"price_usd": 20}]


def big_catalog(size: int = 10_000, *, vary_what_is_read: bool = False) -> list[CatalogProduct]:
    """The sample catalog repeated with varied prices: `size` distinct products. Their
    verdicts read alike (about 200 composition-memo keys), as a real catalog's do. With
    `vary_what_is_read`, weights and battery hours vary too, which explanations quote:
    nearly every product is a new memo key, the memo's worst case."""
    with open(CATALOG, encoding="utf-8") as lines:
        base = list(read_catalog(lines))
    products = []
    for i, p in zip(range(size), itertools.cycle(base), strict=False):
        specs = {**p.specs, "price_usd": 20 + i % 400}
        if vary_what_is_read:
            specs |= {"weight_g": 5 + (i * 7919) % 440, "battery_hours": 1 + (i * 104729) % 80}
        products.append(CatalogProduct(f"{p.id}-{i}", specs, p.line))
    return products


def evaluate_requests(products: list[CatalogProduct]) -> list[pb.EvaluateRequest]:
    """One Evaluate request per product, as a storefront would send it."""
    requests = []
    for product in products:
        request = pb.EvaluateRequest(product=pb.Product(id=product.id))
        request.product.specs.update(product.specs)
        requests.append(request)
    return requests


def pages(requests: list[pb.EvaluateRequest], size: int = 100) -> list[pb.EvaluateBatchRequest]:
    """The requests' products as EvaluateBatch pages of `size`, in order; full pages only."""
    batches = []
    for start in range(0, len(requests) - size + 1, size):
        page = pb.EvaluateBatchRequest()
        page.products.extend(r.product for r in requests[start : start + size])
        batches.append(page)
    return batches


def start_servers(
    workers: int,
    cache_entries: int = 0,
    *,
    memo_entries: int | None = None,
    bare: bool = False,
    source: Path | None = None,
    env: dict[str, str] | None = None,
) -> tuple[list[subprocess.Popen[bytes]], int]:
    """`workers` server processes sharing one free port, and the port. The cache is off
    unless asked for: cold figures must be cold. The composition memo is as configured by
    default unless `memo_entries` says otherwise (0: off). `bare`: a bare grpcio server of the same
    contract instead (server_with_noop.py). `source`: a checkout of other code to serve
    instead of this one (see bench_against.py). `env`: more variables for the servers.

    The port is chosen by binding port 0 and held (SO_REUSEPORT, never listening) until
    the servers have bound it beside it, so no other program takes it in between."""
    # Logging as deployed: a JSON line per RPC (a cost every caller pays), to a file as a
    # container runtime would take it.
    extra, env = (
        env or {},
        {
            **os.environ,
            "EARMARK_LOG_LEVEL": "info",
            "EARMARK_LOG_FORMAT": "json",
            "EARMARK_WORKERS": "1",
            "EARMARK_CACHE_ENTRIES": str(cache_entries),
        },
    )
    if memo_entries is not None:
        env["EARMARK_MEMO_ENTRIES"] = str(memo_entries)
    env.update(extra)
    if source is not None:
        env["PYTHONPATH"] = str(source / "service")
    script = (source / "benchmarks" if source is not None else HERE) / "server_with_noop.py"
    address, holder = hold_free_port("127.0.0.1:0")  # as the supervisor holds it for workers
    assert holder is not None
    with holder:
        port = Address.parse(address).port
        processes = [
            subprocess.Popen(
                [
                    sys.executable,
                    str(script),
                    f"127.0.0.1:{port}",
                    "--share-port",
                    *(["--bare"] if bare else []),
                ],
                env=env,
                stderr=SERVER_LOG,
            )
            for _ in range(workers)
        ]
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=60)
        channel.close()
    time.sleep(2 if workers > 1 else 0)  # every process has loaded the pack
    return processes, port


def stop(channels: list[grpc.Channel], servers: list[subprocess.Popen[bytes]]) -> None:
    for channel in channels:
        channel.close()
    for server in servers:
        server.send_signal(signal.SIGTERM)
    for server in servers:
        server.wait(timeout=30)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (from /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def throughput(call: Callable[[], Any], seconds: float) -> tuple[int, float]:
    """(calls, seconds) with WINDOW calls in flight from one client thread."""
    pending: deque[Any] = deque()
    done = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        while len(pending) < WINDOW:
            pending.append(call())
        pending.popleft().result()
        done += 1
    while pending:
        pending.popleft().result()
        done += 1
    return done, time.perf_counter() - start


def catalog_requests(catalog_file: Path = CATALOG) -> list[pb.EvaluateRequest]:
    """One Evaluate request per line of a sample catalog, each product id made unique."""
    requests = []
    for i, line in enumerate(catalog_file.read_text().splitlines()):
        item = json.loads(line)
        request = pb.EvaluateRequest(product=pb.Product(id=f"{i}-{item['id']}"))
        request.product.specs.update(item["specs"])
        requests.append(request)
    return requests


def cycling(
    call: Callable[[pb.EvaluateRequest], Any], requests: list[pb.EvaluateRequest]
) -> Callable[[], Any]:
    """A call that sends the next of `requests` each time, round and round."""
    counter = iter(range(10**12))
    return lambda: call(requests[next(counter) % len(requests)])


def alternating_best(
    calls: dict[Any, Callable[[], Any]], pids: dict[Any, int], seconds: float
) -> dict[Any, tuple[float, float]]:
    """Each path's best calls/s and least server CPU µs per call over ROUNDS rounds, the
    paths measured in turn within each round, so that the machine's drift hits all alike.
    `pids`: the server process whose CPU each path is charged."""
    for call in calls.values():  # warm up
        throughput(call, 0.5)
    best: dict[Any, tuple[float, float]] = {}
    for _ in range(ROUNDS):
        for key, call in calls.items():
            before = cpu_seconds(pids[key])
            done, took = throughput(call, seconds)
            cpu_us = (cpu_seconds(pids[key]) - before) / done * 1e6
            rate, least = best.get(key, (0.0, float("inf")))
            best[key] = (max(rate, done / took), min(least, cpu_us))
    return best
