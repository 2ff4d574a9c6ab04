"""`make bench`: Earmark's costs, each printed as a ratio to a baseline measured in the
same run (these machines are shared and noisy, so absolute figures drift). Every server
figure is cold (the verdict cache off) unless the line says "warm".

1. Engine: µs per product from the request's Struct to a filled Verdict message, against
   raw durable_rules asserting the same product JSON into the same compiled ruleset and
   reading back what fired (target: at most 2.5x); the same asking for scores only
   (read_mask); and each stage on its own.
2. Evaluate calls/s against a no-op RPC on a server with the same settings (target: at
   least 75%), and EvaluateBatch products/s for batches of 100 (target: 16,000).
3. Warm: the cache on, Zipf-distributed traffic over 10,000 products (targets: Evaluate at
   least 90% of the no-op, batches 40,000 products/s).
4. Memory: the server's RSS over BENCH_MEMORY_EVALUATIONS (1,000,000) evaluations with
   the cache full and evicting; it must stay flat.
5. Earmark Studio: opening a 10,000-product catalog (cold and warm; target under 2 s)
   and checking a rule file while it is typed (studio_bench.py).
6. Against older code: the no-op and Evaluate on this code and on a checkout of an
   earlier commit (BENCH_AGAINST), side by side in the same run (against.py).
"""

from __future__ import annotations

import itertools
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import durable_rules_engine
import grpc
import structlog
from google.protobuf import field_mask_pb2, struct_pb2
from studio_bench import report, studio_bench

from earmark.authoring.impact import CatalogProduct, compare, read_catalog
from earmark.config import BUNDLED_RULES
from earmark.evaluation.evaluator import Evaluator
from earmark.evaluation.validation import Subject
from earmark.logs import configure_logging
from earmark.server.metrics import Metrics
from earmark.server.wire import fill_verdict, read_mask, struct_values
from earmark.v1 import earmark_pb2 as pb
from earmark.v1 import earmark_pb2_grpc

HERE = Path(__file__).resolve().parent
SCORES_ONLY = ["product_id", "category", "scores.use_case", "scores.score", "fit.score"]
CATALOG = HERE.parent / "examples" / "catalog.jsonl"
ROUNDS = 3  # alternate the measured paths so drift hits both alike
WINDOW = 16  # calls in flight from the client
SERVER_LOG = tempfile.TemporaryFile()  # noqa: SIM115  # the servers' log lines, for the whole run


def catalog(evaluator: Evaluator) -> list[dict[str, Any]]:
    products = [case.product for case in evaluator.pack.examples]
    return [*products, {}, {"price_usd": 20}]  # the last two match few rules


# ---- 1. engine ------------------------------------------------------------------------


def engine_bench(evaluator: Evaluator) -> dict[str, float]:
    products = catalog(evaluator)
    structs = []
    for specs in products:
        message = struct_pb2.Struct()
        message.update(specs)
        structs.append(message)
    rules = evaluator.rules
    handle = rules.handle  # the same compiled ruleset Earmark uses
    validator = evaluator.validator
    facts = [rules.encode_fact(validator.specs(specs), None, "bench") for specs in products]
    n = 20_000

    def raw() -> float:
        start = time.perf_counter()
        for i in range(n):
            fact = facts[i % len(facts)]
            _, state = durable_rules_engine.assert_fact(handle, fact)
            result = durable_rules_engine.start_action_for_state(handle, state)
            fired = []
            while result:
                message = result[1] if isinstance(result, tuple) else result
                fired.append(message[2 : message.index('"', 2)])
                result = durable_rules_engine.complete_and_start_action(handle, state)
            durable_rules_engine.retract_fact(handle, fact)
        return (time.perf_counter() - start) / n * 1e6

    def earmark() -> float:
        """Validate the decoded attributes, evaluate, compose the verdict."""
        start = time.perf_counter()
        for i in range(n):
            specs = validator.specs(decoded[i % len(decoded)])
            evaluator.evaluate(Subject("p", specs, None))
        return (time.perf_counter() - start) / n * 1e6

    def earmark_from_struct() -> float:
        """The whole path: from the request's protobuf Struct to a filled Verdict message."""
        start = time.perf_counter()
        for i in range(n):
            specs = validator.specs(struct_values(structs[i % len(structs)], validator.spec_names))
            fill_verdict(pb.Verdict(), evaluator.evaluate(Subject("p", specs, None)), trace=False)
        return (time.perf_counter() - start) / n * 1e6

    scores_mask = read_mask(field_mask_pb2.FieldMask(paths=SCORES_ONLY))

    def scores_only_from_struct() -> float:
        """From the Struct, composing no words (what read_mask = SCORES_ONLY asks for)."""
        start = time.perf_counter()
        for i in range(n):
            specs = validator.specs(struct_values(structs[i % len(structs)], validator.spec_names))
            verdict = evaluator.evaluate(Subject("p", specs, None), words=False)
            fill_verdict(pb.Verdict(), verdict, trace=False, mask=scores_mask)
        return (time.perf_counter() - start) / n * 1e6

    decoded = [dict(specs) for specs in products]
    raw(), earmark(), earmark_from_struct()  # warm up
    result = {"raw_us": 0.0, "earmark_us": 0.0, "struct_us": 0.0, "scores_us": 0.0}
    paths = (
        ("raw_us", raw),
        ("earmark_us", earmark),
        ("struct_us", earmark_from_struct),
        ("scores_us", scores_only_from_struct),
    )
    for _ in range(ROUNDS):  # interleaved, keeping each path's best
        for key, measure in paths:
            took = measure()
            result[key] = took if not result[key] else min(result[key], took)
    durable_rules_engine.delete_state(handle, "bench")
    result.update(stage_costs(evaluator, structs))
    return result


