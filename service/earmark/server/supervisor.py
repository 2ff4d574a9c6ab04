"""Using every core: N worker processes share the port, under one supervisor.

durable_rules never releases the GIL, so one process uses one core. `earmark serve` with
EARMARK_WORKERS > 1 runs this supervisor, which starts that many `earmark serve`
processes bound to the same address with SO_REUSEPORT (the kernel spreads connections
over them). Each worker loads, watches and reloads the pack on its own; versions are
derived from the files' content, so they converge. The supervisor:

- forwards SIGTERM, SIGINT and SIGHUP to every worker (a burst of SIGHUPs as one, and
  SIGTERM before any of them);
- restarts a worker that dies (a crash, or SIGKILL), after a back-off that grows with
  quick deaths and resets once a worker has run a while; replacements start side by side
  and the wait never holds up a signal;
- replaces a worker whose heartbeat stops (SIGSTOP, or an engine call that never returns)
  within HEARTBEAT_TIMEOUT_SECONDS;
- stops everything and exits 1 if a worker refuses to start (exit code 1 or 2: a bad
  configuration or an address it can't bind would fail again on every restart). A pack
  never makes a worker refuse: it serves the last good pack, or waits NOT_SERVING;
- exits 0 once every worker has drained after SIGTERM or SIGINT, continuing a stopped
  worker so that it can drain, and killing one still running DRAIN_MARGIN_SECONDS past
  the grace period (an engine call that never returns would never drain);
- refuses an address another server already listens on, and its workers exit if it dies.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from earmark.config import Address, Settings
from earmark.server import metrics

log = structlog.get_logger("earmark.supervisor")

REFUSED = (1, 2)  # a worker's exit codes for a bad configuration or address
RESTART_BACKOFF_SECONDS = (0.5, 1, 2, 5, 10)
BACKOFF_RESET_SECONDS = 30.0  # a worker that ran this long died of something new: no back-off
# A worker touches its heartbeat file every 0.5 s from a thread of its own. Start-up
# (imports, the first pack) gets longer before the first beat is due.
HEARTBEAT_TIMEOUT_SECONDS = 5.0
DRAIN_MARGIN_SECONDS = 2.0  # past EARMARK_GRACE_SECONDS: a worker's own stop, then its exit
FIRST_HEARTBEAT_SECONDS = 30.0


def address_in_use(address: str) -> str | None:
    """Why `address` can't be bound exclusively right now, or None if it can."""
    where = Address.parse(address)
    host, port = where.bind_host, where.port
    if port == 0:
        return None
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as grpc does; TIME_WAIT is fine
        try:
            probe.bind((host, port))
        except OSError as exc:
            return f"{exc.strerror or exc} (another server is listening there)"
    return None


