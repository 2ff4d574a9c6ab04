"""The supervisor's loop (server/supervisor.py), on its own: what it does about a worker
whose heartbeat stopped, or that is still running past the drain. The end-to-end tests
(tests/e2e/test_workers.py and test_lifecycle.py) run it with real workers."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from structlog.testing import capture_logs

from earmark.config import Settings
from earmark.server.supervisor import DRAIN_MARGIN_SECONDS, HEARTBEAT_TIMEOUT_SECONDS, Supervisor, _Worker


class SlowToDie:
    """A worker process that takes a while to die once killed, as a stopped process on a
    loaded machine does: poll() says it is still running."""

    pid = 4242

    def __init__(self) -> None:
        self.signals: list[int] = []

    def poll(self) -> int | None:
        return None

    def send_signal(self, signum: int) -> None:
        self.signals.append(signum)

    def kill(self) -> None:
        self.signals.append(signal.SIGKILL)


def test_a_hung_worker_is_killed_and_reported_once_while_it_takes_time_to_die(tmp_path: Path) -> None:
    supervisor = Supervisor(Settings(workers=1))
    supervisor.metrics_dir = str(tmp_path)
    heartbeat = Path(supervisor._heartbeat(0))
    heartbeat.touch()
    silent_since = time.time() - HEARTBEAT_TIMEOUT_SECONDS - 1
    os.utime(heartbeat, (silent_since, silent_since))
    hung = SlowToDie()
    supervisor.workers[0] = _Worker(0, hung)  # type: ignore[arg-type]
    with capture_logs() as logs:
        for _ in range(3):  # the loop comes round every 0.2 s before the process is gone
            supervisor._replace_hung()
    assert [signal.SIGKILL] == hung.signals
    assert 1 == sum(log["event"] == "worker_hung" for log in logs)


def test_a_worker_still_running_past_the_drain_deadline_is_killed_once(tmp_path: Path) -> None:
    """A worker stuck in an engine call never finishes draining; the supervisor's SIGTERM
    must still end within the grace period, as Kubernetes and systemd expect."""
    supervisor = Supervisor(Settings(workers=1, grace_seconds=0))
    supervisor.metrics_dir = str(tmp_path)
    stuck = SlowToDie()
    supervisor.workers[0] = _Worker(0, stuck)  # type: ignore[arg-type]
    supervisor._ask_to_stop()
    time.sleep(DRAIN_MARGIN_SECONDS + 0.1)
    with capture_logs() as logs:
        for _ in range(3):
            supervisor._kill_past_drain_deadline()
    assert [signal.SIGTERM, signal.SIGCONT, signal.SIGKILL] == stuck.signals
    assert 1 == sum(log["event"] == "worker_killed_after_grace" for log in logs)
