"""`earmark serve` as a real process: it answers, drains on a signal, and refuses a broken pack, bad settings or a taken port with a clear message."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import grpc
import pytest

from earmark.v1 import earmark_pb2_grpc

from helpers import BOOM_GAMING_HEADSET, ROOT, evaluate_request, serve_process, wait_serving


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_serve_answers_then_drains_on_a_signal_and_exits_0(stop_signal: signal.Signals) -> None:
    process = serve_process({"EARMARK_LOG_FORMAT": "json"})
    try:
        with grpc.insecure_channel(process.address) as channel:
            wait_serving(channel, process)
            stub = earmark_pb2_grpc.EarmarkStub(channel)
            assert "headset" == stub.Evaluate(evaluate_request("p", BOOM_GAMING_HEADSET)).verdict.category
        process.send_signal(stop_signal)
        _, stderr = process.communicate(timeout=30)
        assert 0 == process.returncode, stderr
    finally:
        process.kill()
    lines = [json.loads(line) for line in stderr.splitlines()]
    events = [line["event"] for line in lines]
    assert ["serving", "stopping", "stopped"] == [e for e in events if e != "rpc"]
    rpc = next(line for line in lines if line["event"] == "rpc" and line["method"].endswith("/Evaluate"))
    assert {"method", "request_id", "products", "status", "outcome", "duration_ms", "ruleset_version"} <= set(
        rpc
    )
    assert ("OK", 1) == (rpc["status"], rpc["products"])


def test_serve_beside_a_broken_pack_lists_every_problem_and_waits(pack_copy: Path, tmp_path: Path) -> None:
    (pack_copy / "zz.yaml").write_text(
        "rules:\n  - id: x\n    description: d\n    when: {mic: boom_arm, weight_g: {at_least: heavy}}\n    then: {fit: 1}\n"
    )
    process = serve_process(
        {
            "EARMARK_RULES": str(pack_copy),
            "EARMARK_LAST_GOOD": str(tmp_path / "never-written"),
        }
    )
    process.ports()  # listening: up, waiting for a good pack, until told to stop
    assert any("waiting_for_a_good_pack" in line for line in process.err)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert 0 == process.returncode
    assert "NOT_SERVING until one arrives" in stderr
    assert 2 <= stderr.count("zz.yaml:4:")


def test_serve_with_invalid_config_exits_2_naming_the_variable() -> None:
    process = serve_process({"EARMARK_THREADS": "lots"})
    _, stderr = process.communicate(timeout=30)
    assert 2 == process.returncode
    assert "EARMARK_THREADS='lots'" in stderr


def test_serve_on_a_taken_port_says_so_and_exits_1() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        process = serve_process({"EARMARK_ADDRESS": f"127.0.0.1:{sock.getsockname()[1]}"})
        _, stderr = process.communicate(timeout=30)
    assert 1 == process.returncode
    assert "cannot listen on" in stderr


# serve() run as a script that, once it returns, names the threads still running.
_THREADS_LEFT = """
import sys, threading
from earmark.config import load_settings
from earmark.server.grpc_server import serve
code = serve(load_settings())
print("LEFT", sorted(t.name for t in threading.enumerate() if t.is_alive() and t.name in ("rules-watcher", "reloader")), flush=True)
sys.exit(code)
"""


def test_serve_ends_its_watcher_and_reload_threads_before_it_returns(tmp_path: Path) -> None:
    """A daemon thread still inside watchfiles' Rust code when the interpreter finalizes
    is ended with pthread_exit, which aborts the process: the server exited with SIGABRT
    (-6) after logging "stopped", now and then, in CI. serve() now joins them first."""
    process = subprocess.Popen(
        [sys.executable, "-c", _THREADS_LEFT],
        env={
            **os.environ,
            "EARMARK_ADDRESS": "127.0.0.1:0",
            "EARMARK_METRICS_ADDRESS": "",
            "EARMARK_LAST_GOOD": str(tmp_path / "last-good"),
        },
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:  # until it serves (serve() alone logs to stdout)
            if "serving" in line:
                break
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert 0 == process.returncode, stderr[-3000:]
    assert "LEFT []" in stdout, stdout
