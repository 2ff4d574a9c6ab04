"""Admission: which calls the server takes, which threads run them, how long a call may
wait for its turn, for its message, and between the messages of a stream.

grpcio hands every call to this executor (grpc.server's thread pool). It sorts them:

- **Probes** (Health/Check) run on a pool of their own and are never refused or queued
  behind evaluations: a pod's health must not depend on how busy it is.
- **Streams** (reflection, Health/Watch) run on a pool of their own, at most
  EARMARK_MAX_STREAMS at once; more are refused (counted in
  earmark_streams_refused_total). A stream that sends nothing for
  EARMARK_STREAM_IDLE_SECONDS is cancelled. Sixty-four idle reflection streams used to
  hold every slot evaluations need.
- **Calls** (Evaluate, EvaluateBatch, DescribeRules) queue for EARMARK_THREADS threads,
  at most EARMARK_MAX_CONCURRENT_RPCS held at once, each connection taking its turn. A call that finds the queue full, or
  has waited EARMARK_MAX_QUEUE_SECONDS for its turn, is refused with RESOURCE_EXHAUSTED,
  so a burst from a listing page waits a moment instead of being refused at once, and a
  stuck server refuses instead of holding callers to their deadline. A refusal never
  reads the request message, so a stalled caller can't hold up the refusals of others.

A call reads its message under the read watchdog (read_watchdog.py), which cancels one
that never comes, and then takes one of EARMARK_THREADS evaluation permits until it is
done, so the spare threads the call queue (call_queue.py) starts for stuck readers never
add GIL contention.

All of this relies on grpcio internals: the layout of the arguments grpcio passes to
`submit` and the in-pool runners it names. `verify_grpc_internals` checks them when a
server is built and refuses to start, naming the grpcio version, if they have changed;
otherwise the watchdog and the permits would silently switch off.
"""

from __future__ import annotations

import functools
import inspect
import threading
import time
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc
from grpc import _server as grpc_server  # the runners the executor recognises
from grpc._cython import cygrpc  # type: ignore[attr-defined]  # the stubs omit the Cython core

from earmark.errors import AdmissionUnsupported
from earmark.server.call_queue import CallQueue, run_task
from earmark.server.read_watchdog import OnStalled, ReadWatchdog, called_method

PROBE_METHODS = frozenset({"/grpc.health.v1.Health/Check"})
GRPCIO_WRITTEN_FOR = "1.85.1"
RUNNER_PARAMETERS = (
    "rpc_event",
    "state",
    "behavior",
    "argument_thunk",
    "request_deserializer",
    "response_serializer",
)
PROBE_THREADS = 8  # probes that stall reading are cancelled at the read timeout
REFUSAL_THREADS = 2  # a refusal reads nothing, so it never blocks its thread
# Calls were waiting and none was served for this long: the server can't take calls, and
# health says NOT_SERVING so that traffic goes to a pod that can.
STALLED_SERVICE_SECONDS = 5.0

_METHOD = "_earmark_method"  # set by the interceptor on each call's behaviour
OnStreamRefused = Callable[[str], None]  # (method)


@dataclass(frozen=True)
class Limits:
    threads: int  # EARMARK_THREADS
    calls: int  # EARMARK_MAX_CONCURRENT_RPCS: calls held at once, running or queued
    queue_seconds: float  # EARMARK_MAX_QUEUE_SECONDS
    read_seconds: float  # how long a call may take to send its message
    streams: int  # EARMARK_MAX_STREAMS
    stream_idle_seconds: float  # EARMARK_STREAM_IDLE_SECONDS


