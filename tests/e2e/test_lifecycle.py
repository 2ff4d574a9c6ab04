"""No pack on disk stops a process, and no process stops another (issue 19): real
`earmark serve` processes, real signals, real rule files, and real gRPC channels."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import grpc
import pytest

from helpers import BROKEN, Served, served, set_boom_meetings, wait_for


def _everyone_serving(running: Served, workers: int) -> bool:
    return len(running.events("serving")) >= workers and running.health() == "SERVING"


def test_a_worker_killed_beside_a_refused_pack_comes_back_on_the_last_good_pack(
    pack_copy: Path, tmp_path: Path
) -> None:
    """Was: the replacement refused to start, and the supervisor stopped the healthy
    worker and exited 1, a full outage."""
    with served(pack_copy, tmp_path, 2) as running:
        assert wait_for(lambda: _everyone_serving(running, 2), 60), running.log.read_text()[-3000:]
        good = running.describe().ruleset_version
        (pack_copy / "zz.yaml").write_text(BROKEN)
        assert wait_for(lambda: len(running.events("reload_refused")) >= 2, 30)
        pids = running.workers()
        os.kill(pids[0], signal.SIGKILL)
        assert wait_for(lambda: len(running.workers()) == 2 and pids[0] not in running.workers(), 30)
        assert wait_for(lambda: len(running.events("serving_last_good")) == 1, 30), running.log.read_text()[
            -3000:
        ]
        assert running.process.poll() is None
        for i in range(30):  # fresh connections reach both workers
            assert "headset" == running.evaluate(str(i))
        described = [running.describe() for _ in range(12)]
        assert {good} == {d.ruleset_version for d in described}
        assert all("zz.yaml:2:1" in d.last_reload_error for d in described)
        assert "SERVING" == running.health()
        # A good pack again: every worker, the replacement included, takes it.
        (pack_copy / "zz.yaml").unlink()
        set_boom_meetings(pack_copy, 29)
        assert wait_for(lambda: good not in {running.describe().ruleset_version for _ in range(12)}, 30)


def test_a_server_that_never_had_a_good_pack_waits_not_serving_then_serves(
    pack_copy: Path, tmp_path: Path
) -> None:
    """A new pod beside a bad ConfigMap: up, NOT_SERVING, watching; no crash loop."""
    (pack_copy / "zz.yaml").write_text(BROKEN)
    with served(pack_copy, tmp_path, 1) as running:
        assert wait_for(lambda: running.health() == "NOT_SERVING", 30), running.log.read_text()[-3000:]
        time.sleep(1)
        assert running.process.poll() is None and running.events("no_good_pack")
        with pytest.raises(grpc.RpcError) as refused:
            running.evaluate("a")
        assert grpc.StatusCode.UNAVAILABLE == refused.value.code()
        (pack_copy / "zz.yaml").unlink()
        assert wait_for(lambda: running.health() == "SERVING", 30)
        assert "headset" == running.evaluate("a")


def test_a_stopped_worker_is_replaced_within_seconds(pack_copy: Path, tmp_path: Path) -> None:
    with served(pack_copy, tmp_path, 2) as running:
        assert wait_for(lambda: _everyone_serving(running, 2), 60)
        pids = running.workers()
        os.kill(pids[0], signal.SIGSTOP)
        stopped_at = time.monotonic()
        assert wait_for(lambda: pids[0] not in running.workers() and len(running.workers()) == 2, 20)
        assert time.monotonic() - stopped_at < 10
        assert [pids[0]] == [e["pid"] for e in running.events("worker_hung")]


def test_sigterm_during_a_restart_back_off_is_acted_on_at_once(pack_copy: Path, tmp_path: Path) -> None:
    """Was: the supervisor slept through its back-off, deaf to signals (13 s)."""
    with served(pack_copy, tmp_path, 2, EARMARK_WATCH="false") as running:
        assert wait_for(lambda: _everyone_serving(running, 2), 60)
        for _ in range(5):  # quick deaths in a row: the back-off grows to 5 s
            victim = running.workers()[0]
            os.kill(victim, signal.SIGKILL)
            assert wait_for(lambda v=victim: v not in running.workers() and len(running.workers()) == 2, 30)
        os.kill(running.workers()[0], signal.SIGKILL)
        assert wait_for(lambda: len(running.workers()) == 1, 10)  # one waits out its back-off
        asked = time.monotonic()
        running.process.send_signal(signal.SIGTERM)
        running.process.wait(30)
        assert time.monotonic() - asked < 4, "SIGTERM waited for the back-off"
        assert 0 == running.process.returncode


def test_a_burst_of_sighups_is_one_reload_and_sigterm_still_comes_first(
    pack_copy: Path, tmp_path: Path
) -> None:
    """Was: 60 queued SIGHUPs were 60 full reloads before SIGTERM was handled."""
    with served(pack_copy, tmp_path, 1, EARMARK_WATCH="false") as running:
        assert wait_for(lambda: _everyone_serving(running, 1), 60)
        set_boom_meetings(pack_copy, 29)
        for _ in range(60):
            running.process.send_signal(signal.SIGHUP)
        time.sleep(0.2)
        asked = time.monotonic()
        running.process.send_signal(signal.SIGTERM)
        running.process.wait(60)
        assert time.monotonic() - asked < 8
        assert len(running.events("reloaded")) <= 2  # the first, and one for all the rest


def test_sigterm_beside_a_stopped_worker_drains_it_and_exits(pack_copy: Path, tmp_path: Path) -> None:
    """Was: a stopped worker can't act on the SIGTERM the supervisor forwards, so the
    supervisor waited for it forever; killed from outside, it left the worker stopped
    under PID 1, holding its share of the port."""
    with served(pack_copy, tmp_path, 2, EARMARK_GRACE_SECONDS="1") as running:
        assert wait_for(lambda: _everyone_serving(running, 2), 60), running.log.read_text()[-3000:]
        workers = running.workers()
        os.kill(workers[0], signal.SIGSTOP)
        asked = time.monotonic()
        running.process.send_signal(signal.SIGTERM)
        try:
            running.process.wait(20)
        finally:
            for pid in workers:  # never leave a stopped process behind, even on failure
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        assert time.monotonic() - asked < 10
        assert 0 == running.process.returncode
        assert 2 == len(running.events("worker_stopped"))
