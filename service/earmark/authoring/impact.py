"""What a rule change would do to a catalog, before it is published (`earmark diff`).

Every product is evaluated under both packs. The report counts category changes, gives
per use case the mean and largest score shifts with the products that moved most and the
rules behind each move, and counts explanations that changed, and says which attributes
the new pack's rules read that products leave out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from earmark.evaluation.catalog import CatalogProduct, evaluate_catalog, missing_data
from earmark.evaluation.evaluator import Evaluator
from earmark.evaluation.verdict import Verdict
from earmark.evaluation.wording import band_of
from earmark.rulepack.model import Pack

TOP_MOVERS = 5


def compare(old: Evaluator, new: Evaluator, catalog: Iterable[CatalogProduct]) -> dict[str, Any]:
    """The impact report as plain data (what `--format json` prints)."""
    old_ids = [u.id for u in old.pack.use_cases]
    new_ids = [u.id for u in new.pack.use_cases]
    use_cases = [u for u in new_ids if u in old_ids]
    shifts: dict[str, list[Shift]] = {u: [] for u in use_cases}
    # A use case the new pack adds has no shift to show: its scores are shown instead.
    added: dict[str, list[tuple[int, str]]] = {u: [] for u in new_ids if u not in old_ids}
    category_changes = []
    invalid = []
    newly_refused = []  # accepted by the old pack, refused by the new: a breaking change
    explanations_changed = 0
    compared = 0
    warned: list[dict[str, Any]] = []
    products = list(catalog)
    outcomes = zip(evaluate_catalog(old, products), evaluate_catalog(new, products), strict=True)
    for under_old, under_new in outcomes:
        product = under_new.product
        warned += under_new.as_warned()
        if under_old.verdict is None:
            invalid.append(under_old.as_refused())
            continue
        if under_new.verdict is None:
            newly_refused.append(under_new.as_refused())
            continue
        before, after = under_old.verdict, under_new.verdict
        compared += 1
        if before.category != after.category:
            category_changes.append(
                {
                    "id": product.id,
                    "old": before.category,
                    "new": after.category,
                    "old_rule": before.category_rule.id if before.category_rule else None,
                    "new_rule": after.category_rule.id if after.category_rule else None,
                }
            )
        if _texts(before) != _texts(after):
            explanations_changed += 1
        old_scores = {s.use_case.id: s for s in before.scores}
        new_scores = {s.use_case.id: s for s in after.scores}
        for use_case, scores in added.items():
            scores.append((new_scores[use_case].value, product.id))
        for use_case in use_cases:
            was, now = old_scores[use_case], new_scores[use_case]
            shift, raw_shift = now.value - was.value, now.raw - was.raw
            causes = _causes(before, after, use_case) if shift or raw_shift else []
            shifts[use_case].append(Shift(shift, raw_shift, now.value >= 100, product.id, causes))
    return {
        "old_version": old.pack.version,
        "new_version": new.pack.version,
        "products": compared,
        "invalid": invalid,
        "newly_refused": newly_refused,
        "category_changes": category_changes,
        "use_cases": [_summary(use_case, shifts[use_case]) for use_case in use_cases],
        "use_cases_added": list(added),
        "new_use_cases": [_new_use_case(new, use_case, scores) for use_case, scores in added.items()],
        "use_cases_removed": [u for u in old_ids if u not in new_ids],
        "explanations_changed": explanations_changed,
        "warnings": warned,
        "missing_data": gap_report(new.pack, products),
    }


def render(report: dict[str, Any]) -> str:
    lines = [
        f"compared {report['products']} products: {report['old_version']} -> {report['new_version']}",
        f"category changes: {len(report['category_changes'])}",
    ]
    for change in report["category_changes"]:
        lines.append(
            f"  {change['id']}: {change['old']} -> {change['new']} (decided by {change['new_rule'] or 'the default'})"
        )
    lines.append("score shifts:")
    lines.append(f"  {'use case':<15} {'changed':>7} {'mean':>6}  {'largest up':<30} {'largest down':<30}")
    for summary in report["use_cases"]:
        up, down = summary["largest_increase"], summary["largest_decrease"]
        lines.append(
            f"  {summary['use_case']:<15} {summary['changed']:>7} {summary['mean_shift']:>+6.2f}  "
            f"{_extreme(up):<30} {_extreme(down):<30}"
        )
        for mover in summary["top_movers"]:
            lines.append(f"      {mover['shift']:+4d} {mover['id']:<28} {', '.join(mover['rules'])}")
        if summary["hidden_by_clamp"]:
            lines.append(
                f"      the floor or the soft ceiling damped {summary['hidden_by_clamp']} shifts "
                f"({summary['raw_changed']} products moved before it); {summary['at_ceiling']} sit at 100"
            )
    for new_use_case in report["new_use_cases"]:
        bands = ", ".join(f"{band['from']}+ {band['products']}" for band in new_use_case["bands"])
        lines.append(
            f"  {new_use_case['use_case']:<15} new: every verdict gains this score; products by band: {bands}"
        )
        for side in ("best", "worst"):
            shown = ", ".join(f"{p['id']} {p['score']}" for p in new_use_case[side])
            lines.append(f"      {side}: {shown}")
    for use_case in report["use_cases_removed"]:
        lines.append(f"  {use_case:<15} removed: verdicts no longer have this score")
    lines.append(f"explanations changed: {report['explanations_changed']} of {report['products']} products")
    if report["newly_refused"]:
        lines.append(f"refused by the new pack, accepted by the old: {len(report['newly_refused'])} products")
        lines += [f"  line {p['line']} {p['id']}: {p['error']}" for p in report["newly_refused"][:TOP_MOVERS]]
    if report["invalid"]:
        lines.append(f"invalid products (skipped): {len(report['invalid'])}")
        lines += [f"  line {p['line']} {p['id']}: {p['error']}" for p in report["invalid"]]
    lines += warning_lines(report["warnings"])
    lines += gap_lines(report["missing_data"])
    return "\n".join(line.rstrip() for line in lines)


def warning_lines(warnings: list[dict[str, Any]], most: int = TOP_MOVERS) -> list[str]:
    """What the catalog carries that the pack ignores and looks like a mistake."""
    if not warnings:
        return []
    lines = [f"warnings: {len(warnings)} attributes look misspelt and were ignored"]
    lines += [f"  line {w['line']} {w['id']}: {w['warning']}" for w in warnings[:most]]
    if len(warnings) > most:
        lines.append(f"  … and {len(warnings) - most} more (--format json lists them all)")
    return lines


def gap_report(pack: Pack, products: Iterable[CatalogProduct]) -> list[dict[str, Any]]:
    """missing_data as plain data: only the attributes some product leaves out."""
    return [asdict(gap) for gap in missing_data(pack, products) if gap.missing]


def gap_lines(gaps: list[dict[str, Any]]) -> list[str]:
    """Where the catalog leaves the pack guessing: each attribute the rules read, and how
    many products don't list it (unlisted.yaml says what a rule takes a gap to mean)."""
    if not gaps:
        return []
    lines = ["missing data: attributes the rules read that products don't list"]
    for gap in gaps:
        rules = len(gap["rules"])
        lines.append(
            f"  {gap['attribute']:<26} not listed on {gap['missing']:>5} of {gap['products']} products"
            f"  (read by {rules} rule{'s' if rules != 1 else ''})"
        )
    return lines


