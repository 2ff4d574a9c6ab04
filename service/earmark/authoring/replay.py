"""`earmark replay`: logged decisions re-evaluated under a candidate pack, and what would
change. `earmark diff --catalog` previews a pack on a catalog someone chose; this previews
it on the traffic the service really answered.

Each decision's logged input (the declared attributes, as validated) is evaluated by the
candidate and its category, scores and fit compared with the logged verdict. A decision
whose input was masked can't be reproduced in full: it is still replayed, without the
masked fields, and its fit is left out of the comparison when the shopper was masked.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from earmark.errors import EarmarkError
from earmark.evaluation.evaluator import Evaluator


@dataclass(frozen=True)
class LoggedDecision:
    decision_id: str
    line: int
    product_id: str
    specs: dict[str, Any]
    shopper: dict[str, Any] | None
    locale: str | None
    pack_version: str
    category: str
    scores: dict[str, int]
    fit: int | None
    masked: tuple[str, ...]


def read_decisions(lines: Iterable[str]) -> Iterator[LoggedDecision]:
    """Decisions from a decision log (JSON Lines); blank lines skipped. Raises ValueError
    naming the line of anything that is not a decision."""
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            item = json.loads(text)
            product, verdict = item["input"]["product"], item["verdict"]
            yield LoggedDecision(
                decision_id=str(item["decision_id"]),
                line=number,
                product_id=str(product.get("id", f"line-{number}")),
                specs=dict(product.get("specs") or {}),
                shopper=item["input"].get("shopper"),
                locale=item["input"].get("locale"),
                pack_version=str(item["pack"]["version"]),
                category=str(verdict["category"]),
                scores={str(k): int(v) for k, v in verdict["scores"].items()},
                fit=verdict.get("fit"),
                masked=tuple(item.get("masked") or ()),
            )
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {number}: not JSON ({exc.msg})") from None
        except (KeyError, TypeError, AttributeError, ValueError):
            raise ValueError(
                f"line {number}: not a decision-log line (it needs input, verdict and pack)"
            ) from None


@dataclass(frozen=True)
class Change:
    decision_id: str
    product_id: str
    what: tuple[str, ...]  # "category headset -> headphones", "meetings 54 -> 61", ...

    def as_dict(self) -> dict[str, Any]:
        return {"decision_id": self.decision_id, "product_id": self.product_id, "changes": list(self.what)}


@dataclass
class ReplayReport:
    decisions: int = 0
    unchanged: int = 0
    changed: list[Change] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)  # inputs the candidate refuses
    masked: int = 0  # decisions replayed without some of their input
    logged_under: Counter[str] = field(default_factory=Counter)  # pack versions the log was written by
    by_use_case: Counter[str] = field(default_factory=Counter)  # changed scores per use case

    def as_dict(self) -> dict[str, Any]:
        return {
            "decisions": self.decisions,
            "unchanged": self.unchanged,
            "changed": [c.as_dict() for c in self.changed],
            "refused": self.refused,
            "masked": self.masked,
            "logged_under": dict(self.logged_under),
            "changed_by_use_case": dict(self.by_use_case),
        }


def replay(candidate: Evaluator, decisions: Iterable[LoggedDecision]) -> ReplayReport:
    """Every decision re-evaluated by `candidate`, compared with what was logged."""
    report = ReplayReport()
    for decision in decisions:
        report.decisions += 1
        report.logged_under[decision.pack_version] += 1
        if decision.masked:
            report.masked += 1
        try:
            verdict = candidate.evaluate(
                candidate.subject_for(decision.product_id, decision.specs, decision.shopper, decision.locale),
                words=False,
            )
        except EarmarkError as exc:
            report.refused.append(
                {"decision_id": decision.decision_id, "line": decision.line, "error": exc.message}
            )
            continue
        what = []
        if verdict.category != decision.category:
            what.append(f"category {decision.category} -> {verdict.category}")
        for score in verdict.scores:
            before = decision.scores.get(score.use_case.id)
            if before != score.value:
                what.append(
                    f"{score.use_case.id} {before if before is not None else 'none'} -> {score.value}"
                )
                report.by_use_case[score.use_case.id] += 1
        shopper_masked = any(pointer.startswith("/shopper") for pointer in decision.masked)
        fit = verdict.fit.value if verdict.fit is not None else None
        if fit != decision.fit and not shopper_masked:
            what.append(f"fit {decision.fit} -> {fit}")
        if what:
            report.changed.append(Change(decision.decision_id, decision.product_id, tuple(what)))
        else:
            report.unchanged += 1
    return report


def render(report: ReplayReport, limit: int = 50) -> str:
    """The report for a terminal: totals, then each changed decision (the first `limit`)."""
    versions = ", ".join(f"{v} ({n})" for v, n in report.logged_under.most_common())
    lines = [
        f"replayed {report.decisions} decisions logged under {versions or 'no pack'}:",
        f"  {len(report.changed)} would change, {report.unchanged} would not,"
        f" {len(report.refused)} would be refused",
    ]
    if report.masked:
        lines.append(f"  {report.masked} had masked input, replayed without it (their fit is not compared)")
    if report.by_use_case:
        counts = ", ".join(f"{use_case} {n}" for use_case, n in report.by_use_case.most_common())
        lines.append(f"  scores that change, by use case: {counts}")
    for change in report.changed[:limit]:
        lines.append(f"  {change.decision_id} ({change.product_id}): {'; '.join(change.what)}")
    if len(report.changed) > limit:
        lines.append(f"  ... and {len(report.changed) - limit} more (--format json lists them all)")
    for refused in report.refused[:limit]:
        lines.append(f"  {refused['decision_id']} (line {refused['line']}) refused: {refused['error']}")
    return "\n".join(lines)
