"""Why a product got its verdict: each score as a waterfall from the pack's default through
every rule that moved it to its raw total, then the one step from that total to the score
shown (the floor, or the soft ceiling's easing), as data and as text for a person."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from earmark.evaluation.verdict import FIT, Verdict
from earmark.rulepack.model import Pack, Rule


def adjustment(total: int, score: int, floor: int, soft_from: int) -> tuple[str, str]:
    """The step from a raw total to the score shown: what made it ("floor", "cap" or "soft
    ceiling") and what it did, in words; ("", "") when there is none."""
    if total == score:
        return "", ""
    if total < floor:
        return "floor", f"raised to the floor of {floor}"
    if soft_from >= 100:
        return "cap", "capped at 100"
    return "soft ceiling", f"eased to {score}: above {soft_from}, each point counts for less"


def _step(made: tuple[str, str]) -> dict[str, str]:
    return {"adjusted_by": made[0], "adjustment": made[1]}


def breakdown(verdict: Verdict, pack: Pack, warnings: Sequence[str] = ()) -> dict[str, Any]:
    """The verdict (from `pack`) with its reasons, and the request's `warnings`, as plain
    data (what `--format json` prints)."""
    soft_from = pack.soft_ceiling_from
    scores = []
    for score in verdict.scores:
        use_case = score.use_case
        steps = _steps(verdict, use_case.id, use_case.default)
        total = steps[-1]["running"] if steps else use_case.default
        scores.append(
            {
                "use_case": use_case.id,
                "title": score.title,
                "default": use_case.default,
                "steps": steps,
                "total": total,
                "clamped_to": [use_case.floor, 100],
                "soft_ceiling_from": soft_from,
                "score": score.value,
                **_step(adjustment(total, score.value, use_case.floor, soft_from)),
                "explanation": score.explanation,
            }
        )
    fit = None
    if verdict.fit is not None:
        steps = _steps(verdict, FIT, verdict.fit.start)
        total = steps[-1]["running"] if steps else verdict.fit.start
        fit = {
            "uses": list(verdict.fit.uses),
            "start": verdict.fit.start,
            "steps": steps,
            "total": total,
            "clamped_to": [0, 100],
            "soft_ceiling_from": soft_from,
            "score": verdict.fit.value,
            **_step(adjustment(total, verdict.fit.value, 0, soft_from)),
            "explanation": verdict.fit.explanation,
        }
    return {
        "product_id": verdict.product_id,
        "ruleset_version": verdict.ruleset_version,
        "warnings": list(warnings),
        "category": {"id": verdict.category, "decided_by": _rule(verdict.category_rule, verdict)},
        "label": {"text": verdict.label, "from": _rule(verdict.label_rule, verdict)},
        "scores": scores,
        "fit": fit,
        "explanation": verdict.explanation,
        "fired": [rule.id for rule in verdict.fired],
    }


def render(data: dict[str, Any]) -> str:
    """The breakdown as text for a terminal."""
    lines = [f"{data['product_id'] or 'product'}: {data['category']['id']} — {data['label']['text']}"]
    decided = data["category"]["decided_by"]
    if decided:
        lines.append(f"  category from {decided['id']} ({decided['location']}): {decided['fragment']}")
    else:
        lines.append("  category: the pack's default (no rule decided)")
    if data["label"]["from"]:
        lines.append(f"  label from {data['label']['from']['id']} ({data['label']['from']['location']})")
    lines.append("")
    for score in data["scores"]:
        lines += _waterfall(score["title"], f"{score['default']:>4}  default", score)
        lines.append(f"        {score['explanation']}")
        lines.append("")
    if data["fit"] is not None:
        fit = data["fit"]
        lines += _waterfall(
            "Fit for this shopper", f"{fit['start']:>4}  mean of {', '.join(fit['uses'])}", fit
        )
        lines.append(f"        {fit['explanation']}")
        lines.append("")
    lines.append(data["explanation"])
    lines.append(f"(ruleset {data['ruleset_version']})")
    lines += [f"warning: {warning}" for warning in data["warnings"]]
    return "\n".join(lines)


def _waterfall(title: str, start: str, part: dict[str, Any]) -> list[str]:
    lines = [f"{title}: {part['score']}", f"  {start}"]
    for step in part["steps"]:
        amount = f"{step['amount']:+d}"
        lines.append(f"  {amount:>4}  {step['rule']:<42} {step['fragment']}")
    step = f", {part['adjustment']}" if part["adjustment"] else ""
    lines.append(f"     = {part['total']}{step}")
    return lines


def _steps(verdict: Verdict, target: str, start: int) -> list[dict[str, Any]]:
    running = start
    steps = []
    for contribution in verdict.contributions(target):
        running += contribution.amount
        steps.append(
            {
                "rule": contribution.rule.id,
                "location": str(contribution.rule.location),
                "amount": contribution.amount,
                "running": running,
                "fragment": contribution.fragment,
            }
        )
    return steps


def _rule(rule: Rule | None, verdict: Verdict) -> dict[str, Any] | None:
    if rule is None:
        return None
    fragment = verdict.fragments.get(rule.id, "")
    return {"id": rule.id, "location": str(rule.location), "priority": rule.priority, "fragment": fragment}