def _texts(verdict: Verdict) -> tuple[str, ...]:
    return (verdict.explanation, *(s.explanation for s in verdict.scores))


def _causes(before: Verdict, after: Verdict, use_case: str) -> list[str]:
    """The rules whose effect on `use_case` differs between the two verdicts, as
    "rule-id +8" (a rule that now fires, or gives more) or "rule-id -8"."""
    old = _amounts(before, use_case)
    new = _amounts(after, use_case)
    causes = []
    for rule_id in sorted(old.keys() | new.keys()):
        delta = new.get(rule_id, 0) - old.get(rule_id, 0)
        if delta:
            causes.append(f"{rule_id} {delta:+d}")
    return causes


def _amounts(verdict: Verdict, use_case: str) -> dict[str, int]:
    amounts: dict[str, int] = {}
    for contribution in verdict.contributions(use_case):
        amounts[contribution.rule.id] = amounts.get(contribution.rule.id, 0) + contribution.amount
    return amounts


def _new_use_case(new: Evaluator, use_case: str, scores: list[tuple[int, str]]) -> dict[str, Any]:
    """A use case the new pack adds: how many products fall in each of the pack's score
    bands ("Excellent", "Good", ...), and the best and worst products for it."""
    starts = tuple(band.start for band in new.pack.wording.score_bands)  # highest first
    counts = dict.fromkeys(starts, 0)
    for value, _ in scores:
        counts[starts[band_of(starts, value)]] += 1  # the band the widget words it in
    ranked = sorted(scores, key=lambda pair: (-pair[0], pair[1]))
    worst = sorted(scores, key=lambda pair: (pair[0], pair[1]))
    return {
        "use_case": use_case,
        "bands": [{"from": start, "products": counts[start]} for start in starts],
        "best": [{"id": product_id, "score": value} for value, product_id in ranked[:TOP_MOVERS]],
        "worst": [{"id": product_id, "score": value} for value, product_id in worst[:TOP_MOVERS]],
    }


@dataclass(frozen=True)
class Shift:
    """How one product's score for one use case moved: as shown, and as raw totals (before
    the floor and the soft ceiling)."""

    shown: int
    raw: int
    at_ceiling: bool  # under the new pack, it shows 100
    product_id: str
    causes: list[str]


def _summary(use_case: str, shifts: list[Shift]) -> dict[str, Any]:
    moved = [s for s in shifts if s.shown]
    ranked = sorted(moved, key=lambda s: (-abs(s.shown), s.product_id))
    up = max(moved, default=None, key=lambda s: s.shown)
    down = min(moved, default=None, key=lambda s: s.shown)
    return {
        "use_case": use_case,
        "changed": len(moved),
        "mean_shift": round(sum(s.shown for s in shifts) / len(shifts), 2) if shifts else 0.0,
        "largest_increase": {"id": up.product_id, "shift": up.shown} if up and up.shown > 0 else None,
        "largest_decrease": {"id": down.product_id, "shift": down.shown} if down and down.shown < 0 else None,
        "top_movers": [
            {"id": s.product_id, "shift": s.shown, "rules": s.causes} for s in ranked[:TOP_MOVERS]
        ],
        # Near 100 a bonus moves the shown score by less than its points (the soft ceiling).
        "raw_changed": sum(1 for s in shifts if s.raw),
        "mean_raw_shift": round(sum(s.raw for s in shifts) / len(shifts), 2) if shifts else 0.0,
        "hidden_by_clamp": sum(1 for s in shifts if s.raw != s.shown),
        "at_ceiling": sum(1 for s in shifts if s.at_ceiling),
        # How many products moved by how much, as shown and as raw totals (charts).
        "histogram": {
            "shown": _counts(s.shown for s in shifts if s.shown),
            "raw": _counts(s.raw for s in shifts if s.raw),
        },
    }


def _counts(values: Iterable[int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items()))


def _extreme(entry: dict[str, Any] | None) -> str:
    return f"{entry['shift']:+d} {entry['id']}" if entry else "-"
