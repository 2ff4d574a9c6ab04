"""Admission: which calls the server holds, which threads run them, and how long a call
may take to send its message.

- **At most EARMARK_MAX_CONCURRENT_RPCS calls held at once**, reading, waiting or running;
  a call past that is refused at once with RESOURCE_EXHAUSTED. grpcio's own
  `maximum_concurrent_rpcs` refuses with a fixed text that can't name the setting, and
  before any interceptor, so its refusals never reached the metrics or the log. Instead
  grpcio hands every admitted call to this executor, which counts the calls it holds; a
  done-callback releases each one however the call ends. The interceptor, which grpcio
  runs just before that hand-over, checks `full()` and turns a call past the limit into a
  refusal. Refusals run on a thread of their own, so they are answered at once.
- **EARMARK_THREADS threads, plus one for each call stuck waiting for its message, and
  one for each open stream (reflection), which holds its thread for as long as it is
  open.**
  grpcio's sync server reads a unary request on the pool thread that will run the
  handler, waiting with no timeout (`_unary_request` in grpc/_server.py): two clients
  that send headers and never a message used to hold both threads, and every other call
  timed out. A pool as big as the admission limit fixes that but costs a normal call a
  thread wake-up and a GIL hand-off (measured: a no-op call's server CPU went from about
  390 to about 530 µs), because with few threads a busy worker takes the next call
  without sleeping. So the pool stays EARMARK_THREADS wide, and the read watchdog adds
  a thread for each call that has waited more than STUCK_SECONDS for its message; spare
  threads leave once idle. Once a call has its message it takes a permit from
  `evaluation` (as wide as EARMARK_THREADS) until grpcio's runner is done, so the extra
  threads never add GIL contention.
- **A message that does not arrive within the read timeout cancels its call.** grpcio has
  no setting for this (grpc core enforces only deadlines the client set), so the watchdog
  cancels such a call through its core call object; the waiting reader then wakes and
  the behaviour never runs.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent import futures
from typing import Any

from grpc import _server as grpc_server  # the reader functions the guard recognises
from grpc._cython import cygrpc  # type: ignore[attr-defined]  # the stubs omit the Cython core

_REFUSAL = "_earmark_refusal"
_EXEMPT = "_earmark_exempt_from_permits"
METHOD_ATTRIBUTE = "_earmark_method"  # set by the interceptor on each call's behaviour
# grpcio's in-pool runners; their arguments are (rpc_event, state, behavior,
# argument_thunk, request_deserializer, response_serializer). A unary response is read
# under the watchdog and run under a permit; a response stream (Health/Watch, reflection)
# may last for hours, so it gets a thread of its own instead.
_UNARY_RUNNER = grpc_server._unary_response_in_pool
_ONE_MESSAGE_RUNNERS = (_UNARY_RUNNER, grpc_server._stream_response_in_pool)
STUCK_SECONDS = 0.02  # a normal request's message is in within microseconds
IDLE_SECONDS = 1.0  # a spare thread with nothing to do for this long leaves

OnStalled = Callable[[str, float], None]  # (method, seconds waited)
_Task = tuple[futures.Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


def exempt_from_permits(behaviour: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a call's behaviour as one that runs without an evaluation permit."""
    setattr(behaviour, _EXEMPT, True)
    return behaviour