def stage_costs(evaluator: Evaluator, structs: list[struct_pb2.Struct]) -> dict[str, float]:
    """µs per product of each stage of the request path, each timed on its own over the
    same products (best of ROUNDS): where a gain or a loss is."""
    validator, rules, composer = (
        evaluator.validator,
        evaluator.rules,
        evaluator.composers[evaluator.pack.default_locale],
    )
    names = validator.spec_names
    decoded = [struct_values(s, names) for s in structs]
    specs = [validator.specs(d) for d in decoded]
    fired = [rules.fired(s, None) for s in specs]
    verdicts = [composer.compose("p", s, None, f) for s, f in zip(specs, fired, strict=True)]
    messages = [fill_verdict(pb.Verdict(), v, trace=False) for v in verdicts]
    count = len(structs)
    # What the interceptor adds to every call: its log line (JSON, as deployed) and metrics.
    configure_logging("info", "json", SERVER_LOG)
    rpc_log = structlog.get_logger("earmark.rpc")
    metrics = Metrics()
    method = "/earmark.v1.Earmark/Evaluate"
    line = {"method": method, "status": "OK", "outcome": "ok", "duration_ms": 0.321}

    def log_line(i: int) -> None:
        structlog.contextvars.bind_contextvars(request_id="0f3a9c2e")
        rpc_log.info("rpc", **line)
        structlog.contextvars.clear_contextvars()

    stages: dict[str, Callable[[int], object]] = {
        "decode_us": lambda i: struct_values(structs[i], names),
        "validate_us": lambda i: validator.specs(decoded[i]),
        "engine_us": lambda i: rules.fired(specs[i], None),
        "compose_us": lambda i: composer.compose("p", specs[i], None, fired[i]),
        "compose_scores_us": lambda i: composer.compose("p", specs[i], None, fired[i], words=False),
        "fill_us": lambda i: fill_verdict(pb.Verdict(), verdicts[i], trace=False),
        "serialize_us": lambda i: messages[i].SerializeToString(),
        "log_us": log_line,
        "metrics_us": lambda i: metrics.record_call(method, "OK", 0.000321),
    }
    n = 20_000
    best: dict[str, float] = {}
    for _ in range(ROUNDS):
        for key, stage in stages.items():
            start = time.perf_counter()
            for i in range(n):
                stage(i % count)
            took = (time.perf_counter() - start) / n * 1e6
            best[key] = min(best.get(key, took), took)
    return best


