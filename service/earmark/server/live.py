"""The live rule pack: the one piece of shared state the server has.

A request takes the live evaluator once (`use`) and keeps it for the whole call, so it
never sees a mix of two packs. A replaced evaluator is retired, and its engine ruleset is
freed when the last request using it finishes: durable_rules leaks about 5 MB per ruleset
deleted while its sessions are alive, and crashes if a ruleset is used after it is freed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from earmark.errors import PackUnavailable, clip
from earmark.evaluation.cache import VerdictCache
from earmark.evaluation.evaluator import Evaluator

MAX_RELOAD_ERROR = 8192  # characters: DescribeRules must stay small whatever a pack holds


@dataclass(frozen=True)
class ReloadStatus:
    """What DescribeRules (and the metrics) report about reloads."""

    last_reload_at: datetime | None = None
    last_reload_error: str = ""
    reloads_succeeded: int = 0
    reloads_failed: int = 0
    watching: bool = False
    watch_problem: str = ""  # why the rules directory is not watched, while it isn't
    watch_stopped_at: datetime | None = None
    contract_changes: tuple[str, ...] = ()  # of the last pack that went live, vs the one before


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
        self._status = ReloadStatus()
        self._new_cache: Callable[[], VerdictCache] | None = None

    def cache_with(self, new_cache: Callable[[], VerdictCache]) -> None:
        """Give the live evaluator, and each one swapped in later, a cache of its own: a
        reload starts empty, so no verdict of an old pack is ever answered."""
        self._new_cache = new_cache
        if self._slot is not None:
            self._slot.evaluator.cache = new_cache()

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
        if self._new_cache is not None:
            evaluator.cache = self._new_cache()
        with self._lock:
            previous, self._slot = self._slot, _Slot(evaluator)
            free = False
            if previous is not None:
                previous.retired = True
                free = previous.in_flight == 0
        if free and previous is not None:
            previous.evaluator.close()

    @property
    def status(self) -> ReloadStatus:
        return self._status

    def record_reload(self, error: str = "", contract_changes: tuple[str, ...] | None = None) -> None:
        """Note a reload attempt: `error` is empty when the new pack went live, and then
        `contract_changes` says how it changed the contract (None: the pack is the same)."""
        with self._lock:
            status = self._status
            self._status = replace(
                status,
                contract_changes=status.contract_changes if contract_changes is None else contract_changes,
                last_reload_at=datetime.now(UTC),
                last_reload_error=clip(error, MAX_RELOAD_ERROR),
                reloads_succeeded=status.reloads_succeeded + (0 if error else 1),
                reloads_failed=status.reloads_failed + (1 if error else 0),
            )

    def record_watch(self, problem: str = "") -> None:
        """Note that the rules directory is watched (`problem` empty) or why it is not."""
        with self._lock:
            status = self._status
            stopped_at = status.watch_stopped_at if status.watch_problem else datetime.now(UTC)
            self._status = replace(
                status,
                watching=not problem,
                watch_problem=clip(problem, MAX_RELOAD_ERROR),
                watch_stopped_at=stopped_at if problem else None,
            )
