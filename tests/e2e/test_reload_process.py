"""Reloading a running `earmark serve` process: SIGHUP and file changes publish, a broken edit does not."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import grpc

from earmark.v1 import earmark_pb2 as pb
from earmark.v1 import earmark_pb2_grpc

from helpers import (
    evaluate_request,
    serve_process,
    set_boom_meetings,
    wait_for,
    wait_serving,
)

BOOM_ONLY = {"mic": "boom"}


def test_sighup_and_file_changes_reload_a_running_server(pack_copy: Path) -> None:
    process = serve_process(
        {
            "EARMARK_RULES": str(pack_copy),
            "EARMARK_LOG_FORMAT": "json",
        }
    )
    try:
        with grpc.insecure_channel(process.address) as channel:
            wait_serving(channel, process)
            stub = earmark_pb2_grpc.EarmarkStub(channel)
            first = stub.DescribeRules(pb.DescribeRulesRequest()).ruleset_version

            def describe() -> pb.DescribeRulesResponse:
                return stub.DescribeRules(pb.DescribeRulesRequest())

            set_boom_meetings(pack_copy, 28)  # the watcher sees this
            assert wait_for(lambda: describe().ruleset_version != first, 15), "no reload after an edit"
            watched = describe()
            assert watched.ruleset_version != first

            (pack_copy / "zz.yaml").write_text(
                "rules:\n  - id: x\n    description: d\n    when: {mic: boom_arm}\n    then: {fit: 1}\n"
            )
            assert wait_for(lambda: describe().reloads_failed > 0, 15), "the broken edit was not tried"
            described = describe()
            assert watched.ruleset_version == described.ruleset_version  # the last good pack serves
            assert "zz.yaml:4:" in described.last_reload_error

            (pack_copy / "zz.yaml").unlink()
            set_boom_meetings(pack_copy, 29)
            os.kill(process.pid, signal.SIGHUP)  # SIGHUP also forces a reload
            assert wait_for(lambda: describe().ruleset_version not in (first, watched.ruleset_version), 15), (
                "no reload after SIGHUP"
            )
            assert "headset" == stub.Evaluate(evaluate_request("p", BOOM_ONLY)).verdict.category
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
        assert 0 == process.returncode, stderr[-4000:]  # how it ended, if it didn't end well
        assert '"reload_refused"' in stderr and "zz.yaml:4:" in stderr
    finally:
        process.kill()