# ---- 2 and 3. over gRPC ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_servers(
    port: int, workers: int, cache_entries: int = 0, *, bare: bool = False, source: Path | None = None
) -> list[subprocess.Popen[bytes]]:
    """`workers` server processes on one port; several share it with SO_REUSEPORT, as the
    supervisor's workers do. The cache is off unless asked for: cold figures must be cold.
    `bare`: a bare grpcio server of the same contract instead (server_with_noop.py).
    `source`: a checkout of other code to serve instead of this one (see against.py)."""
    # Logging as deployed: a JSON line per RPC (a cost every caller pays), to a file as a
    # container runtime would take it.
    env = {
        **os.environ,
        "EARMARK_LOG_LEVEL": "info",
        "EARMARK_LOG_FORMAT": "json",
        "EARMARK_WORKERS": "1",
        "EARMARK_CACHE_ENTRIES": str(cache_entries),
    }
    if source is not None:
        env["PYTHONPATH"] = str(source / "service")
    script = (source / "benchmarks" if source is not None else HERE) / "server_with_noop.py"
    share = ["--share-port"] if workers > 1 else []
    share += ["--bare"] if bare else []
    processes = [
        subprocess.Popen(
            [sys.executable, str(script), f"127.0.0.1:{port}", *share],
            env=env,
            stderr=SERVER_LOG,
        )
        for _ in range(workers)
    ]
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    grpc.channel_ready_future(channel).result(timeout=60)
    channel.close()
    time.sleep(2 if workers > 1 else 0)  # every process has loaded the pack
    return processes


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


def grpc_bench(evaluator: Evaluator, seconds: float, workers: int = 1) -> dict[str, float]:
    """Calls/s and server CPU per call for Evaluate, EvaluateBatch and the no-ops, with
    `workers` server processes sharing the port."""
    port, bare_port = free_port(), free_port()
    servers = start_servers(port, workers)
    bare_server = start_servers(bare_port, 1, bare=True) if workers == 1 else []
    # Separate connections, so that the kernel spreads them over the processes.
    channels = [
        grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)])
        for _ in range(4 * workers)
    ]
    bare_channels = [grpc.insecure_channel(f"127.0.0.1:{bare_port}") for _ in bare_server]
    try:
        bare_stubs = [earmark_pb2_grpc.EarmarkStub(channel) for channel in bare_channels]
        stubs = [earmark_pb2_grpc.EarmarkStub(channel) for channel in channels]
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
        products = catalog(evaluator)
        requests = []
        for i, specs in enumerate(products):
            request = pb.EvaluateRequest(product=pb.Product(id=str(i)))
            request.product.specs.update(specs)
            requests.append(request)
        batch = pb.EvaluateBatchRequest()
        for i in range(100):
            item = batch.products.add(id=str(i))
            item.specs.update(products[i % len(products)])
        # The same calls asking only for what a listing page shows (AIP-157 read_mask).
        scores_mask = field_mask_pb2.FieldMask(paths=SCORES_ONLY)
        scores_requests = []
        for request in requests:
            masked = pb.EvaluateRequest()
            masked.CopyFrom(request)
            masked.read_mask.CopyFrom(scores_mask)
            scores_requests.append(masked)
        scores_batch = pb.EvaluateBatchRequest()
        scores_batch.CopyFrom(batch)
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
            return stubs[next(counter) % len(stubs)].EvaluateBatch.future(batch)

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
        }
    finally:
        stop(channels + bare_channels, servers + bare_server)


def big_catalog(size: int = 10_000) -> list[CatalogProduct]:
    """The sample catalog repeated with varied prices: `size` distinct products."""
    with open(CATALOG, encoding="utf-8") as lines:
        base = list(read_catalog(lines))
    return [
        CatalogProduct(f"{p.id}-{i}", {**p.specs, "price_usd": 20 + i % 400}, p.line)
        for i, p in zip(range(size), itertools.cycle(base), strict=False)
    ]


