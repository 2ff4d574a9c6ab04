"""The queue of unary calls and the EARMARK_THREADS threads that take them in order.

grpcio's sync server reads a unary request on the pool thread that will run the handler,
so a call stuck waiting for its message holds that thread: the read watchdog reports such
calls and the queue starts a spare thread for each (spares leave after IDLE_SECONDS idle).
Otherwise the pool stays EARMARK_THREADS wide: a thread per call cost a no-op call about
40% more server CPU, in wake-ups and GIL hand-offs, because with few threads a busy one
takes the next call without sleeping.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent import futures
from typing import Any

IDLE_SECONDS = 1.0  # a spare thread with nothing to do for this long leaves

Queued = tuple[float, futures.Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class CallQueue:
    """EARMARK_THREADS threads taking calls, a client at a time in turn, growing by one
    for each call stuck reading its message; counts the calls it holds against the limit,
    and hands back the calls that have waited too long for a thread, to be refused.

    Taking clients in turn (each connection is a client) keeps one client's burst from
    delaying everyone else's calls: 200 calls fanned out at once from a listing page used
    to put every other caller behind all 200."""

    def __init__(self, threads: int, limit: int) -> None:
        self.limit = limit
        self._threads = threads
        self._queues: dict[bytes, deque[Queued]] = {}  # each client's waiting calls, oldest first
        self._turns: deque[bytes] = deque()  # the clients with calls waiting, in turn
        self._waiting = 0
        self.waiting_since: float | None = None  # since when calls have waited without a break
        self._lock = threading.Lock()
        # A token per queued call wakes a thread: SimpleQueue blocks in C, where a
        # threading.Condition costs a lock allocation and Python code per wait.
        self._tokens: queue.SimpleQueue[None] = queue.SimpleQueue()
        self.held = 0
        self.workers = 0
        self._idle = 0
        self._wanted = threads
        self._closed = False

    def admit(self) -> bool:
        """Count a call in, unless the queue is full."""
        with self._lock:
            if self.held >= self.limit:
                return False
            self.held += 1
            return True

    def release(self) -> None:
        with self._lock:
            self.held -= 1

    def run(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], client: bytes
    ) -> futures.Future[Any]:
        future: futures.Future[Any] = futures.Future()
        with self._lock:
            line = self._queues.get(client)
            if line is None:
                line = self._queues[client] = deque()
                self._turns.append(client)
            now = time.monotonic()
            line.append((now, future, fn, args, kwargs))
            if not self._waiting:
                self.waiting_since = now
            self._waiting += 1
            starting = self._starting()
        self._tokens.put(None)
        self._start(starting)
        return future

    def overdue(self, seconds: float) -> list[Queued]:
        """Take out the calls that have waited `seconds` or more for a thread."""
        since = time.monotonic() - seconds
        taken = []
        with self._lock:
            for client, line in list(self._queues.items()):
                while line and line[0][0] <= since:
                    taken.append(line.popleft())
                if not line:
                    del self._queues[client]
                    self._turns.remove(client)
            self._waiting -= len(taken)
            if not self._waiting:
                self.waiting_since = None
        return taken

    def set_stuck(self, stuck: int) -> None:
        """Called by the watchdog: this many calls hold a thread waiting for a message."""
        with self._lock:
            self._wanted = min(self._threads + stuck, self.limit)
            starting = self._starting()
        self._start(starting)

    def _starting(self) -> int:
        """Threads to start for waiting calls no idle thread will take, up to _wanted;
        counted as started. Called holding the lock."""
        starting = min(self._wanted - self.workers, self._waiting - self._idle)
        if starting <= 0 or self._closed:
            return 0
        self.workers += starting
        return starting

    def _start(self, threads: int) -> None:
        for _ in range(threads):
            threading.Thread(target=self._work, name="rpc", daemon=True).start()

    def _next(self) -> Queued:
        """The next client's oldest call. Called holding the lock, with calls waiting."""
        client = self._turns.popleft()
        line = self._queues[client]
        task = line.popleft()
        if line:
            self._turns.append(client)
        else:
            del self._queues[client]
        self._waiting -= 1
        if not self._waiting:
            self.waiting_since = None
        return task

    def _work(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            try:
                self._tokens.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    self._idle -= 1
                    if self.workers > self._wanted or self._closed:
                        self.workers -= 1
                        return
                continue
            with self._lock:
                self._idle -= 1
                if not self._waiting:  # its call was refused as overdue, or shutting down
                    if self._closed:
                        self.workers -= 1
                        return
                    continue
                _queued, future, fn, args, kwargs = self._next()
            run_task(future, fn, args, kwargs)

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            workers = self.workers
        for _ in range(workers):
            self._tokens.put(None)


def run_task(
    future: futures.Future[Any], fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    if not future.set_running_or_notify_cancel():
        return
    try:
        result = fn(*args, **kwargs)
    except BaseException as exc:
        future.set_exception(exc)
    else:
        future.set_result(result)