def mark_refusal(behaviour: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a call's behaviour as a refusal, for the executor to run apart."""
    setattr(behaviour, _REFUSAL, True)
    return behaviour


class AdmissionExecutor(futures.Executor):
    """The server's thread pool: counts the calls it holds, and grows by a thread for each
    call stuck waiting for its message (which the read watchdog cancels in time) and for
    each open stream."""

    def __init__(
        self, threads: int, limit: int, read_timeout: float, on_stalled: OnStalled | None = None
    ) -> None:
        self.limit = limit
        self.evaluation = threading.BoundedSemaphore(threads)
        self._threads = threads
        self._refusals = futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="refusal")
        self._tasks: queue.SimpleQueue[_Task | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._held = 0
        self._workers = 0
        self._idle = 0
        self._wanted = threads
        self._stuck = 0  # calls holding a thread while they wait for their message
        self._streams = 0  # open streams holding a thread (reflection; grpcio serves Watch without one)
        self._closed = False
        self._watchdog = ReadWatchdog(
            read_timeout, on_stalled, self.evaluation, self._set_stuck, self._stream
        )

    def full(self) -> bool:
        return self._held >= self.limit

    @property
    def workers(self) -> int:
        """Threads the pool runs now: EARMARK_THREADS, plus one per call stuck reading its
        message or holding a stream open (spares leave after IDLE_SECONDS)."""
        return self._workers

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> futures.Future[Any]:
        # grpcio passes the handler's behaviour among the arguments of its in-pool runner.
        if any(getattr(arg, _REFUSAL, False) for arg in args):
            return self._refusals.submit(fn, *args, **kwargs)
        future: futures.Future[Any] = futures.Future()
        with self._lock:
            self._held += 1
        self._tasks.put((future, fn, self._watchdog.guard(args), kwargs))
        future.add_done_callback(self._release)
        self._top_up()
        return future

    def _release(self, _future: futures.Future[Any]) -> None:
        with self._lock:
            self._held -= 1

    def _set_stuck(self, stuck: int) -> None:
        """Called by the watchdog: this many calls hold a thread waiting for a message."""
        with self._lock:
            self._stuck = stuck
            self._wanted = min(self._threads + self._stuck + self._streams, self.limit)
        self._top_up()

    def _stream(self, change: int) -> None:
        """A streaming call started (+1) or ended (-1) on a thread it holds while open."""
        with self._lock:
            self._streams += change
            self._wanted = min(self._threads + self._stuck + self._streams, self.limit)
        self._top_up()

    def _top_up(self) -> None:
        """Start a thread for each waiting task no idle thread will take, up to _wanted."""
        with self._lock:
            starting = min(self._wanted - self._workers, self._tasks.qsize() - self._idle)
            if starting <= 0 or self._closed:
                return
            self._workers += starting
        for _ in range(starting):
            threading.Thread(target=self._work, name="rpc", daemon=True).start()

    def _work(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            try:
                task = self._tasks.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    self._idle -= 1
                    if self._workers > self._wanted or self._closed:
                        self._workers -= 1
                        return
                continue
            with self._lock:
                self._idle -= 1
            if task is None:  # shut down
                with self._lock:
                    self._workers -= 1
                return
            future, fn, args, kwargs = task
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._watchdog.stop()
        with self._lock:
            self._closed = True
            workers = self._workers
        for _ in range(workers):
            self._tasks.put(None)
        self._refusals.shutdown(wait, cancel_futures=cancel_futures)


class ReadWatchdog:
    """Watches the calls waiting for their request message: reports how many are stuck
    (so the pool can give each a thread), and cancels those still waiting after `timeout`.

    On the request path a call costs two dict operations under a lock: a call leaves the
    table as soon as its message is in, so the table holds only the calls still waiting
    and each tick (every STUCK_SECONDS) looks at the oldest few of them."""

    def __init__(
        self,
        timeout: float,
        on_stalled: OnStalled | None,
        permits: threading.Semaphore,
        on_stuck: Callable[[int], None],
        on_stream: Callable[[int], None],
    ) -> None:
        self.timeout = timeout
        self._on_stalled = on_stalled
        self._permits = permits
        self._on_stuck = on_stuck
        self._on_stream = on_stream
        self._lock = threading.Lock()
        self._waiting: dict[int, _Reading] = {}  # in the order the calls started to wait
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="read-watchdog", daemon=True)
        self._thread.start()

    def guard(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        """grpcio's runner arguments, with the request read watched and, once the message is
        in, the rest of the call run under an evaluation permit."""
        if len(args) != 7 or args[0] not in _ONE_MESSAGE_RUNNERS:
            return args
        runner, rpc_event, state, behavior, read, deserializer, serializer = args
        if runner is not _UNARY_RUNNER:  # a stream: it holds its thread while open
            return (self._streaming(runner), rpc_event, state, behavior, read, deserializer, serializer)
        takes_permit = not getattr(behavior, _EXEMPT, False)
        method = getattr(behavior, METHOD_ATTRIBUTE, "")
        held = False

        def read_watched() -> Any:
            nonlocal held
            reading = _Reading(rpc_event, method)
            with self._lock:
                self._waiting[id(reading)] = reading
            try:
                request = read()
            finally:
                with self._lock:
                    self._waiting.pop(id(reading), None)
            if request is not None and takes_permit:
                self._permits.acquire()  # released when the runner is done, below
                held = True
            return request

        def run_then_release(*runner_args: Any) -> Any:
            try:
                return runner(*runner_args)
            finally:
                if held:
                    self._permits.release()

        return (run_then_release, rpc_event, state, behavior, read_watched, deserializer, serializer)

    def _streaming(self, runner: Callable[..., Any]) -> Callable[..., Any]:
        def run_as_stream(*runner_args: Any) -> Any:
            self._on_stream(1)
            try:
                return runner(*runner_args)
            finally:
                self._on_stream(-1)

        return run_as_stream

    def _run(self) -> None:
        reported = 0
        while not self._stop.wait(STUCK_SECONDS):
            now = time.monotonic()
            expired, stuck = [], 0
            with self._lock:
                for reading in self._waiting.values():  # oldest first
                    if reading.started > now - STUCK_SECONDS:
                        break
                    stuck += 1
                    if reading.started <= now - self.timeout:
                        expired.append(reading)
                for reading in expired:
                    del self._waiting[id(reading)]
            for reading in expired:
                reading.cancel(self.timeout)
                if self._on_stalled is not None:
                    self._on_stalled(reading.method, now - reading.started)
            stuck -= len(expired)
            if stuck != reported:
                self._on_stuck(stuck)
                reported = stuck

    def stop(self) -> None:
        self._stop.set()


class _Reading:
    """One call waiting for its request message."""

    __slots__ = ("call", "method", "rpc_event", "started")

    def __init__(self, rpc_event: Any, method: str) -> None:
        self.rpc_event = rpc_event
        self.call = rpc_event.call
        self.method = method
        self.started = time.monotonic()

    def cancel(self, timeout: float) -> None:
        details = f"no request message arrived within {timeout:g} s (EARMARK_DEFAULT_DEADLINE_SECONDS)"
        self.call.cancel(cygrpc.StatusCode.deadline_exceeded, details)
        if not self.method:  # grpcio leaves call_details.method empty for registered methods
            given = self.rpc_event.call_details.method
            self.method = (given.decode("utf-8", "replace") if isinstance(given, bytes) else "") or "unknown"
