"""`make profile`: where a server's time goes under each load `make bench` measures,
sampled by py-spy from outside the process (nothing in the server changes to be profiled).

For each load (the bare grpcio no-op, Earmark's no-op, warm Evaluate, cold Evaluate, cold
EvaluateBatch of 100) a server is started as `make bench` starts it, driven from this
process, and sampled for PROFILE_SECONDS (8) without pausing it. Only the thread holding
the GIL is sampled: in one Python process the GIL is what calls queue for, so its time is
what a process's capacity is divided by (C code that lets the GIL go, such as grpc's
polling, is not counted; C code that holds it shows as the Python line that called it).
Writes, in build/profiles/:
- LOAD.txt: the collapsed stacks (speedscope and flamegraph.pl read them);
- summary.txt: for each load, each part of the path's share of the samples, the GIL time
  per product it comes to, and the lines busiest on their own.

A sample stands for 1/RATE s, so the µs are a sampling estimate; compare shares and
differences between loads of one run, as for `make bench`.
"""

from __future__ import annotations

import collections
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
from common import big_catalog, evaluate_requests, pages, start_servers, stop, throughput

from earmark.v1 import earmark_pb2 as pb
from earmark.v1 import earmark_pb2_grpc

OUT = Path(__file__).resolve().parent.parent / "build" / "profiles"
PY_SPY = Path(sys.executable).parent / "py-spy"
RATE = 200  # samples a second

# The parts of the request path, each recognised by a frame its samples pass through
# (first match from the leaf up wins, so a part's share is what it does itself, not what
# it calls in another part). The order only breaks ties within one frame.
PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("engine module (durable_rules inside)", ("evaluation/engine.py", "durable/")),
    ("compose (verdict, wording)", ("evaluation/verdict.py", "evaluation/wording.py")),
    ("composition memo", ("evaluation/memo.py",)),
    ("validation", ("evaluation/validation.py", "evaluation/request_notes.py", "pydantic")),
    ("wire (Struct in, message out)", ("server/wire.py",)),
    ("response cache", ("server/response_cache.py",)),
    ("logging (structlog, orjson)", ("structlog/", "earmark/logs.py")),
    ("metrics (prometheus_client)", ("prometheus_client/",)),
    ("servicer", ("server/servicer.py", "evaluation/evaluator.py")),
    ("interceptor", ("server/interceptors.py",)),
    (
        "admission and read watchdog",
        ("server/admission.py", "server/call_queue.py", "server/read_watchdog.py"),
    ),
    ("protobuf", ("google/protobuf/",)),
    (
        "grpcio (its Python layer, and the C core it calls)",
        ("grpc/_server.py", "grpc/_common.py", "grpc/_utilities.py"),
    ),
    # Waking and waiting, not the frames every thread starts from (Thread._bootstrap).
    ("threads handing calls over", ("Condition.", "Semaphore.", "Event.", "concurrent/futures/", "queue.py")),
)
OTHER = "other"


class _Driver(threading.Thread):
    """Keeps WINDOW calls in flight until stopped, counting the calls answered."""

    def __init__(self, call: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self._call = call
        self.answered = 0
        self._until = threading.Event()

    def run(self) -> None:
        while not self._until.is_set():
            self.answered += throughput(self._call, 0.1)[0]

    def stop(self) -> None:
        self._until.set()
        self.join()


def _sample(pid: int, seconds: float, out: Path) -> None:
    what = ["--pid", str(pid), "--duration", str(int(seconds)), "--rate", str(RATE)]
    how = ["--gil", "--format", "raw", "--output", str(out), "--nonblocking"]
    subprocess.run([str(PY_SPY), "record", *what, *how], check=True, capture_output=True)


def _part_of(stack: list[str]) -> str:
    for frame in reversed(stack):  # from the leaf up
        for part, marks in PARTS:
            if any(mark in frame for mark in marks):
                return part
    return OTHER


def summarise(collapsed: Path) -> tuple[int, collections.Counter[str], collections.Counter[str]]:
    """(samples, samples per part, samples per leaf function)."""
    parts: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack_text, _, count_text = line.rpartition(" ")
        if not stack_text:
            continue
        count = int(count_text)
        stack = stack_text.split(";")
        total += count
        parts[_part_of(stack)] += count
        leaves[stack[-1]] += count
    return total, parts, leaves


def _stubs(port: int, channels: list[grpc.Channel]) -> list[Any]:
    """Four connections (added to `channels`), so that calls don't queue behind one
    another's frames."""
    opened = [
        grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)])
        for _ in range(4)
    ]
    channels += opened
    return [earmark_pb2_grpc.EarmarkStub(channel) for channel in opened]


