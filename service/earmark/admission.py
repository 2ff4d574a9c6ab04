"""Admission: at most EARMARK_MAX_CONCURRENT_RPCS calls held at once, running or waiting
for a handler thread; a call past that is refused at once with RESOURCE_EXHAUSTED.

Why not grpcio's own `maximum_concurrent_rpcs`: it refuses with a fixed text that can't
name the setting, and before any interceptor, so refusals never reached the metrics or the
log. Instead, grpcio hands every admitted call to this executor, which counts the calls it
holds; a done-callback releases each one however the call ends (even cancelled before it
ran). The interceptor, which grpcio runs just before that hand-over, checks `full()` and
turns a call past the limit into a refusal. Refusals run on a thread of their own, so they
are answered at once instead of queueing behind the work they were refused to protect.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent import futures
from typing import Any

_REFUSAL = "_earmark_refusal"


def mark_refusal(behaviour: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a call's behaviour as a refusal, for the executor to run apart."""
    setattr(behaviour, _REFUSAL, True)
    return behaviour


class AdmissionExecutor(futures.Executor):
    """The server's thread pool, counting the calls it holds."""

    def __init__(self, threads: int, limit: int) -> None:
        self.limit = limit
        self._work = futures.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="rpc")
        self._refusals = futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="refusal")
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
        future = self._work.submit(fn, *args, **kwargs)
        future.add_done_callback(self._release)
        return future

    def _release(self, _future: futures.Future[Any]) -> None:
        with self._lock:
            self._held -= 1

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._work.shutdown(wait, cancel_futures=cancel_futures)
        self._refusals.shutdown(wait, cancel_futures=cancel_futures)
