"""A bounded cache of verdicts, one per evaluator: storefronts ask about the same products
again and again (the same listing page, the same bestsellers).

The key is what decides a verdict besides the pack: the locale, the validated specs and
shopper in canonical form, and whether words were composed. The pack is the evaluator's
own, so a reload starts with an empty cache and a verdict from an old pack can never be
returned. The product id is not part of the key: a hit is answered under the id asked.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from earmark.evaluation.memo import Bounded, canonical
from earmark.evaluation.validation import Subject
from earmark.evaluation.verdict import Verdict


class VerdictCache:
    """Least recently used verdicts, at most `entries` of them (0: off)."""

    def __init__(self, entries: int, on_lookup: Callable[[bool], None] | None = None) -> None:
        self.entries = entries
        self._on_lookup = on_lookup  # told of every lookup, hit (True) or miss: the metrics
        self._verdicts: Bounded[Verdict] = Bounded(entries)

    def key(self, subject: Subject, words: bool) -> Hashable:
        return (subject.locale, canonical(subject.specs), canonical(subject.shopper), words)

    def get(self, key: Hashable, product_id: str) -> Verdict | None:
        verdict = self._verdicts.get(key)
        if self._on_lookup is not None:
            self._on_lookup(verdict is not None)
        if verdict is None:
            return None
        return verdict if verdict.product_id == product_id else verdict.for_product(product_id)

    def put(self, key: Hashable, verdict: Verdict) -> None:
        self._verdicts.put(key, verdict)

    def __len__(self) -> int:
        return len(self._verdicts)
