"""Reloading a running `earmark serve` process: SIGHUP and file changes publish, a broken edit does not."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import grpc
import pytest

from earmark.v1 import earmark_pb2 as pb
from earmark.v1 import earmark_pb2_grpc

from helpers import (
    evaluate_request,
    free_port,
    serve_process,
    set_boom_meetings,
    wait_serving,
)

# Real processes, load or long runs: `pytest -m "not slow"` skips these for a fast loop.
pytestmark = pytest.mark.slow

BOOM_ONLY = {"mic": "boom"}


def test_sighup_and_file_changes_reload_a_running_server(pack_copy: Path) -> None:
    port = free_port()
    process = serve_process(
        {
            "EARMARK_ADDRESS": f"127.0.0.1:{port}",
            "EARMARK_RULES": str(pack_copy),
            "EARMARK_LOG_FORMAT": "json",
        }
    )
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            wait_serving(channel, process)
            stub = earmark_pb2_grpc.EarmarkStub(channel)
            first = stub.DescribeRules(pb.DescribeRulesRequest()).ruleset_version

            def reloaded_after(change: str) -> pb.DescribeRulesResponse:
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline:
                    described = stub.DescribeRules(pb.DescribeRulesRequest())
                    reloaded = described.reloads_succeeded + described.reloads_failed > 0
                    if reloaded and described.ruleset_version != first:
                        return described
                    time.sleep(0.1)
                raise AssertionError(f"no reload after {change}")

            set_boom_meetings(pack_copy, 28)  # the watcher sees this
            watched = reloaded_after("an edit")
            assert watched.ruleset_version != first

            (pack_copy / "zz.yaml").write_text(
                "rules:\n  - id: x\n    description: d\n    when: {mic: boom_arm}\n    then: {fit: 1}\n"
            )
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                described = stub.DescribeRules(pb.DescribeRulesRequest())
                if described.reloads_failed:
                    break
                time.sleep(0.1)
            assert watched.ruleset_version == described.ruleset_version  # the last good pack serves
            assert "zz.yaml:4:" in described.last_reload_error

            (pack_copy / "zz.yaml").unlink()
            set_boom_meetings(pack_copy, 29)
            os.kill(process.pid, signal.SIGHUP)  # SIGHUP also forces a reload
            deadline = time.monotonic() + 15
            while stub.DescribeRules(pb.DescribeRulesRequest()).ruleset_version in (
                first,
                watched.ruleset_version,
            ):
                assert time.monotonic() < deadline, "no reload after SIGHUP"
                time.sleep(0.1)
            assert "headset" == stub.Evaluate(evaluate_request("p", BOOM_ONLY)).verdict.category
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
        assert 0 == process.returncode
        assert '"reload_refused"' in stderr and "zz.yaml:4:" in stderr
    finally:
        process.kill()
