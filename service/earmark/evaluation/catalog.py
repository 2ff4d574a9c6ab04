"""A catalog as the authoring tools read it, and its products evaluated the one way that
`earmark diff`, `earmark rank` and Studio share: each checked as a request is (so a
misspelt attribute is a warning there too), and a product the pack refuses kept with why,
instead of stopping the rest."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from earmark.errors import EarmarkError
from earmark.evaluation.evaluator import Evaluator
from earmark.evaluation.request_notes import RequestNotes
from earmark.evaluation.verdict import Verdict
from earmark.rulepack.analysis import attributes_read
from earmark.rulepack.model import Pack


@dataclass(frozen=True)
class CatalogProduct:
    id: str
    specs: dict[str, Any]
    line: int


def read_catalog(lines: Iterable[str]) -> Iterable[CatalogProduct]:
    """Products from JSON Lines: {"id": ..., "specs": {...}} per line; blank lines skipped.
    Raises ValueError naming the line of anything that is not such an object.

    A decision log (EARMARK_DECISION_LOG) is a catalog too: each line's logged product,
    so that a preview can run on the products real traffic asked about."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {number}: not JSON ({exc.msg})") from None
        if isinstance(item, dict) and "decision_id" in item and isinstance(item.get("input"), dict):
            item = item["input"].get("product")
        if not isinstance(item, dict) or not isinstance(item.get("specs", {}), dict):
            raise ValueError(f'line {number}: expected {{"id": ..., "specs": {{...}}}}')
        yield CatalogProduct(str(item.get("id", f"line-{number}")), item.get("specs", {}), number)


@dataclass(frozen=True)
class Outcome:
    """One product under one pack: its verdict, or why the pack refused it."""

    product: CatalogProduct
    verdict: Verdict | None
    error: str | None
    warnings: tuple[str, ...]  # what the product carried that looks like a mistake

    def as_refused(self) -> dict[str, Any]:
        return {"id": self.product.id, "line": self.product.line, "error": self.error}

    def as_warned(self) -> list[dict[str, Any]]:
        return [{"id": self.product.id, "line": self.product.line, "warning": w} for w in self.warnings]


def evaluate_catalog(
    evaluator: Evaluator, products: Iterable[CatalogProduct], *, words: bool = True
) -> Iterator[Outcome]:
    """Each product's outcome, in catalog order. Without `words`, no explanation is
    composed: the numbers cost half as much."""
    for product in products:
        notes = RequestNotes(evaluator.validator, strict=False)
        try:
            verdict = evaluator.evaluate(
                evaluator.subject_for(product.id, product.specs, notes=notes), words=words
            )
        except EarmarkError as exc:
            yield Outcome(product, None, exc.message, tuple(notes.warnings))
        else:
            yield Outcome(product, verdict, None, tuple(notes.warnings))


@dataclass(frozen=True)
class Gap:
    """One spec attribute the pack's rules read, and how many products leave it out."""

    attribute: str
    missing: int  # products whose listing leaves it out (absent, null or an empty list)
    products: int  # products looked at
    rules: tuple[str, ...]  # the rules that read it, in pack order


def leaves_out(product: CatalogProduct, name: str) -> bool:
    """Whether a listing leaves `name` out: absent, null, an empty list or empty text."""
    return product.specs.get(name) in (None, [], "")


def missing_data(pack: Pack, products: Iterable[CatalogProduct]) -> list[Gap]:
    """For each spec attribute a rule reads, how many of `products` don't list it: where a
    merchandiser's catalog leaves the pack guessing."""
    readers: dict[str, list[str]] = {}
    for rule in pack.rules:
        for name in sorted(attributes_read(rule)):
            readers.setdefault(name, []).append(rule.id)
    missing = dict.fromkeys(readers, 0)
    count = 0
    for product in products:
        count += 1
        for name in readers:
            if leaves_out(product, name):
                missing[name] += 1
    gaps = [Gap(name, missing[name], count, tuple(readers[name])) for name in readers]
    # The attributes most rules read first: a gap there moves the most verdicts.
    return sorted(gaps, key=lambda gap: (-len(gap.rules), -gap.missing, gap.attribute))