def _loads(
    ports: dict[str, int], channels: list[grpc.Channel]
) -> dict[str, tuple[str, int, Callable[[], Any]]]:
    """Each load: (the server it is sent to, products per call, a call); the channels it
    opens are added to `channels`."""
    requests = evaluate_requests(big_catalog(10_000))
    batches = pages(requests)
    cold, warm, bare = (_stubs(ports[kind], channels) for kind in ("cold", "warm", "bare"))
    channels.append(grpc.insecure_channel(f"127.0.0.1:{ports['cold']}"))
    noop = channels[-1].unary_unary(
        "/earmark.bench.Noop/Call",
        request_serializer=pb.EvaluateRequest.SerializeToString,
        response_deserializer=pb.EvaluateResponse.FromString,
    )
    hot = requests[:500]  # the warm server has answered these once already
    for request in hot:
        warm[0].Evaluate(request)
    counter = iter(range(10**12))

    def pick(n: int, stubs: list[Any]) -> Any:
        return stubs[n % len(stubs)]

    return {
        "bare-noop": (
            "bare",
            1,
            lambda: pick(n := next(counter), bare).Evaluate.future(requests[n % len(requests)]),
        ),
        "noop": ("cold", 1, lambda: noop.future(requests[next(counter) % len(requests)])),
        "warm-evaluate": (
            "warm",
            1,
            lambda: pick(n := next(counter), warm).Evaluate.future(hot[n % len(hot)]),
        ),
        "cold-evaluate": (
            "cold",
            1,
            lambda: pick(n := next(counter), cold).Evaluate.future(requests[n % len(requests)]),
        ),
        "cold-batch": (
            "cold",
            100,
            lambda: pick(n := next(counter), cold).EvaluateBatch.future(batches[n % len(batches)]),
        ),
    }


def _describe(name: str, collapsed: Path, answered: int, per_call: int) -> list[str]:
    """The summary of one load: each part's share of the samples, and the GIL time that
    share comes to per product."""
    total, parts, leaves = summarise(collapsed)
    products = max(answered * per_call, 1)
    per_product = total / RATE * 1e6 / products
    lines = [
        f"{name}: {total} samples, {products} products: {per_product:.0f} µs holding the GIL per product"
    ]
    for part, count in parts.most_common():
        lines.append(f"    {count / total:6.1%}  {count / RATE * 1e6 / products:7.1f} µs  {part}")
    lines.append("  busiest on their own:")
    for leaf, count in leaves.most_common(12):
        lines.append(f"    {count / total:6.1%}  {leaf}")
    return [*lines, ""]


def main() -> int:
    seconds = float(os.environ.get("PROFILE_SECONDS", "8"))
    OUT.mkdir(parents=True, exist_ok=True)
    servers = {
        "cold": start_servers(1),
        "warm": start_servers(1, cache_entries=10_000),
        "bare": start_servers(1, bare=True),
    }
    report: list[str] = []
    channels: list[grpc.Channel] = []
    try:
        loads = _loads({kind: port for kind, (_, port) in servers.items()}, channels)
        for name, (kind, per_call, call) in loads.items():
            throughput(call, 1.0)  # warm up
            driver = _Driver(call)
            driver.start()
            try:
                time.sleep(0.5)
                before = driver.answered
                collapsed = OUT / f"{name}.txt"
                _sample(servers[kind][0][0].pid, seconds, collapsed)
                answered = driver.answered - before
            finally:
                driver.stop()
            report += _describe(name, collapsed, answered, per_call)
    finally:
        stop(channels, [process for processes, _ in servers.values() for process in processes])
    text = "\n".join(report)
    (OUT / "summary.txt").write_text(text + "\n")
    print(text)
    print(f"collapsed stacks and this summary in {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
