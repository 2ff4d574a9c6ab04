"""7. The no-op RPC, Evaluate and EvaluateBatch on this code and on an earlier commit's,
side by side in one run, so that a change to the request path shows as a ratio the
machine's noise hits alike.

BENCH_AGAINST names the commit (default: the code before issue 20's admission work). The
commit is checked out into a temporary git worktree and served from there with its own
server_with_noop.py; both servers run one process, the cache off, and are measured in
alternating rounds, keeping each path's best.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
from common import CATALOG, alternating_best, catalog_requests, cycling, pages, start_servers, stop

from earmark.v1 import earmark_pb2 as pb
from earmark.v1 import earmark_pb2_grpc

REPO = Path(__file__).resolve().parents[1]
BEFORE_ISSUE_20 = "10738b6"  # main when issue 20 was filed
PAGE = 100  # products per EvaluateBatch


def report(seconds: float, commit: str | None = None) -> list[str]:
    commit = commit or os.environ.get("BENCH_AGAINST", BEFORE_ISSUE_20)
    with tempfile.TemporaryDirectory() as folder:
        checkout = Path(folder) / "checkout"
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", "--quiet", str(checkout), commit],
            check=True,
        )
        try:
            figures = _side_by_side(checkout, seconds)
        finally:
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "remove", "--force", str(checkout)], check=False
            )
    lines = [f"against  commit {commit}, one process each, cache off, side by side (this code / that code):"]
    for path in ("noop", "evaluate", "batch"):
        (now, now_cpu), (then, then_cpu) = figures[("now", path)], figures[("then", path)]
        unit = "call"
        if path == "batch":  # per product
            now, then, now_cpu, then_cpu, unit = (
                now * PAGE,
                then * PAGE,
                now_cpu / PAGE,
                then_cpu / PAGE,
                "product",
            )
        lines.append(
            f"         {path:8} {now:7.0f} / {then:7.0f} {unit}s/s = {now / then:4.2f}x   "
            f"server CPU {now_cpu:5.0f} / {then_cpu:5.0f} µs per {unit} = {now_cpu / then_cpu:4.2f}x"
        )
    return lines


def _side_by_side(checkout: Path, seconds: float) -> dict[tuple[str, str], tuple[float, float]]:
    (now, now_port), (then, then_port) = start_servers(1), start_servers(1, source=checkout)
    servers, ports = {"now": now, "then": then}, {"now": now_port, "then": then_port}
    channels = {side: grpc.insecure_channel(f"127.0.0.1:{port}") for side, port in ports.items()}
    try:
        # That commit's own sample catalog: its pack may refuse what a later catalog lists
        # (a value added since), and the same requests go to both sides.
        catalog = checkout / CATALOG.relative_to(REPO)
        requests = catalog_requests(catalog)
        batches = pages(requests, PAGE)
        calls: dict[tuple[str, str], Callable[[], Any]] = {}
        for side, channel in channels.items():
            stub = earmark_pb2_grpc.EarmarkStub(channel)
            noop = channel.unary_unary(
                "/earmark.bench.Noop/Call",
                request_serializer=pb.EvaluateRequest.SerializeToString,
                response_deserializer=pb.EvaluateResponse.FromString,
            )
            calls[(side, "noop")] = cycling(noop.future, requests)
            calls[(side, "evaluate")] = cycling(stub.Evaluate.future, requests)
            calls[(side, "batch")] = cycling(stub.EvaluateBatch.future, batches)
        return alternating_best(calls, {key: servers[key[0]][0].pid for key in calls}, seconds)
    finally:
        stop(list(channels.values()), servers["now"] + servers["then"])
