"""How many client connections this process holds on its port, sampled every few seconds.

grpc core caps connections (EARMARK_MAX_CONNECTIONS) and closes idle and old ones, but
tells Python nothing: the connections it refuses past the cap are closed without a trace.
So this counts them from the kernel's side: the process's socket descriptors
(/proc/self/fd), matched against the established TCP connections on the port
(/proc/self/net/tcp and tcp6). It sets earmark_connections_open, counts the seconds spent
at the cap, and logs once a minute while the cap is reached. Where /proc is missing, it
counts nothing and says so once.
"""

from __future__ import annotations

import os
import threading
import time

import structlog

from earmark.server.metrics import Metrics

SAMPLE_SECONDS = 2.0
LOG_EVERY_SECONDS = 60.0
_ESTABLISHED = "01"

log = structlog.get_logger("earmark.server")


def established_on(port: int) -> int:
    """Established TCP connections on local `port` whose socket this process holds."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    wanted = f":{port:04X}"
    count = 0
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        try:
            with open(table) as lines:
                next(lines)  # the header
                for line in lines:
                    fields = line.split()
                    if fields[1].endswith(wanted) and fields[3] == _ESTABLISHED and fields[9] in inodes:
                        count += 1
        except FileNotFoundError:  # no IPv6
            continue
    return count


class ConnectionCount:
    """Samples established_on(port) from a daemon thread while the server runs."""

    def __init__(self, port: int, cap: int, metrics: Metrics) -> None:
        self.port = port
        self.cap = cap
        self._metrics = metrics
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="connections", daemon=True)
        self.last = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        logged = float("-inf")
        while not self._stop.wait(SAMPLE_SECONDS):
            try:
                self.last = established_on(self.port)
            except OSError as exc:
                log.warning("connections_uncounted", error=str(exc))
                return
            self._metrics.connections.set(self.last)
            if self.last >= self.cap:
                self._metrics.connections_at_cap.inc(SAMPLE_SECONDS)
                if time.monotonic() - logged >= LOG_EVERY_SECONDS:
                    logged = time.monotonic()
                    log.warning(
                        "connection_cap_reached",
                        connections=self.last,
                        limit=self.cap,
                        hint="new connections are refused; raise EARMARK_MAX_CONNECTIONS or add replicas",
                    )