def warm_bench(seconds: float) -> dict[str, float]:
    """Real traffic with the cache on: Zipf-distributed requests over 10,000 products (a
    few bestsellers asked for all the time, a long tail rarely), against the no-op."""
    products = big_catalog()
    draw = random.Random(7).choices(
        range(len(products)), weights=[1 / (k + 1) ** 1.1 for k in range(len(products))], k=100_000
    )
    requests = []
    for product in products:
        request = pb.EvaluateRequest(product=pb.Product(id=product.id))
        request.product.specs.update(product.specs)
        requests.append(request)
    batches = []
    for b in range(200):
        batch = pb.EvaluateBatchRequest()
        for n in draw[b * 100 : (b + 1) * 100]:
            batch.products.append(requests[n].product)
        batches.append(batch)
    port = free_port()
    servers = start_servers(port, 1, cache_entries=len(products))
    channels = [
        grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)])
        for _ in range(4)
    ]
    try:
        stubs = [earmark_pb2_grpc.EarmarkStub(channel) for channel in channels]
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

        def noop_call() -> Any:
            n = next(counter)
            return noops[n % 4].future(requests[draw[n % len(draw)]])

        def evaluate_batch() -> Any:
            n = next(counter)
            return stubs[n % 4].EvaluateBatch.future(batches[n % len(batches)])

        (
            throughput(evaluate, seconds),
            throughput(evaluate_batch, seconds),
        )  # the cache fills, as in production
        rates: dict[str, float] = {}
        for _ in range(ROUNDS):
            for key, call, per_call in (
                ("noop", noop_call, 1),
                ("evaluate", evaluate, 1),
                ("batch", evaluate_batch, 100),
            ):
                calls, took = throughput(call, seconds)
                rates[key] = max(rates.get(key, 0.0), calls * per_call / took)
        return rates
    finally:
        stop(channels, servers)


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def memory_bench(evaluations: int) -> list[tuple[int, float]]:
    """The server's RSS (MiB) as `evaluations` products go through EvaluateBatch with the
    cache full: Zipf traffic over 20,000 products into a cache of 10,000, so it keeps
    evicting. Returns (evaluations so far, RSS) at ten points."""
    products = big_catalog(20_000)
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
    port = free_port()
    (server,) = start_servers(port, 1, cache_entries=10_000)
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


def diff_bench(evaluator: Evaluator) -> tuple[int, float]:
    """`earmark diff` over 10,000 products (the sample catalog, repeated with varied prices),
    between the bundled pack and a copy with one rule changed."""
    catalog = big_catalog()
    with tempfile.TemporaryDirectory() as scratch:
        edited = Path(scratch) / "audio"
        shutil.copytree(BUNDLED_RULES, edited)
        sys.path.insert(0, str(HERE.parent / "tests"))  # the one helper that edits a pack
        from helpers import set_boom_meetings

        if set_boom_meetings(edited, 17) == 17:
            raise SystemExit("diff bench: the edit changed nothing; pick another amount")
        new = Evaluator.from_directory(edited)
        start = time.perf_counter()
        report = compare(evaluator, new, catalog)
        took = time.perf_counter() - start
        new.close()
    return report["products"], took


