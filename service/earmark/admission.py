"""Admission: which calls the server holds, which may evaluate, and how long a call may
take to send its message.

- **At most EARMARK_MAX_CONCURRENT_RPCS calls held at once**, reading, waiting or running;
  a call past that is refused at once with RESOURCE_EXHAUSTED. grpcio's own
  `maximum_concurrent_rpcs` refuses with a fixed text that can't name the setting, and
  before any interceptor, so its refusals never reached the metrics or the log. Instead
  grpcio hands every admitted call to this executor, which counts the calls it holds; a
  done-callback releases each one however the call ends. The interceptor, which grpcio
  runs just before that hand-over, checks `full()` and turns a call past the limit into a
  refusal. Refusals run on a thread of their own, so they are answered at once.
- **A thread per held call reads its message; EARMARK_THREADS of them evaluate.** grpcio's
  sync server reads a unary request on the pool thread that will run the handler, waiting
  with no timeout (`_unary_request` in grpc/_server.py): two clients that send headers and
  never a message used to hold both handler threads, and every other call timed out. Now
  reading costs a thread that waits without the GIL, and evaluation takes a permit from
  `evaluation`, a semaphore as wide as EARMARK_THREADS (more would only queue on the GIL).
- **A message that does not arrive within the read timeout cancels its call.** grpcio has
  no setting for this (grpc core enforces only deadlines the client set), so a watchdog
  cancels such a call through its core call object; the waiting reader then wakes and
  the behaviour never runs.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent import futures
from typing import Any

from grpc import _server as grpc_server  # the reader functions the guard recognises
from grpc._cython import cygrpc

_REFUSAL = "_earmark_refusal"
METHOD_ATTRIBUTE = "_earmark_method"  # set by the interceptor on each call's behaviour
# grpcio's in-pool runners for calls with one request message; their arguments are
# (rpc_event, state, behavior, argument_thunk, request_deserializer, response_serializer).
_ONE_MESSAGE_RUNNERS = (grpc_server._unary_response_in_pool, grpc_server._stream_response_in_pool)

OnStalled = Callable[[str, float], None]  # (method, seconds waited)


def mark_refusal(behaviour: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a call's behaviour as a refusal, for the executor to run apart."""
    setattr(behaviour, _REFUSAL, True)
    return behaviour


class AdmissionExecutor(futures.Executor):
    """The server's thread pool: counts the calls it holds, gives each a reader thread,
    and has a read watchdog cancel calls whose message never comes."""

    def __init__(
        self, threads: int, limit: int, read_timeout: float, on_stalled: OnStalled | None = None
    ) -> None:
        self.limit = limit
        self.evaluation = threading.BoundedSemaphore(threads)
        self._work = futures.ThreadPoolExecutor(max_workers=limit, thread_name_prefix="rpc")
        self._refusals = futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="refusal")
        self._watchdog = ReadWatchdog(read_timeout, on_stalled)
        self._lock = threading.Lock()
        self._held = 0

    def full(self) -> bool:
        return self._held >= self.limit

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> futures.Future[Any]:
        # grpcio passes the handler's behaviour among the arguments of its in-pool runner.
        if any(getattr(arg, _REFUSAL, False) for arg in args):
            return self._refusals.submit(fn, *args, **kwargs)
        with self._lock:
            self._held += 1
        future = self._work.submit(fn, *self._watchdog.guard(args), **kwargs)
        future.add_done_callback(self._release)
        return future

    def _release(self, _future: futures.Future[Any]) -> None:
        with self._lock:
            self._held -= 1

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._watchdog.stop()
        self._work.shutdown(wait, cancel_futures=cancel_futures)
        self._refusals.shutdown(wait, cancel_futures=cancel_futures)


class ReadWatchdog:
    """Cancels calls whose request message has not arrived `timeout` seconds after the
    call reached a thread, within CHECK_SECONDS more.

    On the request path a call costs one append under a lock: the timeout is the same for
    every call, so readings expire in the order they start and a FIFO replaces a heap.
    The thread wakes every CHECK_SECONDS while readings are pending, and sleeps until
    notified when there are none, rather than once per call."""

    CHECK_SECONDS = 0.25

    def __init__(self, timeout: float, on_stalled: OnStalled | None) -> None:
        self.timeout = timeout
        self._on_stalled = on_stalled
        self._condition = threading.Condition()
        self._pending: deque[_Reading] = deque()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="read-watchdog", daemon=True)
        self._thread.start()

    def guard(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        """grpcio's runner arguments, with the request reader wrapped in a deadline."""
        if len(args) != 7 or args[0] not in _ONE_MESSAGE_RUNNERS:
            return args  # streamed requests are read as the handler iterates them
        runner, rpc_event, state, behavior, read, deserializer, serializer = args
        reading = _Reading(rpc_event, getattr(behavior, METHOD_ATTRIBUTE, ""))

        def read_with_deadline() -> Any:
            self._watch(reading)
            try:
                return read()
            finally:
                reading.arrived = True

        return (runner, rpc_event, state, behavior, read_with_deadline, deserializer, serializer)

    def _watch(self, reading: _Reading) -> None:
        with self._condition:
            self._pending.append(reading)
            if len(self._pending) == 1:
                self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._stopped and not self._pending:
                    self._condition.wait()
                if self._stopped:
                    return
                expired = []
                cutoff = time.monotonic() - self.timeout
                while self._pending and self._pending[0].started <= cutoff:
                    expired.append(self._pending.popleft())
            for reading in expired:
                if not reading.arrived:
                    reading.cancel(self.timeout)
                    if self._on_stalled is not None:
                        self._on_stalled(reading.method, time.monotonic() - reading.started)
            with self._condition:
                if not self._stopped:
                    self._condition.wait(self.CHECK_SECONDS)

    def stop(self) -> None:
        with self._condition:
            self._stopped = True
            self._condition.notify()


class _Reading:
    """One call waiting for its request message."""

    __slots__ = ("arrived", "call", "method", "started")

    def __init__(self, rpc_event: Any, method: str) -> None:
        self.call = rpc_event.call
        # grpcio leaves call_details.method empty for registered methods.
        given = rpc_event.call_details.method
        given = given.decode("utf-8", "replace") if isinstance(given, bytes) else str(given or "")
        self.method = method or given or "unknown"
        self.started = time.monotonic()
        self.arrived = False

    def cancel(self, timeout: float) -> None:
        details = f"no request message arrived within {timeout:g} s (EARMARK_DEFAULT_DEADLINE_SECONDS)"
        self.call.cancel(cygrpc.StatusCode.deadline_exceeded, details)
