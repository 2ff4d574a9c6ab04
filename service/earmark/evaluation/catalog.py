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


@dataclass(frozen=True)
class CatalogProduct:
    id: str
    specs: dict[str, Any]
    line: int


def read_catalog(lines: Iterable[str]) -> Iterable[CatalogProduct]:
    """Products from JSON Lines: {"id": ..., "specs": {...}} per line; blank lines skipped.
    Raises ValueError naming the line of anything that is not such an object."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {number}: not JSON ({exc.msg})") from None
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
