"""2. Over gRPC, cold (the verdict cache off, every product new): Evaluate calls/s against
a no-op RPC on a server with the same settings, and against a bare grpcio server of the
same contract; EvaluateBatch products/s for batches of 100; server CPU per call; each with
the composition memo on (new products whose verdicts read alike, as a catalog's do) and
off (every verdict composed); then the same with a process per core sharing the port."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from typing import Any

import grpc
from common import (
    QUIET_LOG,
    ROUNDS,
    SCORES_ONLY,
    big_catalog,
    cpu_seconds,
    evaluate_requests,
    pages,
    start_servers,
    stop,
    throughput,
)
from google.protobuf import field_mask_pb2
from targets import judge

from earmark.evaluation.evaluator import Evaluator
from earmark.v1 import earmark_pb2 as pb
from earmark.v1 import earmark_pb2_grpc


def report(evaluator: Evaluator, seconds: float) -> list[str]:
    lines: list[str] = []
    rpc = grpc_bench(evaluator, seconds)
    share = rpc["evaluate_per_s"] / rpc["noop_per_s"]
    lines.append(
        f"grpc     no-op RPC {rpc['noop_per_s']:8.0f} calls/s   Evaluate {rpc['evaluate_per_s']:8.0f} calls/s   ratio {share:4.0%}   {judge('evaluate_vs_noop', share)}"
    )
    bare_share = rpc["evaluate_per_s"] / rpc["bare_per_s"]
    lines.append(
        f"         bare grpcio no-op server, same contract, no interceptors {rpc['bare_per_s']:8.0f} calls/s ({rpc['bare_cpu_us']:4.0f} µs CPU)   "
        f"Evaluate/bare {bare_share:4.0%}   {judge('evaluate_vs_bare_grpcio', bare_share)}"
    )
    lines.append(
        f"         server CPU per call: no-op {rpc['noop_cpu_us']:5.0f} µs   Evaluate {rpc['evaluate_cpu_us']:5.0f} µs   ratio {rpc['noop_cpu_us'] / rpc['evaluate_cpu_us']:4.0%}"
    )
    lines.append(
        f"         no-op answering a canned verdict of the same size {rpc['canned_per_s']:6.0f} calls/s ({rpc['canned_cpu_us']:4.0f} µs CPU)   Evaluate/canned {rpc['evaluate_per_s'] / rpc['canned_per_s']:4.0%}"
    )
    lines.append(
        f"         scores only (read_mask): Evaluate {rpc['evaluate_scores_per_s']:8.0f} calls/s ({rpc['evaluate_scores_per_s'] / rpc['noop_per_s']:4.0%} of no-op)   "
        f"batch {rpc['batch_scores_per_s']:8.0f} products/s"
    )
    batch = rpc["batch_products_per_s"]
    lines.append(
        f"batch    EvaluateBatch of 100, one process: {batch:8.0f} products/s   {judge('batch_products_per_s', batch)}   server CPU {rpc['batch_cpu_us']:5.0f} µs/product"
    )
    cold_share = rpc["evaluate_per_s"] / rpc["bare_per_s"]
    miss_share = rpc["evaluate_memo_off_per_s"] / rpc["bare_per_s"]
    lines.append(
        f"cold     every product new, against the bare no-op: Evaluate {cold_share:4.2f}x with the memo, {miss_share:4.2f}x without   "
        f"{judge('cold_evaluate_vs_bare', cold_share)}"
    )
    lines.append(
        f"         with the rpc line written for 1% of calls (EARMARK_LOG_SAMPLE=0.01): Evaluate "
        f"{rpc['evaluate_quiet_per_s'] / rpc['bare_per_s']:4.2f}x"
    )
    lines.append(
        f"         EvaluateBatch of 100: {batch:6.0f} products/s with the memo, {rpc['batch_memo_off_per_s']:6.0f} without   "
        f"{judge('cold_batch_products_per_s', batch)}   server CPU {rpc['batch_cpu_us']:4.0f} and {rpc['batch_memo_off_cpu_us']:4.0f} µs/product"
    )
    workers = os.cpu_count() or 1
    if workers > 1:
        many = grpc_bench(evaluator, seconds, workers)
        lines.append(
            f"workers  {workers} processes on one port: no-op {many['noop_per_s']:6.0f} calls/s   "
            f"Evaluate {many['evaluate_per_s']:6.0f} calls/s ({many['evaluate_per_s'] / many['noop_per_s']:3.0%} of no-op, "
            f"{many['evaluate_per_s'] / rpc['evaluate_per_s']:4.2f}x one process)   "
            f"batch {many['batch_products_per_s']:6.0f} products/s ({many['batch_products_per_s'] / batch:4.2f}x one process)"
        )
        # The client shares the cores, so calls/s understate what the workers could do.
        # Capacity from server CPU per call: N processes each spending what one did give N x.
        for name, key in (("Evaluate", "evaluate_cpu_us"), ("batch", "batch_cpu_us")):
            capacity = workers * rpc[key] / many[key]
            lines.append(
                f"         {name} capacity from server CPU per call: {rpc[key]:5.0f} µs with one process, {many[key]:5.0f} µs with {workers}: "
                f"{capacity:4.2f}x   {judge('capacity_of_every_core', capacity)}"
            )
    return lines


def grpc_bench(evaluator: Evaluator, seconds: float, workers: int = 1) -> dict[str, float]:
    """Calls/s and server CPU per call for Evaluate, EvaluateBatch and the no-ops, with
    `workers` server processes sharing the port."""
    servers, port = start_servers(workers)
    bare_server, bare_port = start_servers(1, bare=True) if workers == 1 else ([], 0)
    # Every composition a miss: what the memo saves is the difference.
    memo_off, memo_off_port = start_servers(1, memo_entries=0) if workers == 1 else ([], 0)
    # The per-call log line is an operator's choice (EARMARK_LOG_SAMPLE): its cost, shown.
    quiet, quiet_port = start_servers(1, env=QUIET_LOG) if workers == 1 else ([], 0)
    # Separate connections, so that the kernel spreads them over the processes.
    channels = [
        grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)])
        for _ in range(4 * workers)
    ]
    bare_channels = [grpc.insecure_channel(f"127.0.0.1:{bare_port}") for _ in bare_server]
    memo_off_channels = [
        grpc.insecure_channel(f"127.0.0.1:{memo_off_port}", options=[("grpc.use_local_subchannel_pool", 1)])
        for _ in range(4 if memo_off else 0)
    ]
    quiet_channels = [
        grpc.insecure_channel(f"127.0.0.1:{quiet_port}", options=[("grpc.use_local_subchannel_pool", 1)])
        for _ in range(4 if quiet else 0)
    ]
    try:
        bare_stubs = [earmark_pb2_grpc.EarmarkStub(channel) for channel in bare_channels]
        stubs = [earmark_pb2_grpc.EarmarkStub(channel) for channel in channels]
        memo_off_stubs = [earmark_pb2_grpc.EarmarkStub(channel) for channel in memo_off_channels]
        quiet_stubs = [earmark_pb2_grpc.EarmarkStub(channel) for channel in quiet_channels]
        noops, canneds = (
            [
                channel.unary_unary(
                    f"/earmark.bench.Noop/{name}",
                    request_serializer=pb.EvaluateRequest.SerializeToString,
                    response_deserializer=pb.EvaluateResponse.FromString,
                )
                for channel in channels
            ]
            for name in ("Call", "Canned")
        )
        # Every product new to the verdict cache (which is off anyway): a catalog's worth.
        requests = evaluate_requests(big_catalog(10_000))
        batches = pages(requests)
        # The same calls asking only for what a listing page shows (AIP-157 read_mask).
        scores_mask = field_mask_pb2.FieldMask(paths=SCORES_ONLY)
        scores_requests = []
        for request in requests:
            masked = pb.EvaluateRequest()
            masked.CopyFrom(request)
            masked.read_mask.CopyFrom(scores_mask)
            scores_requests.append(masked)
        scores_batch = pb.EvaluateBatchRequest()
        scores_batch.CopyFrom(batches[0])
        scores_batch.read_mask.CopyFrom(scores_mask)
        counter = iter(range(10**12))

        def evaluate() -> Any:
            n = next(counter)
            return stubs[n % len(stubs)].Evaluate.future(requests[n % len(requests)])

        def noop_call() -> Any:
            n = next(counter)
            return noops[n % len(noops)].future(requests[n % len(requests)])

        def canned_call() -> Any:
            n = next(counter)
            return canneds[n % len(canneds)].future(requests[n % len(requests)])

        def evaluate_batch() -> Any:
            n = next(counter)
            return stubs[n % len(stubs)].EvaluateBatch.future(batches[n % len(batches)])

        def evaluate_memo_off() -> Any:
            n = next(counter)
            return memo_off_stubs[n % len(memo_off_stubs)].Evaluate.future(requests[n % len(requests)])

        def batch_memo_off() -> Any:
            n = next(counter)
            return memo_off_stubs[n % len(memo_off_stubs)].EvaluateBatch.future(batches[n % len(batches)])

        def evaluate_quiet() -> Any:
            n = next(counter)
            return quiet_stubs[n % len(quiet_stubs)].Evaluate.future(requests[n % len(requests)])

        def bare_noop() -> Any:
            return bare_stubs[0].Evaluate.future(requests[next(counter) % len(requests)])

        def evaluate_scores() -> Any:
            n = next(counter)
            return stubs[n % len(stubs)].Evaluate.future(scores_requests[n % len(scores_requests)])

        def batch_scores() -> Any:
            return stubs[next(counter) % len(stubs)].EvaluateBatch.future(scores_batch)

        throughput(evaluate, 1), throughput(noop_call, 1)  # warm up
        paths: list[tuple[str, Callable[[], Any], int, list[subprocess.Popen[bytes]]]] = [
            ("noop", noop_call, 1, servers),
            ("canned", canned_call, 1, servers),
            ("evaluate", evaluate, 1, servers),
            ("batch", evaluate_batch, 100, servers),
            ("evaluate_scores", evaluate_scores, 1, servers),
            ("batch_scores", batch_scores, 100, servers),
        ]
        if bare_server:
            paths.append(("bare", bare_noop, 1, bare_server))
        if quiet:
            paths.append(("evaluate_quiet", evaluate_quiet, 1, quiet))
        if memo_off:
            paths += [
                ("evaluate_memo_off", evaluate_memo_off, 1, memo_off),
                ("batch_memo_off", batch_memo_off, 100, memo_off),
            ]
        rates: dict[str, float] = {}
        cpu: dict[str, float] = {}
        for _ in range(ROUNDS):  # interleaved, keeping each path's best
            for key, call, per_call, measured in paths:
                before = sum(cpu_seconds(s.pid) for s in measured)
                calls, took = throughput(call, seconds)
                used = (sum(cpu_seconds(s.pid) for s in measured) - before) / (calls * per_call) * 1e6
                rates[key] = max(rates.get(key, 0.0), calls * per_call / took)
                cpu[key] = min(cpu.get(key, float("inf")), used)
        return {
            "noop_per_s": rates["noop"],
            "evaluate_per_s": rates["evaluate"],
            "batch_products_per_s": rates["batch"],
            "noop_cpu_us": cpu["noop"],
            "evaluate_cpu_us": cpu["evaluate"],
            "batch_cpu_us": cpu["batch"],
            "canned_per_s": rates["canned"],
            "canned_cpu_us": cpu["canned"],
            "evaluate_scores_per_s": rates["evaluate_scores"],
            "batch_scores_per_s": rates["batch_scores"],
            "bare_per_s": rates.get("bare", 0.0),
            "bare_cpu_us": cpu.get("bare", 0.0),
            "evaluate_memo_off_per_s": rates.get("evaluate_memo_off", 0.0),
            "batch_memo_off_per_s": rates.get("batch_memo_off", 0.0),
            "batch_memo_off_cpu_us": cpu.get("batch_memo_off", 0.0),
            "evaluate_quiet_per_s": rates.get("evaluate_quiet", 0.0),
        }
    finally:
        stop(
            channels + bare_channels + memo_off_channels + quiet_channels,
            servers + bare_server + memo_off + quiet,
        )
