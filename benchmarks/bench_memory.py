"""4. Memory: the server's RSS over BENCH_MEMORY_EVALUATIONS (1,000,000) evaluations with
the verdict cache and the composition memo full and evicting; it must stay flat."""

from __future__ import annotations

import os
import random
from collections import deque
from typing import Any

import grpc
from common import WINDOW, big_catalog, rss_mib, start_servers, stop

from earmark.v1 import earmark_pb2 as pb
from earmark.v1 import earmark_pb2_grpc


def report() -> list[str]:
    lines: list[str] = []
    evaluations = int(os.environ.get("BENCH_MEMORY_EVALUATIONS", "1000000"))
    samples = memory_bench(evaluations)
    first, last = samples[0][1], samples[-1][1]
    lines.append(
        f"memory   server RSS over {samples[-1][0]:,} evaluations, cache (10,000 of 20,000 products) and memo (4,096) full and evicting: "
        + "  ".join(f"{n // 1000}k {mib:5.1f}" for n, mib in samples)
        + f" MiB   growth after the first tenth {last - first:+5.1f} MiB ({(last - first) / first:+4.1%})"
    )
    return lines


def memory_bench(evaluations: int) -> list[tuple[int, float]]:
    """The server's RSS (MiB) as `evaluations` products go through EvaluateBatch with the
    cache full: Zipf traffic over 20,000 products into a cache of 10,000, so it keeps
    evicting; their weights and batteries vary, which explanations quote, so the memo of
    4,096 compositions keeps evicting too. Returns (evaluations so far, RSS) at ten points."""
    products = big_catalog(20_000, vary_what_is_read=True)
    draw = random.Random(11).choices(
        range(len(products)), weights=[1 / (k + 1) ** 1.1 for k in range(len(products))], k=100_000
    )
    batches = []
    for b in range(len(draw) // 100):
        batch = pb.EvaluateBatchRequest()
        for n in draw[b * 100 : (b + 1) * 100]:
            item = batch.products.add(id=products[n].id)
            item.specs.update(products[n].specs)
        batches.append(batch)
    (server,), port = start_servers(1, cache_entries=10_000)
    channels = [
        grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)])
        for _ in range(4)
    ]
    try:
        stubs = [earmark_pb2_grpc.EarmarkStub(channel) for channel in channels]
        counter = iter(range(10**12))

        def evaluate_batch() -> Any:
            n = next(counter)
            return stubs[n % 4].EvaluateBatch.future(batches[n % len(batches)])

        samples = []
        step = max(1, evaluations // 10 // 100)  # batches between samples
        for point in range(1, 11):
            pending: deque[Any] = deque()
            for _ in range(step):
                if len(pending) >= WINDOW:
                    pending.popleft().result()
                pending.append(evaluate_batch())
            while pending:
                pending.popleft().result()
            samples.append((point * step * 100, rss_mib(server.pid)))
        return samples
    finally:
        stop(channels, [server])
