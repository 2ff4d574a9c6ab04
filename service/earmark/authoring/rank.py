"""`earmark rank`: a catalog in the pack's order for one use case, best first, so that a
merchandiser sees at a glance whether the order is sensible. Each product comes with its
score, its raw total (which orders products whose shown scores tie), and the rules that
moved it most, each with the words it adds to the explanation."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from earmark.authoring.impact import gap_lines, gap_report, warning_lines
from earmark.evaluation.catalog import CatalogProduct, evaluate_catalog
from earmark.evaluation.evaluator import Evaluator

TOP_REASONS = 3  # the rules that moved a product most, largest first


def rank(evaluator: Evaluator, catalog: Iterable[CatalogProduct], use_case: str) -> dict[str, Any]:
    """Every valid product of `catalog` for `use_case`, best first (shown score, then raw
    total, then id), and the products the pack refused with why."""
    ranked: list[dict[str, Any]] = []
    refused = []
    warned: list[dict[str, Any]] = []
    products = list(catalog)
    for outcome in evaluate_catalog(evaluator, products):
        product, verdict = outcome.product, outcome.verdict
        warned += outcome.as_warned()
        if verdict is None:
            refused.append(outcome.as_refused())
            continue
        score = next(s for s in verdict.scores if s.use_case.id == use_case)
        moves = sorted(verdict.contributions(use_case), key=lambda c: (-abs(c.amount), c.rule.index))
        ranked.append(
            {
                "id": product.id,
                "category": verdict.category,
                "score": score.value,
                "raw": score.raw,
                "reasons": [
                    {"rule": c.rule.id, "amount": c.amount, "fragment": c.fragment}
                    for c in moves[:TOP_REASONS]
                ],
            }
        )
    ranked.sort(key=lambda p: (-p["score"], -p["raw"], p["id"]))
    for place, entry in enumerate(ranked, start=1):
        entry["place"] = place
    return {
        "use_case": use_case,
        "ruleset_version": evaluator.pack.version,
        "products": ranked,
        "refused": refused,
        "warnings": warned,
        "missing_data": gap_report(evaluator.pack, products),
    }


def render(report: dict[str, Any], top: int, bottom: int) -> str:
    """The `top` best and `bottom` worst products as text, and any the pack refused."""
    products = report["products"]
    lines = [
        f"{report['use_case']}: {len(products)} products, best first (ruleset {report['ruleset_version']})"
    ]
    best = products[:top]
    worst = products[max(top, len(products) - bottom) :]
    lines += [_line(product) for product in best]
    skipped = len(products) - len(best) - len(worst)
    if skipped:
        lines.append(f"  … {skipped} more …")
    lines += [_line(product) for product in worst]
    lines += [
        f"  refused: {product['id']} (line {product['line']}): {product['error']}"
        for product in report["refused"]
    ]
    lines += warning_lines(report["warnings"])
    lines += gap_lines(report["missing_data"])
    return "\n".join(lines)


def _line(product: dict[str, Any]) -> str:
    reasons = "; ".join(f"{r['amount']:+d} {r['fragment'] or r['rule']}" for r in product["reasons"])
    return f"  {product['place']:>4}. {product['score']:>3} (raw {product['raw']:>4})  {product['id']:<36} {reasons}"
