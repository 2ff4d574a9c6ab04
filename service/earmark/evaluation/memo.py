"""Bounded maps, least recently used out, and hashable keys made from validated values:
what the verdict cache (cache.py) and the composition memo (verdict.py) share.

Both are caches in the standards' sense: bounded, held by one evaluator (so a reload
starts them empty and nothing from an old pack is ever answered), and reported cold
beside warm by `make bench`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any, Generic, TypeVar

Value = TypeVar("Value")


class Bounded(Generic[Value]):
    """At most `entries` values (0: keeps nothing), the least recently used dropped first.
    Shared by the handler threads, hence the lock."""

    def __init__(self, entries: int) -> None:
        self.entries = entries
        self._kept: OrderedDict[Hashable, Value] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Value | None:
        with self._lock:
            value = self._kept.get(key)
            if value is not None:
                self._kept.move_to_end(key)
            return value

    def put(self, key: Hashable, value: Value) -> None:
        if not self.entries:
            return
        with self._lock:
            self._kept[key] = value
            self._kept.move_to_end(key)
            if len(self._kept) > self.entries:
                self._kept.popitem(last=False)

    def __len__(self) -> int:
        return len(self._kept)


def frozen(value: Any) -> Hashable:
    """A validated attribute value as a key. The type is part of it: True, 1 and 1.0 are
    equal to Python but read as "yes", "1" and "1.0" in an explanation."""
    if isinstance(value, list):
        return tuple(frozen(item) for item in value)
    return (value.__class__, value)


def canonical(values: dict[str, Any] | None) -> Hashable:
    """A dict of validated attribute values as a hashable, order-free key."""
    if values is None:
        return None
    return tuple(sorted((name, frozen(v)) for name, v in values.items()))
