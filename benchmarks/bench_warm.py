"""3. Warm: the caches on, Zipf-distributed traffic over 10,000 products (a few
bestsellers asked for all the time, a long tail rarely), against the no-op, once the
server has answered every request of the traffic once, as a server that has been up a
while has. The cold figures (bench_grpc.py) are always reported beside these."""

from __future__ import annotations

import random
from typing import Any

import grpc
from common import QUIET_LOG, ROUNDS, big_catalog, evaluate_requests, start_servers, stop, throughput
from targets import judge

from earmark.v1 import earmark_pb2 as pb
from earmark.v1 import earmark_pb2_grpc


def report(seconds: float) -> list[str]:
    lines: list[str] = []
    warm = warm_bench(seconds)
    share = warm["evaluate"] / warm["noop"]
    lines.append(
        f"warm     caches on, Zipf over 10,000 products, each seen once: Evaluate {warm['evaluate']:6.0f} calls/s ({share:4.0%} of no-op {warm['noop']:6.0f})   "
        f"{judge('warm_evaluate_vs_noop', share)}   batch {warm['batch']:7.0f} products/s   "
        f"{judge('warm_batch_products_per_s', warm['batch'])}   (the cold figures above are with the cache off)"
    )
    bare_share = warm["evaluate"] / warm["bare"]
    lines.append(
        f"         against the bare grpcio no-op {warm['bare']:6.0f} calls/s: Evaluate {bare_share:4.2f}x   {judge('warm_evaluate_vs_bare', bare_share)}   "
        f"with the rpc line written for 1% of calls (EARMARK_LOG_SAMPLE=0.01) {warm['evaluate_quiet'] / warm['bare']:4.2f}x"
    )
    return lines


def _ask_each_once(stub: Any, requests: list[Any], batches: list[Any], window: int = 64) -> None:
    """Fill the caches as production traffic would over time: every request the measured
    traffic makes is answered once first (without it the long tail's first askings, cold,
    decided the warm figure)."""
    for start in range(0, len(requests), window):
        for future in [stub.Evaluate.future(r) for r in requests[start : start + window]]:
            future.result()
    for future in [stub.EvaluateBatch.future(b) for b in batches]:
        future.result()


def warm_bench(seconds: float) -> dict[str, float]:
    """Real traffic with the cache on: Zipf-distributed requests over 10,000 products (a
    few bestsellers asked for all the time, a long tail rarely), against the no-op."""
    products = big_catalog()
    draw = random.Random(7).choices(
        range(len(products)), weights=[1 / (k + 1) ** 1.1 for k in range(len(products))], k=100_000
    )
    requests = evaluate_requests(products)
    batches = []
    for b in range(200):
        batch = pb.EvaluateBatchRequest()
        for n in draw[b * 100 : (b + 1) * 100]:
            batch.products.append(requests[n].product)
        batches.append(batch)
    servers, port = start_servers(1, cache_entries=len(products))
    quiet_server, quiet_port = start_servers(1, cache_entries=len(products), env=QUIET_LOG)
    bare_server, bare_port = start_servers(1, bare=True)
    bare_channel = grpc.insecure_channel(f"127.0.0.1:{bare_port}")
    channels, quiet_channels = (
        [
            grpc.insecure_channel(f"127.0.0.1:{p}", options=[("grpc.use_local_subchannel_pool", 1)])
            for _ in range(4)
        ]
        for p in (port, quiet_port)
    )
    try:
        stubs = [earmark_pb2_grpc.EarmarkStub(channel) for channel in channels]
        quiet_stubs = [earmark_pb2_grpc.EarmarkStub(channel) for channel in quiet_channels]
        noops = [
            channel.unary_unary(
                "/earmark.bench.Noop/Call",
                request_serializer=pb.EvaluateRequest.SerializeToString,
                response_deserializer=pb.EvaluateResponse.FromString,
            )
            for channel in channels
        ]
        counter = iter(range(10**12))

        def evaluate() -> Any:
            n = next(counter)
            return stubs[n % 4].Evaluate.future(requests[draw[n % len(draw)]])

        def evaluate_quiet() -> Any:
            n = next(counter)
            return quiet_stubs[n % 4].Evaluate.future(requests[draw[n % len(draw)]])

        def noop_call() -> Any:
            n = next(counter)
            return noops[n % 4].future(requests[draw[n % len(draw)]])

        def evaluate_batch() -> Any:
            n = next(counter)
            return stubs[n % 4].EvaluateBatch.future(batches[n % len(batches)])

        bare = earmark_pb2_grpc.EarmarkStub(bare_channel)

        def bare_noop() -> Any:
            return bare.Evaluate.future(requests[draw[next(counter) % len(draw)]])

        for stub in (stubs[0], quiet_stubs[0]):
            _ask_each_once(stub, [requests[n] for n in sorted(set(draw))], batches)
        rates: dict[str, float] = {}
        for _ in range(ROUNDS):
            for key, call, per_call in (
                ("noop", noop_call, 1),
                ("evaluate", evaluate, 1),
                ("evaluate_quiet", evaluate_quiet, 1),
                ("batch", evaluate_batch, 100),
                ("bare", bare_noop, 1),
            ):
                calls, took = throughput(call, seconds)
                rates[key] = max(rates.get(key, 0.0), calls * per_call / took)
        return rates
    finally:
        stop([*channels, *quiet_channels, bare_channel], servers + quiet_server + bare_server)