def hold_free_port(address: str) -> tuple[str, socket.socket | None]:
    """`address` itself, or, when its port is 0, a free port chosen once for every worker
    and held for them: without this, each worker would bind a port of its own. The holder
    is bound with SO_REUSEPORT and never listens, so it takes no connection, yet no other
    program can take the port while the supervisor runs."""
    where = Address.parse(address)
    if where.port != 0:
        return address, None
    holder = socket.socket(socket.AF_INET6 if ":" in where.bind_host else socket.AF_INET, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    holder.bind((where.bind_host, 0))
    return str(where._replace(port=holder.getsockname()[1])), holder


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent(parent: int) -> Callable[[], None] | None:
    """A preexec_fn that makes the worker get SIGTERM (and so drain and exit) when the
    supervisor dies, even by SIGKILL; otherwise workers would keep serving an orphaned
    port under PID 1. The libc call is looked up here, before the fork."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def arm() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:  # the supervisor died before the signal was armed
            os._exit(1)

    return arm


@dataclass
class _Worker:
    index: int
    process: subprocess.Popen[bytes] | None  # None while waiting out its back-off
    started: float = field(default_factory=time.monotonic)
    restarts: int = 0  # quick deaths in a row
    restart_at: float = 0.0
    # Killed for hanging: a stopped process takes a while to die on a loaded machine, and
    # the loop must not report and kill it again each time round until it is reaped.
    killed_for_hanging: bool = False
    killed_after_grace: bool = False


class Supervisor:
    def __init__(self, settings: Settings, environ: dict[str, str] | None = None) -> None:
        self.settings = settings
        self.environ = dict(os.environ if environ is None else environ)
        self.workers: dict[int, _Worker] = {}
        self.stopping = False
        self.drain_deadline = math.inf  # set when stopping starts
        self.metrics_dir = ""
        self.metrics_port: int | None = None
        self.metrics: metrics.SupervisorMetrics  # made in run(), beside the workers' folder

    def run(self) -> int:
        # Workers share their ports through SO_REUSEPORT, which would also let them join a
        # port another server already holds and silently split its traffic. A lone server
        # refuses such a port by binding it exclusively; the supervisor checks the same.
        for address in (self.settings.address, self.settings.health_address):
            taken = address_in_use(address) if address else None
            if taken is not None:
                print(f"earmark: cannot listen on {address}: {taken}", file=sys.stderr)
                return 1
        # Workers write their metrics here; /metrics, served by this process, adds them up.
        with contextlib.ExitStack() as held, tempfile.TemporaryDirectory(prefix="earmark-metrics-") as shared:
            for variable, name in (
                ("EARMARK_ADDRESS", "address"),
                ("EARMARK_HEALTH_ADDRESS", "health_address"),
            ):
                if not getattr(self.settings, name):
                    continue  # no health-only port
                address, holder = hold_free_port(getattr(self.settings, name))
                if holder is not None:
                    held.enter_context(holder)
                    self.environ[variable] = address
                    self.settings = self.settings.model_copy(update={name: address})
            self.metrics_dir = shared
            self.environ["PROMETHEUS_MULTIPROC_DIR"] = shared
            self.metrics = metrics.SupervisorMetrics(shared, self._processes)
            if self.settings.metrics_address:
                try:
                    self.metrics_port = self.metrics.serve(self.settings.metrics_address)
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
        log.info(
            "supervising",
            workers=self.settings.workers,
            workers_from=self.settings.workers_from(),
            address=self.settings.address,
            # The ports as bound: a port of 0 in the settings becomes a real one here.
            port=Address.parse(self.settings.address).port,
            health_port=Address.parse(self.settings.health_address).port
            if self.settings.health_address
            else None,
            metrics_port=self.metrics_port,
        )
        while self.workers:
            received = _drain(commands, timeout=0.2)
            stop = next((s for s in received if s is not signal.SIGHUP), None)
            if stop is not None and not self.stopping:
                log.info("stopping", signal=stop.name, workers=len(self.workers))
                self._ask_to_stop()
            elif signal.SIGHUP in received and not self.stopping:
                self._forward(signal.SIGHUP)
            refused = self._reap()
            if refused is not None:
                log.error("worker_refused_to_start", exit_code=refused)
                self._ask_to_stop()
                self._wait_all()
                return 1
            self._replace_hung()
            self._kill_past_drain_deadline()
        log.info("stopped")
        return 0

    def _processes(self) -> dict[str, int]:
        """The processes /metrics reports process_* series for, by worker label."""
        running = {"supervisor": os.getpid()}
        for index, worker in list(self.workers.items()):
            if worker.process is not None and worker.process.poll() is None:
                running[str(index)] = worker.process.pid
        return running

    def _heartbeat(self, index: int) -> str:
        return os.path.join(self.metrics_dir, f"heartbeat-{index}")

    def _start(self, index: int) -> subprocess.Popen[bytes]:
        env = {**self.environ, "EARMARK_WORKERS": "1"}  # a worker serves; it never supervises
        heartbeat = self._heartbeat(index)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(heartbeat)  # the last worker's beats are not this one's
        # The worker starts with SIGHUP blocked (a signal mask survives exec), so a reload
        # forwarded while it is still importing waits for its handler instead of killing
        # it; serve() unblocks it once the handler is in place.
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})
        try:
            return subprocess.Popen(
                [sys.executable, "-m", "earmark", "serve", "--as-worker", "--heartbeat", heartbeat],
                env=env,
                preexec_fn=_die_with_parent(os.getpid()),
            )
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)

    def _ask_to_stop(self) -> None:
        self.stopping = True
        self.drain_deadline = time.monotonic() + self.settings.grace_seconds + DRAIN_MARGIN_SECONDS
        self._forward(signal.SIGTERM)
        # A stopped worker (SIGSTOP, a debugger) holds its SIGTERM until it is continued;
        # without this the supervisor waited for it forever.
        self._forward(signal.SIGCONT)

    def _kill_past_drain_deadline(self) -> None:
        if time.monotonic() < self.drain_deadline:
            return
        for index, worker in self.workers.items():
            if worker.process is None or worker.killed_after_grace or worker.process.poll() is not None:
                continue
            log.error("worker_killed_after_grace", worker=index, pid=worker.process.pid)
            worker.process.kill()
            worker.killed_after_grace = True

    def _forward(self, signum: signal.Signals) -> None:
        for worker in self.workers.values():
            if worker.process is not None and worker.process.poll() is None:
                worker.process.send_signal(signum)

    def _reap(self) -> int | None:
        """Handle workers that exited, and start those whose back-off is over; returns an
        exit code if one refused to start."""
        now = time.monotonic()
        for index, worker in list(self.workers.items()):
            if worker.process is None:
                if self.stopping:
                    del self.workers[index]
                elif now >= worker.restart_at:
                    replacement = _Worker(index, self._start(index), restarts=worker.restarts)
                    self.workers[index] = replacement
                    self.metrics.worker_restarts.labels("hung" if worker.killed_for_hanging else "died").inc()
                    log.info("worker_restarted", worker=index, pid=replacement.process.pid)  # type: ignore[union-attr]
                continue
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
            quick = now - worker.started < BACKOFF_RESET_SECONDS
            restarts = worker.restarts + 1 if quick else 0
            delay = (
                RESTART_BACKOFF_SECONDS[min(restarts, len(RESTART_BACKOFF_SECONDS)) - 1] if restarts else 0.0
            )
            log.warning("worker_died", worker=index, pid=worker.process.pid, exit_code=code, restart_in=delay)
            self.workers[index] = _Worker(
                index,
                None,
                restarts=restarts,
                restart_at=now + delay,
                killed_for_hanging=worker.killed_for_hanging,
            )
        return None

    def _replace_hung(self) -> None:
        """Kill a worker whose heartbeat stopped; _reap then restarts it."""
        now, wall = time.monotonic(), time.time()
        for index, worker in self.workers.items():
            if self.stopping or worker.process is None or worker.killed_for_hanging:
                continue
            if worker.process.poll() is not None:
                continue
            try:
                silent = wall - os.stat(self._heartbeat(index)).st_mtime
            except FileNotFoundError:  # no beat yet: start-up has FIRST_HEARTBEAT_SECONDS
                silent = now - worker.started - (FIRST_HEARTBEAT_SECONDS - HEARTBEAT_TIMEOUT_SECONDS)
            if silent > HEARTBEAT_TIMEOUT_SECONDS:
                log.error(
                    "worker_hung", worker=index, pid=worker.process.pid, silent_seconds=round(silent, 1)
                )
                worker.process.kill()  # SIGKILL ends a stopped process too
                worker.killed_for_hanging = True

    def _wait_all(self) -> None:
        deadline = time.monotonic() + self.settings.grace_seconds + 5
        for worker in self.workers.values():
            if worker.process is None:
                continue
            try:
                worker.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
        self.workers.clear()


def _drain(commands: queue.SimpleQueue[signal.Signals], timeout: float) -> list[signal.Signals]:
    """Every signal received so far, waiting up to `timeout` for the first."""
    try:
        received = [commands.get(timeout=timeout)]
    except queue.Empty:
        return []
    while True:
        try:
            received.append(commands.get_nowait())
        except queue.Empty:
            return received