def main() -> int:
    seconds = float(os.environ.get("BENCH_SECONDS", "3"))
    evaluator = Evaluator.from_directory(BUNDLED_RULES)
    print(
        f"pack {evaluator.pack.version}: {len(evaluator.pack.rules)} rules; {os.cpu_count()} CPUs; best of {ROUNDS} rounds"
    )
    engine = engine_bench(evaluator)
    ratio = engine["earmark_us"] / engine["raw_us"]
    print(
        f"engine   raw durable_rules {engine['raw_us']:6.1f} µs/product   earmark validate+evaluate+compose {engine['earmark_us']:6.1f} µs/product   ratio {ratio:4.2f}x"
    )
    struct_ratio = engine["struct_us"] / engine["raw_us"]
    print(
        f"         from the request's Struct to a filled Verdict {engine['struct_us']:6.1f} µs/product   ratio {struct_ratio:4.2f}x   target <= 2.5x   {'PASS' if struct_ratio <= 2.5 else 'MISS'}"
    )
    print(
        f"         the same, scores only (read_mask)          {engine['scores_us']:6.1f} µs/product   ratio {engine['scores_us'] / engine['raw_us']:4.2f}x"
    )
    print(
        "stages   µs/product: "
        + "   ".join(
            f"{name} {engine[key]:5.1f}"
            for name, key in (
                ("decode", "decode_us"),
                ("validate", "validate_us"),
                ("engine", "engine_us"),
                ("compose", "compose_us"),
                ("compose scores only", "compose_scores_us"),
                ("fill", "fill_us"),
                ("serialize", "serialize_us"),
                ("per-RPC log line", "log_us"),
                ("metrics", "metrics_us"),
            )
        )
    )
    rpc = grpc_bench(evaluator, seconds)
    share = rpc["evaluate_per_s"] / rpc["noop_per_s"]
    print(
        f"grpc     no-op RPC {rpc['noop_per_s']:8.0f} calls/s   Evaluate {rpc['evaluate_per_s']:8.0f} calls/s   ratio {share:4.0%}   target >= 75%   {'PASS' if share >= 0.75 else 'MISS'}"
    )
    bare_share = rpc["evaluate_per_s"] / rpc["bare_per_s"]
    print(
        f"         bare grpcio no-op server, same contract, no interceptors {rpc['bare_per_s']:8.0f} calls/s ({rpc['bare_cpu_us']:4.0f} µs CPU)   "
        f"Evaluate/bare {bare_share:4.0%}   target >= 60%   {'PASS' if bare_share >= 0.6 else 'MISS'}"
    )
    print(
        f"         server CPU per call: no-op {rpc['noop_cpu_us']:5.0f} µs   Evaluate {rpc['evaluate_cpu_us']:5.0f} µs   ratio {rpc['noop_cpu_us'] / rpc['evaluate_cpu_us']:4.0%}"
    )
    print(
        f"         no-op answering a canned verdict of the same size {rpc['canned_per_s']:6.0f} calls/s ({rpc['canned_cpu_us']:4.0f} µs CPU)   Evaluate/canned {rpc['evaluate_per_s'] / rpc['canned_per_s']:4.0%}"
    )
    print(
        f"         scores only (read_mask): Evaluate {rpc['evaluate_scores_per_s']:8.0f} calls/s ({rpc['evaluate_scores_per_s'] / rpc['noop_per_s']:4.0%} of no-op)   "
        f"batch {rpc['batch_scores_per_s']:8.0f} products/s"
    )
    batch = rpc["batch_products_per_s"]
    print(
        f"batch    EvaluateBatch of 100, one process: {batch:8.0f} products/s   target >= 16000   {'PASS' if batch >= 16_000 else 'MISS'}   server CPU {rpc['batch_cpu_us']:5.0f} µs/product"
    )
    workers = os.cpu_count() or 1
    if workers > 1:
        many = grpc_bench(evaluator, seconds, workers)
        print(
            f"workers  {workers} processes on one port: no-op {many['noop_per_s']:6.0f} calls/s   "
            f"Evaluate {many['evaluate_per_s']:6.0f} calls/s ({many['evaluate_per_s'] / many['noop_per_s']:3.0%} of no-op, "
            f"{many['evaluate_per_s'] / rpc['evaluate_per_s']:4.2f}x one process)   "
            f"batch {many['batch_products_per_s']:6.0f} products/s ({many['batch_products_per_s'] / batch:4.2f}x one process)"
        )
        # The client shares the cores, so calls/s understate what the workers could do.
        # Capacity from server CPU per call: N processes each spending what one did give N x.
        for name, key in (("Evaluate", "evaluate_cpu_us"), ("batch", "batch_cpu_us")):
            capacity = workers * rpc[key] / many[key]
            print(
                f"         {name} capacity from server CPU per call: {rpc[key]:5.0f} µs with one process, {many[key]:5.0f} µs with {workers}: "
                f"{capacity:4.2f}x   target >= 1.8x   {'PASS' if capacity >= 1.8 else 'MISS'}"
            )
    warm = warm_bench(seconds)
    share = warm["evaluate"] / warm["noop"]
    print(
        f"warm     cache on, Zipf over 10,000 products: Evaluate {warm['evaluate']:6.0f} calls/s ({share:4.0%} of no-op {warm['noop']:6.0f})   "
        f"target >= 90%   {'PASS' if share >= 0.9 else 'MISS'}   batch {warm['batch']:7.0f} products/s   target >= 40000   "
        f"{'PASS' if warm['batch'] >= 40_000 else 'MISS'}   (the cold figures above are with the cache off)"
    )
    evaluations = int(os.environ.get("BENCH_MEMORY_EVALUATIONS", "1000000"))
    samples = memory_bench(evaluations)
    first, last = samples[0][1], samples[-1][1]
    print(
        f"memory   server RSS over {samples[-1][0]:,} evaluations, cache full (10,000 of 20,000 products): "
        + "  ".join(f"{n // 1000}k {mib:5.1f}" for n, mib in samples)
        + f" MiB   growth after the first tenth {last - first:+5.1f} MiB ({(last - first) / first:+4.1%})"
    )
    products, took = diff_bench(evaluator)
    print(f"diff     earmark diff of {products} products under two packs: {took:5.2f} s")
    print(report(studio_bench()))
    from against import against  # it borrows this module's helpers

    print(against(seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
