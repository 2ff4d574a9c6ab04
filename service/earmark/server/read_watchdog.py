"""The read watchdog: a thread that watches the calls waiting for a request message.

grpc core enforces only the deadlines clients set, and grpcio reads a unary request with
no timeout, so a client that sends headers and never its message would hold a thread for
good. The watchdog reports how many calls are stuck so (the call queue gives each a
spare thread), cancels through its core call object a call still waiting after the read
timeout (the waiting reader then wakes and the behaviour never runs), and cancels a
stream that has sent nothing for its idle timeout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from grpc import _server as grpc_server  # _RequestIterator: a client stream's messages
from grpc._cython import cygrpc  # type: ignore[attr-defined]  # the stubs omit the Cython core

STUCK_SECONDS = 0.02  # a normal request's message is in within microseconds

OnStalled = Callable[[str, float], None]  # (method, seconds waited for the message)


def called_method(rpc_event: Any) -> str:
    given = rpc_event.call_details.method
    return (given.decode("utf-8", "replace") if isinstance(given, bytes) else str(given or "")) or "stream"


class ReadWatchdog:
    """Watches the calls waiting for a message: reports how many unary calls are stuck
    (so the call pool can give each a thread), and cancels those still waiting after the
    read timeout, and streams silent for longer than their idle timeout.

    On the request path a call costs two dict operations under a lock: a call leaves the
    table as soon as its message is in, so the table holds only the calls still waiting
    and each tick (every STUCK_SECONDS) looks at the oldest few of them."""

    def __init__(
        self,
        read_seconds: float,
        stream_idle_seconds: float,
        on_stalled: OnStalled | None,
        on_stuck: Callable[[int], None],
        on_tick: Callable[[], None],
    ) -> None:
        self.read_seconds = read_seconds
        self.stream_idle_seconds = stream_idle_seconds
        self._on_tick = on_tick
        self._on_stalled = on_stalled
        self._on_stuck = on_stuck
        self._lock = threading.Lock()
        self._waiting: dict[int, _Reading] = {}  # unary reads, in the order they began
        self._streams: dict[int, _Reading] = {}  # streams waiting for their next message
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="read-watchdog", daemon=True)
        self._thread.start()

    def watched_read(
        self, read: Callable[[], Any], rpc_event: Any, method: str, *, holds_call_thread: bool = True
    ) -> Callable[[], Any]:
        """`read`, cancelled if no message comes within the read timeout. A call's read
        holds a call-pool thread, so a stuck one is given a spare; a probe's does not."""

        return lambda: self.read(read, rpc_event, method, holds_call_thread)

    def read(self, read: Callable[[], Any], rpc_event: Any, method: str, holds_call_thread: bool) -> Any:
        """`read()`, watched."""
        reading = _Reading(rpc_event, method, holds_call_thread)
        key = id(reading)
        with self._lock:
            self._waiting[key] = reading
        try:
            return read()
        finally:
            with self._lock:
                self._waiting.pop(key, None)

    def watched_stream(self, thunk: Callable[[], Any], rpc_event: Any, method: str) -> Callable[[], Any]:
        """A stream's argument thunk: a client-streaming call's messages are waited for
        under the idle timeout; a server-streaming call's one message, under the read
        timeout."""

        def argument() -> Any:
            argument = thunk()
            if isinstance(argument, grpc_server._RequestIterator):
                return self._idle_timed(argument, rpc_event, method)
            return argument

        if getattr(thunk, "__name__", "") == "unary_request":
            return self.watched_read(thunk, rpc_event, method, holds_call_thread=False)
        return argument

    def _idle_timed(self, requests: Iterator[Any], rpc_event: Any, method: str) -> Iterator[Any]:
        while True:
            reading = _Reading(rpc_event, method, holds_call_thread=False)
            with self._lock:
                self._streams[id(reading)] = reading
            try:
                request = next(requests)
            except StopIteration:
                return
            finally:
                with self._lock:
                    self._streams.pop(id(reading), None)
            yield request

    def _run(self) -> None:
        reported = 0
        read_seconds, idle_seconds = self.read_seconds, self.stream_idle_seconds
        while not self._stop.wait(STUCK_SECONDS):
            self._on_tick()
            now = time.monotonic()
            expired, stuck = [], 0
            with self._lock:
                for reading in self._waiting.values():  # oldest first
                    if reading.started > now - STUCK_SECONDS:
                        break
                    stuck += reading.holds_call_thread
                    if reading.started <= now - read_seconds:
                        expired.append(reading)
                for reading in expired:
                    del self._waiting[id(reading)]
                idle = [r for r in self._streams.values() if r.started <= now - idle_seconds]
                for reading in idle:
                    del self._streams[id(reading)]
            for reading in expired:
                reading.cancel(
                    f"no request message arrived within {read_seconds:g} s (EARMARK_READ_TIMEOUT_SECONDS)"
                )
                if self._on_stalled is not None:
                    self._on_stalled(reading.method, now - reading.started)
            for reading in idle:
                reading.cancel(
                    f"the stream sent nothing for {idle_seconds:g} s (EARMARK_STREAM_IDLE_SECONDS)"
                )
            stuck -= sum(reading.holds_call_thread for reading in expired)
            if stuck != reported:
                self._on_stuck(stuck)
                reported = stuck

    def stop(self) -> None:
        self._stop.set()


class _Reading:
    """One call waiting for a request message."""

    __slots__ = ("call", "holds_call_thread", "method", "rpc_event", "started")

    def __init__(self, rpc_event: Any, method: str, holds_call_thread: bool) -> None:
        self.holds_call_thread = holds_call_thread
        self.rpc_event = rpc_event
        self.call = rpc_event.call
        self.method = method
        self.started = time.monotonic()

    def cancel(self, details: str) -> None:
        self.call.cancel(cygrpc.StatusCode.deadline_exceeded, details)
        if not self.method or self.method == "unknown":
            self.method = called_method(self.rpc_event)
