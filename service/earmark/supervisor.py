"""Using every core: N worker processes share the port, under one supervisor.

durable_rules never releases the GIL, so one process uses one core. `earmark serve` with
EARMARK_WORKERS > 1 runs this supervisor, which starts that many `earmark serve`
processes bound to the same address with SO_REUSEPORT (the kernel spreads connections
over them). Each worker loads, watches and reloads the pack on its own; versions are
derived from the files' content, so they converge. The supervisor:

- forwards SIGTERM, SIGINT and SIGHUP to every worker;
- restarts a worker that dies (a crash, or SIGKILL), after a short back-off;
- stops everything and exits 1 if a worker refuses to start (exit code 1 or 2: a broken
  pack or bad configuration would fail again on every restart);
- exits 0 once every worker has drained after SIGTERM or SIGINT.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import structlog

from earmark import metrics
from earmark.config import Settings

log = structlog.get_logger("earmark.supervisor")

REFUSED = (1, 2)  # a worker's exit codes for a broken pack or configuration
RESTART_BACKOFF_SECONDS = (0.5, 1, 2, 5, 10)


@dataclass
class _Worker:
    index: int
    process: subprocess.Popen[bytes]
    started: float = field(default_factory=time.monotonic)
    restarts: int = 0


class Supervisor:
    def __init__(self, settings: Settings, environ: dict[str, str] | None = None) -> None:
        self.settings = settings
        self.environ = dict(os.environ if environ is None else environ)
        self.workers: dict[int, _Worker] = {}
        self.stopping = False
        self.metrics_dir = ""

    def run(self) -> int:
        # Workers write their metrics here; /metrics, served by this process, adds them up.
        with tempfile.TemporaryDirectory(prefix="earmark-metrics-") as shared:
            self.metrics_dir = shared
            self.environ["PROMETHEUS_MULTIPROC_DIR"] = shared
            if self.settings.metrics_address:
                try:
                    metrics.serve_metrics(self.settings.metrics_address, shared)
                except OSError as exc:
                    print(
                        f"earmark: cannot serve metrics on {self.settings.metrics_address}: {exc}",
                        file=sys.stderr,
                    )
                    return 1
            return self._supervise()

    def _supervise(self) -> int:
        commands: queue.SimpleQueue[signal.Signals] = queue.SimpleQueue()
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, lambda received, _frame: commands.put(signal.Signals(received)))
        for index in range(self.settings.workers):
            self.workers[index] = _Worker(index, self._start(index))
        log.info("supervising", workers=self.settings.workers, address=self.settings.address)
        while self.workers:
            try:
                received = commands.get(timeout=0.2)
            except queue.Empty:
                received = None
            if received is signal.SIGHUP:
                self._forward(signal.SIGHUP)
            elif received is not None and not self.stopping:
                log.info("stopping", signal=received.name, workers=len(self.workers))
                self.stopping = True
                self._forward(signal.SIGTERM)
            refused = self._reap()
            if refused is not None:
                log.error("worker_refused_to_start", exit_code=refused)
                self.stopping = True
                self._forward(signal.SIGTERM)
                self._wait_all()
                return 1
        log.info("stopped")
        return 0

    def _start(self, index: int) -> subprocess.Popen[bytes]:
        env = {
            **self.environ,
            "EARMARK_WORKERS": "1",  # a worker serves; it never supervises
            "EARMARK_REUSE_PORT": "true",
            "EARMARK_WORKER_INDEX": str(index),
        }
        # The worker starts with SIGHUP blocked (a signal mask survives exec), so a reload
        # forwarded while it is still importing waits for its handler instead of killing
        # it; serve() unblocks it once the handler is in place.
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})
        try:
            return subprocess.Popen([sys.executable, "-m", "earmark", "serve"], env=env)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)

    def _forward(self, signum: signal.Signals) -> None:
        for worker in self.workers.values():
            if worker.process.poll() is None:
                worker.process.send_signal(signum)

    def _reap(self) -> int | None:
        """Handle workers that exited; returns an exit code if one refused to start."""
        for index, worker in list(self.workers.items()):
            code = worker.process.poll()
            if code is None:
                continue
            metrics.forget_process(worker.process.pid, self.metrics_dir)
            if self.stopping:
                del self.workers[index]
                log.info("worker_stopped", worker=index, pid=worker.process.pid, exit_code=code)
                continue
            if code in REFUSED:
                return code
            delay = RESTART_BACKOFF_SECONDS[min(worker.restarts, len(RESTART_BACKOFF_SECONDS) - 1)]
            log.warning("worker_died", worker=index, pid=worker.process.pid, exit_code=code, restart_in=delay)
            time.sleep(delay)
            replacement = _Worker(index, self._start(index), restarts=worker.restarts + 1)
            self.workers[index] = replacement
            log.info("worker_restarted", worker=index, pid=replacement.process.pid)
        return None

    def _wait_all(self) -> None:
        deadline = time.monotonic() + self.settings.grace_seconds + 5
        for worker in self.workers.values():
            try:
                worker.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
        self.workers.clear()
