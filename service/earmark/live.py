"""The live rule pack: the one piece of shared state the server has."""

from __future__ import annotations

import threading

from earmark.errors import PackUnavailable
from earmark.evaluation import Evaluator


class LivePack:
    """Holds the evaluator that requests use. A request takes it once and uses that one
    throughout, so it never sees a mix of two packs."""

    def __init__(self, evaluator: Evaluator | None = None) -> None:
        self._lock = threading.Lock()
        self._evaluator = evaluator

    def current(self) -> Evaluator:
        evaluator = self._evaluator  # one read of one reference: atomic under the GIL
        if evaluator is None:
            raise PackUnavailable("no rule pack is loaded yet")
        return evaluator

    def swap(self, evaluator: Evaluator) -> Evaluator | None:
        """Make `evaluator` live; returns the one it replaced."""
        with self._lock:
            previous, self._evaluator = self._evaluator, evaluator
            return previous
