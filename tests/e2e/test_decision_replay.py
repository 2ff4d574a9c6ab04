"""A decision log written under load by a real `earmark serve` with two workers, then
replayed with `earmark replay` against a changed pack: the report names exactly the
decisions that change. Which ones should is read from the log itself (the decisions whose
rules fired include the changed rule), not from Earmark re-evaluating anything."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from ruamel.yaml import YAML

from earmark.config import BUNDLED_RULES
from earmark.v1 import earmark_pb2 as pb
from earmark.v1 import earmark_pb2_grpc

from helpers import serve_process, set_boom_meetings, wait_serving

pytestmark = pytest.mark.slow
CATALOG = Path(__file__).resolve().parents[2] / "examples" / "catalog.jsonl"
CLIENTS = 6
PAGE = 20
ROUNDS = 4  # times each client sends the catalog to the shared pipe


def _products() -> list[pb.Product]:
    products = []
    for i, line in enumerate(CATALOG.read_text().splitlines()):
        item = json.loads(line)
        message = pb.Product(id=f"{i}-{item['id']}")
        message.specs.update(item["specs"])
        products.append(message)
    return products


def _client(address: str, products: list[pb.Product], offset: int) -> set[str]:
    """Evaluate every product one by one, then by pages; the decision ids the server told."""
    told: set[str] = set()
    shopper = {"uses": ["meetings", "calls"], "budget_usd": 150}
    with grpc.insecure_channel(address) as channel:
        stub = earmark_pb2_grpc.EarmarkStub(channel)
        for product in products[offset:] + products[:offset]:
            request = pb.EvaluateRequest(product=product)
            request.shopper.update(shopper)
            try:
                _response, call = stub.Evaluate.with_call(request, timeout=60)
            except grpc.RpcError as exc:  # a product the pack refuses: no decision
                assert exc.code() is grpc.StatusCode.INVALID_ARGUMENT, exc
                continue
            told.add(dict(call.trailing_metadata())["x-decision-id"])
        for start in range(0, len(products), PAGE):
            page = pb.EvaluateBatchRequest(products=products[start : start + PAGE])
            response, call = stub.EvaluateBatch.with_call(page, timeout=60)
            page_id = dict(call.trailing_metadata())["x-decision-id"]
            told.update(f"{page_id}-{n}" for n, item in enumerate(response.items) if item.HasField("verdict"))
    return told


def test_a_decision_log_written_under_load_replays_against_a_changed_pack(tmp_path: Path) -> None:
    live, candidate, log = tmp_path / "live", tmp_path / "candidate", tmp_path / "decisions.jsonl"
    shutil.copytree(BUNDLED_RULES, live)
    shutil.copytree(BUNDLED_RULES, candidate)
    products = _products()
    process = serve_process(
        {"EARMARK_WORKERS": "2", "EARMARK_RULES": str(live), "EARMARK_DECISION_LOG": str(log)}
    )
    try:
        with grpc.insecure_channel(process.address) as channel:
            wait_serving(channel, process)
        with futures.ThreadPoolExecutor(CLIENTS) as pool:
            told = set().union(*pool.map(lambda n: _client(process.address, products, n * 7), range(CLIENTS)))
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    logged = [json.loads(line) for line in log.read_text().splitlines()]
    # Nothing lost under load, nothing invented: the log holds exactly the decisions told.
    assert len(logged) == len(told) > CLIENTS * len(products)
    assert {line["decision_id"] for line in logged} == told

    before = set_boom_meetings(candidate, 0)  # read the amount, then change it by 8
    set_boom_meetings(candidate, before + 8)
    changed_rule = YAML(typ="safe").load((candidate / "talking.yaml").read_text())["rules"][0]["id"]
    replayed = subprocess.run(
        [sys.executable, "-m", "earmark", "replay", str(log), "--pack", str(candidate), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert replayed.returncode == 0, replayed.stderr
    report = json.loads(replayed.stdout)
    expected = {line["decision_id"] for line in logged if changed_rule in line["rules_fired"]}
    assert expected and len(expected) < len(logged)  # the change touches some traffic, not all
    assert {change["decision_id"] for change in report["changed"]} == expected
    for change in report["changed"]:  # and only meetings moved (the shopper was masked: no fit)
        assert all(what.startswith("meetings ") for what in change["changes"]), change
    assert report["unchanged"] == len(logged) - len(expected)
    assert report["refused"] == [] and report["masked"] == len([x for x in logged if x["masked"]])


def test_workers_logging_to_one_pipe_never_mix_inside_a_line() -> None:
    """The chart's default: EARMARK_DECISION_LOG=/dev/stdout, a pipe both workers share. A
    pipe keeps a write whole only up to PIPE_BUF bytes, so each write must stay under it."""
    process = serve_process({"EARMARK_WORKERS": "2", "EARMARK_DECISION_LOG": "/dev/stdout"})
    products = _products()
    try:
        with grpc.insecure_channel(process.address) as channel:
            wait_serving(channel, process)

        def pages(offset: int) -> int:
            told = 0
            # A connection of its own each time, so that both workers take pages.
            for start in [*range(offset, len(products), PAGE)] * ROUNDS:
                options = [("grpc.use_local_subchannel_pool", 1)]
                with grpc.insecure_channel(process.address, options=options) as channel:
                    page = pb.EvaluateBatchRequest(products=products[start : start + PAGE])
                    response = earmark_pb2_grpc.EarmarkStub(channel).EvaluateBatch(page, timeout=60)
                    told += sum(item.HasField("verdict") for item in response.items)
            return told

        with futures.ThreadPoolExecutor(CLIENTS) as pool:
            told = sum(pool.map(pages, [0] * CLIENTS))
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    lines = out.splitlines()
    assert len(lines) == told
    broken = [line[:80] for line in lines if not _is_decision(line)]
    assert broken == []


def _is_decision(line: str) -> bool:
    try:
        return "decision_id" in json.loads(line)
    except ValueError:
        return False
