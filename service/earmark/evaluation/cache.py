"""A bounded cache of verdicts, one per evaluator: storefronts ask about the same products
again and again (the same listing page, the same bestsellers).

The key is what decides a verdict besides the pack: the locale, the validated specs and
shopper in canonical form, and whether words were composed. The pack is the evaluator's
own, so a reload starts with an empty cache and a verdict from an old pack can never be
returned. The product id is not part of the key: a hit is answered under the id asked.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import replace
from typing import Any

from earmark.evaluation.validation import Subject
from earmark.evaluation.verdict import Verdict


class VerdictCache:
    """Least recently used verdicts, at most `entries` of them (0: off)."""

    def __init__(self, entries: int, on_lookup: Callable[[bool], None] | None = None) -> None:
        self.entries = entries
        self._on_lookup = on_lookup  # told of every lookup, hit (True) or miss: the metrics
        self._verdicts: OrderedDict[Hashable, Verdict] = OrderedDict()
        self._lock = threading.Lock()  # the handler threads share it

    def key(self, subject: Subject, words: bool) -> Hashable:
        return (subject.locale, _canonical(subject.specs), _canonical(subject.shopper), words)

    def get(self, key: Hashable, product_id: str) -> Verdict | None:
        with self._lock:
            verdict = self._verdicts.get(key)
            if verdict is not None:
                self._verdicts.move_to_end(key)
        if self._on_lookup is not None:
            self._on_lookup(verdict is not None)
        if verdict is None:
            return None
        return verdict if verdict.product_id == product_id else replace(verdict, product_id=product_id)

    def put(self, key: Hashable, verdict: Verdict) -> None:
        with self._lock:
            self._verdicts[key] = verdict
            self._verdicts.move_to_end(key)
            if len(self._verdicts) > self.entries:
                self._verdicts.popitem(last=False)

    def __len__(self) -> int:
        return len(self._verdicts)


def _canonical(values: dict[str, Any] | None) -> Hashable:
    """A dict of validated attribute values as a hashable, order-free key."""
    if values is None:
        return None
    return tuple(sorted((name, tuple(v) if isinstance(v, list) else v) for name, v in values.items()))
