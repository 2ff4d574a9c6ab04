"""A catalog evaluated under one pack: each product's verdict, the rules that fired on how
many products, and why a product got no category. What the catalog and rules pages show."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from earmark.evaluation.catalog import CatalogProduct, evaluate_catalog, leaves_out, missing_data
from earmark.evaluation.evaluator import Evaluator
from earmark.evaluation.verdict import Verdict
from earmark.rulepack.analysis import attributes_valued
from earmark.rulepack.model import AllOf, AnyOf, AttributeTest, Condition, Not, Pack


@dataclass(frozen=True)
class Row:
    product: CatalogProduct
    verdict: Verdict | None
    error: str | None  # why the pack refuses the product, when it does
    warnings: tuple[str, ...] = ()  # attributes the pack ignores that look misspelt

    @property
    def id(self) -> str:
        return self.product.id

    def score(self, use_case: str) -> int:
        if self.verdict is None:
            return -1  # refused products sort last
        return next((s.value for s in self.verdict.scores if s.use_case.id == use_case), -1)


class EvaluatedCatalog:
    """Every product of a catalog under one pack, evaluated once."""

    def __init__(self, evaluator: Evaluator, products: Iterable[CatalogProduct]) -> None:
        self.pack = evaluator.pack
        self.rows: list[Row] = []
        self.hits: Counter[str] = Counter()
        # The catalog shows numbers, not sentences: composing none halves the cost of opening
        # a big catalog. A product's own page composes its words.
        for outcome in evaluate_catalog(evaluator, products, words=False):
            self.rows.append(Row(outcome.product, outcome.verdict, outcome.error, outcome.warnings))
            if outcome.verdict is not None:
                self.hits.update({rule.id for rule in outcome.verdict.fired})
        self.by_id = {row.id: row for row in self.rows}
        # Attributes the rules read that products leave out, with how many: where the
        # catalog leaves the pack guessing (unlisted.yaml says what a gap is taken to mean).
        self.gaps = [
            gap for gap in missing_data(self.pack, (row.product for row in self.rows)) if gap.missing
        ]
        self._category_attributes = _attributes_deciding_category(self.pack)
        # Per rule, the products that leave out something it tests by value: for them it
        # can't decide on the data (issue 24: the preview says how many).
        self.undecided = _undecided(self.pack, self.rows)

    def select(self, *, text: str = "", category: str = "", sort: str = "") -> list[Row]:
        """The rows matching `text` (in the id or label) and `category`, best first for the
        use case `sort` names (catalog order otherwise)."""
        words = text.lower().split()
        rows = [
            row
            for row in self.rows
            if (not category or (row.verdict and row.verdict.category == category))
            and all(w in row.id.lower() or (row.verdict and w in row.verdict.label.lower()) for w in words)
        ]
        if sort and sort in {u.id for u in self.pack.use_cases}:
            rows.sort(key=lambda row: (-row.score(sort), row.id))
        return rows

    def unclassified_reason(self, row: Row) -> str | None:
        """Why no rule gave the product a category, in words; None if one did."""
        verdict = row.verdict
        if verdict is None or verdict.category_rule is not None:
            return None
        missing = [name for name in self._category_attributes if name not in row.product.specs]
        if missing:
            return f"no category rule fired; the product does not give {', '.join(missing)}"
        return "no category rule fired on the specs it gives"

    def category_counts(self) -> dict[str, int]:
        counts = Counter(row.verdict.category for row in self.rows if row.verdict)
        return dict(sorted(counts.items()))


def _undecided(pack: Pack, rows: list[Row]) -> dict[str, int]:
    """Per rule that tests values, how many rows leave out one of those attributes. Rows
    are grouped by what they leave out first: a catalog has few such groups, and asking
    each rule of each row made opening 10,000 products take twice as long."""
    valued = {rule.id: names for rule in pack.rules if (names := attributes_valued(rule))}
    tested = sorted(set().union(*valued.values())) if valued else []
    groups = Counter(frozenset(name for name in tested if leaves_out(row.product, name)) for row in rows)
    return {
        rule_id: sum(count for missing, count in groups.items() if not missing.isdisjoint(names))
        for rule_id, names in valued.items()
    }


def _attributes_deciding_category(pack: Pack) -> list[str]:
    """The spec attributes that rules giving a category test, in pack order."""
    names: dict[str, None] = {}
    for rule in pack.rules:
        if rule.category is not None:
            for name in _tested(rule.condition):
                names.setdefault(name, None)
    return list(names)


def _tested(condition: Condition) -> Iterable[str]:
    if isinstance(condition, AttributeTest):
        if condition.attribute.side == "spec":
            yield condition.attribute.name
    elif isinstance(condition, AllOf | AnyOf):
        for child in condition.children:
            yield from _tested(child)
    elif isinstance(condition, Not):
        yield from _tested(condition.child)


def heat(score: int) -> dict[str, Any]:
    """The heat-map colour of a score cell: pale at 0, deep blue at 100."""
    lightness = 97 - round(max(score, 0) * 0.55)
    return {"background": f"hsl(220 70% {lightness}%)", "color": "#fff" if lightness < 62 else "#1d2330"}
