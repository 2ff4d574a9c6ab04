"""The live rule pack: the one piece of shared state the server has. It holds the live
evaluator and nothing else; how packs get here, and what came of each try, belongs to the
reloader (reload.py).

A request takes the live evaluator once (`use`) and keeps it for the whole call, so it
never sees a mix of two packs. A replaced evaluator is retired, and its engine ruleset is
freed when the last request using it finishes: durable_rules leaks about 5 MB per ruleset
deleted while its sessions are alive, and crashes if a ruleset is used after it is freed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from earmark.errors import PackUnavailable
from earmark.evaluation.evaluator import Evaluator


class _Slot:
    """One evaluator and the number of requests using it."""

    __slots__ = ("evaluator", "in_flight", "retired")

    def __init__(self, evaluator: Evaluator) -> None:
        self.evaluator = evaluator
        self.in_flight = 0
        self.retired = False


class LivePack:
    """Holds the evaluator that requests use, and swaps it atomically."""

    def __init__(self, evaluator: Evaluator | None = None) -> None:
        self._lock = threading.Lock()
        self._slot = _Slot(evaluator) if evaluator is not None else None
        self._tune: Callable[[Evaluator], None] | None = None

    def tune_with(self, tune: Callable[[Evaluator], None]) -> None:
        """Apply `tune` to the live evaluator and to each one swapped in later: the server
        gives each its own verdict cache and memo, so a reload starts them empty and no
        verdict of an old pack is ever answered."""
        self._tune = tune
        if self._slot is not None:
            tune(self._slot.evaluator)

    @contextmanager
    def use(self) -> Iterator[Evaluator]:
        """The live evaluator, held for the length of the `with` block."""
        with self._lock:
            slot = self._slot
            if slot is None:
                raise PackUnavailable("no rule pack is loaded yet")
            slot.in_flight += 1
        try:
            yield slot.evaluator
        finally:
            with self._lock:
                slot.in_flight -= 1
                free = slot.retired and slot.in_flight == 0
            if free:
                slot.evaluator.close()

    def current(self) -> Evaluator:
        """The live evaluator, for a quick look (version, vocabulary); evaluate within `use`."""
        slot = self._slot
        if slot is None:
            raise PackUnavailable("no rule pack is loaded yet")
        return slot.evaluator

    def swap(self, evaluator: Evaluator) -> None:
        """Make `evaluator` live. The one it replaces is freed once no request uses it."""
        if self._tune is not None:
            self._tune(evaluator)
        with self._lock:
            previous, self._slot = self._slot, _Slot(evaluator)
            free = False
            if previous is not None:
                previous.retired = True
                free = previous.in_flight == 0
        if free and previous is not None:
            previous.evaluator.close()