class Refused:
    """What a refused call's handler receives instead of its request (which is never
    read): the interceptor answers it RESOURCE_EXHAUSTED, logged and counted."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


def tag_method(behaviour: Callable[..., Any], method: str) -> Callable[..., Any]:
    """Name the method a behaviour serves (grpcio doesn't tell the executor): admission
    sorts probes from calls by it, and names it in what it logs and counts."""
    setattr(behaviour, _METHOD, method)
    return behaviour


class Admission(futures.Executor):
    """The server's thread pool (see the module docstring). `probes_only`: every call is
    a probe (the health-only port, which has no interceptor to name the methods)."""

    def __init__(
        self,
        limits: Limits,
        *,
        on_stalled: OnStalled | None = None,
        on_stream_refused: OnStreamRefused | None = None,
        probes_only: bool = False,
        stalled_service_seconds: float = STALLED_SERVICE_SECONDS,
    ) -> None:
        verify_grpc_internals()
        self.limits = limits
        self._probes_only = probes_only
        self._on_stream_refused = on_stream_refused
        self.stalled_service_seconds = stalled_service_seconds
        self.evaluation = threading.BoundedSemaphore(limits.threads)
        self.calls = CallQueue(limits.threads, limits.calls)
        self._probes = futures.ThreadPoolExecutor(PROBE_THREADS, thread_name_prefix="probe")
        self._streams = futures.ThreadPoolExecutor(max(limits.streams, 1), thread_name_prefix="stream")
        self._refusals = futures.ThreadPoolExecutor(REFUSAL_THREADS, thread_name_prefix="refusal")
        self._lock = threading.Lock()
        self._open_streams = 0
        # What health reads: when a call was last served, and when one was last turned
        # away for want of a thread (queue full, or waited too long).
        self._last_served = time.monotonic()
        self._last_turned_away = float("-inf")
        self.watchdog = ReadWatchdog(
            limits.read_seconds,
            limits.stream_idle_seconds,
            on_stalled,
            self.calls.set_stuck,
            self._refuse_overdue,
        )

    # -- what the server asks ------------------------------------------------------------

    @property
    def workers(self) -> int:
        """Threads the call pool runs now: EARMARK_THREADS, plus one per call stuck
        reading its message (spares leave after IDLE_SECONDS)."""
        return self.calls.workers

    @property
    def open_streams(self) -> int:
        return self._open_streams

    def can_take_calls(self) -> bool:
        """False when no call has been served for `stalled_service_seconds` although calls
        wanted a thread all along: one was turned away for want of one in that time, or
        has been queued for one that long. Every thread is stuck, and health says so.
        Calls still sending their message don't count: they wait for their client."""
        now = time.monotonic()
        window = self.stalled_service_seconds
        if now - self._last_served < window:
            return True
        queued_since = self.calls.waiting_since
        unmet = now - self._last_turned_away < window or (
            queued_since is not None and now - queued_since >= window
        )
        return not unmet

    def turned_away(self) -> None:
        """A call was refused for want of a thread: what can_take_calls weighs."""
        self._last_turned_away = time.monotonic()

    # -- the Executor grpcio calls -------------------------------------------------------

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> futures.Future[Any]:
        # grpcio submits state.context.run(runner, rpc_event, state, behavior,
        # argument_thunk, request_deserializer, response_serializer);
        # verify_grpc_internals checked that layout at start-up.
        runner, rpc_event, state, behavior, thunk, deserializer, serializer = args
        if runner is grpc_server._stream_response_in_pool:
            return self._stream(fn, args)
        method = getattr(behavior, _METHOD, "")
        if self._probes_only or method in PROBE_METHODS:
            watched = self.watchdog.watched_read(thunk, rpc_event, method, holds_call_thread=False)
            return self._probes.submit(
                fn, runner, rpc_event, state, behavior, watched, deserializer, serializer
            )
        if not method:  # no interceptor named it, or answers a Refused: answer it here
            behavior, method = _answering_refusals(behavior), called_method(rpc_event)
        if not self.calls.admit():
            self.turned_away()
            refusal = Refused(
                f"the server already holds EARMARK_MAX_CONCURRENT_RPCS={self.limits.calls} calls;"
                " retry with backoff"
            )
            return self._refusals.submit(
                fn, runner, rpc_event, state, behavior, lambda: refusal, deserializer, serializer
            )
        turn = _Turn(self, runner, thunk, rpc_event, method)
        runner_args = (turn.run, rpc_event, state, behavior, turn, deserializer, serializer)
        future = self.calls.run(fn, runner_args, kwargs, rpc_event.call.peer())  # a client per connection
        future.add_done_callback(lambda _: self._served(turn))
        return future

    def _refuse_overdue(self) -> None:
        """Refuse the calls that have waited EARMARK_MAX_QUEUE_SECONDS for a thread, on the
        refusal threads (their turn sees the wait and reads nothing)."""
        for _queued, future, fn, args, kwargs in self.calls.overdue(self.limits.queue_seconds):
            self.turned_away()
            self._refusals.submit(run_task, future, fn, args, kwargs)

    def _served(self, turn: _Turn) -> None:
        self.calls.release()
        if turn.ran:
            self._last_served = time.monotonic()

    def _stream(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> futures.Future[Any]:
        runner, rpc_event, state, behavior, thunk, deserializer, serializer = args
        method = getattr(behavior, _METHOD, "") or called_method(rpc_event)
        with self._lock:
            full = self._open_streams >= self.limits.streams
            if not full:
                self._open_streams += 1
        if full:
            if self._on_stream_refused is not None:
                self._on_stream_refused(method)
            message = (
                f"the server already has EARMARK_MAX_STREAMS={self.limits.streams} streams open;"
                " close one, or retry later"
            )
            return self._refusals.submit(
                fn, runner, rpc_event, state, _refuse_stream(message), lambda: True, deserializer, serializer
            )
        watched = self.watchdog.watched_stream(thunk, rpc_event, method)
        future = self._streams.submit(
            fn, runner, rpc_event, state, behavior, watched, deserializer, serializer
        )
        future.add_done_callback(self._stream_closed)
        return future

    def _stream_closed(self, _future: futures.Future[Any]) -> None:
        with self._lock:
            self._open_streams -= 1

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.watchdog.stop()
        self.calls.shutdown()
        for pool in (self._probes, self._streams, self._refusals):
            pool.shutdown(wait, cancel_futures=cancel_futures)


class _Turn:
    """A call's way through: as grpcio's read thunk, it refuses the call if it waited too
    long for its turn, reads its message under the watchdog, then takes an evaluation
    permit; as its runner, it releases the permit when the call is done. One object per
    call, not a closure for each step: this runs on every call."""

    __slots__ = ("_admission", "_method", "_read", "_rpc_event", "_runner", "held", "ran", "submitted")

    def __init__(
        self,
        admission: Admission,
        runner: Callable[..., Any],
        read: Callable[[], Any],
        rpc_event: Any,
        method: str,
    ) -> None:
        self._admission = admission
        self._runner = runner
        self._read = read
        self._rpc_event = rpc_event
        self._method = method
        self.submitted = time.monotonic()
        self.held = False
        self.ran = False

    def __call__(self) -> Any:
        admission = self._admission
        queue_seconds = admission.limits.queue_seconds
        waited = time.monotonic() - self.submitted
        if waited > queue_seconds:
            return self._refused(waited)
        request = admission.watchdog.read(self._read, self._rpc_event, self._method, True)
        if request is None:  # cancelled, or the client closed: grpcio answers nothing
            return None
        if not admission.evaluation.acquire(blocking=False):  # the usual case: a permit is free
            left = queue_seconds - (time.monotonic() - self.submitted)
            if not admission.evaluation.acquire(timeout=max(left, 0.0)):
                return self._refused(time.monotonic() - self.submitted)
        self.held = self.ran = True
        return request

    def run(self, *runner_args: Any) -> Any:
        try:
            return self._runner(*runner_args)
        finally:
            if self.held:
                self.held = False
                self._admission.evaluation.release()

    def _refused(self, waited: float) -> Refused:
        self._admission.turned_away()
        return Refused(
            f"waited {waited:.2f} s for a turn, past EARMARK_MAX_QUEUE_SECONDS="
            f"{self._admission.limits.queue_seconds:g}; retry with backoff"
        )


def _refuse_stream(message: str) -> Callable[..., Any]:
    def refuse(_request: Any, context: grpc.ServicerContext, *_more: Any) -> Any:
        context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, message)

    return refuse


def _answering_refusals(behavior: Callable[..., Any]) -> Callable[..., Any]:
    def answer(request: Any, context: grpc.ServicerContext, *more: Any) -> Any:
        if isinstance(request, Refused):
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, request.message)
        return behavior(request, context, *more)

    return answer


@functools.cache
def verify_grpc_internals() -> None:
    """Raise AdmissionUnsupported, naming the grpcio version, unless grpcio still has the
    internals admission relies on; checked once per process."""
    problems = []
    for name in ("_unary_response_in_pool", "_stream_response_in_pool"):
        runner = getattr(grpc_server, name, None)
        if runner is None:
            problems.append(f"grpc._server.{name} is gone")
        elif tuple(inspect.signature(runner).parameters) != RUNNER_PARAMETERS:
            problems.append(f"grpc._server.{name} takes {tuple(inspect.signature(runner).parameters)}")
    for name in ("_handle_unary_unary", "_handle_unary_stream", "_handle_stream_stream"):
        handler = getattr(grpc_server, name, None)
        source = inspect.getsource(handler) if handler is not None else ""
        if "thread_pool.submit(\n        state.context.run," not in source:
            problems.append(f"grpc._server.{name} no longer submits (state.context.run, runner, ...)")
    if not isinstance(getattr(grpc_server, "_RequestIterator", None), type):
        problems.append("grpc._server._RequestIterator is gone")
    if "def unary_request(" not in inspect.getsource(getattr(grpc_server, "_unary_request", len)):
        problems.append("grpc._server._unary_request no longer makes a unary_request thunk")
    if not hasattr(getattr(cygrpc, "Call", None), "cancel"):
        problems.append("grpc's core call can no longer be cancelled from Python")
    if problems:
        raise AdmissionUnsupported(
            f"grpcio {grpc.__version__} is not the grpcio Earmark's admission was written for"
            f" ({GRPCIO_WRITTEN_FOR}): " + "; ".join(problems) + ". Pin grpcio=="
            f"{GRPCIO_WRITTEN_FOR}, or check server/admission.py against the new grpc/_server.py."
        )
