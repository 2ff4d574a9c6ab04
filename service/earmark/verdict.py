"""From the rules that fired to a verdict: category, label, scores, fit and explanations.

Every rule that fired counts. Scores start from the pack's defaults, add the rules'
amounts and are clamped to [floor, 100]. The category and label come from the fired
rule with the highest priority (the earlier rule in the pack wins a tie). Explanations
are the fired rules' `say:` fragments, strongest first, set into the pack's sentence
frames; nothing here knows about audio.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from earmark.rulepack.model import Band, Pack, Rule, Template, UseCase

FIT = "fit"


@dataclass(frozen=True, slots=True)
class Contribution:
    """One rule's signed effect on one use case (or on the fit)."""

    rule: Rule
    target: str  # a use case id, or "fit"
    amount: int
    fragment: str


@dataclass(frozen=True, slots=True)
class Score:
    use_case: UseCase
    start: int
    value: int
    explanation: str
    contributions: tuple[Contribution, ...]


@dataclass(frozen=True, slots=True)
class Fit:
    start: int  # the mean score of the shopper's uses
    value: int
    explanation: str
    contributions: tuple[Contribution, ...]


@dataclass(frozen=True, slots=True)
class Verdict:
    product_id: str
    category: str
    category_rule: Rule | None
    label: str
    label_rule: Rule | None
    scores: tuple[Score, ...]
    explanation: str
    fit: Fit | None
    ruleset_version: str
    fired: tuple[Rule, ...]
    fragments: dict[str, str]  # rule id -> rendered `say:` text


def compose(pack: Pack, product_id: str, specs: dict[str, Any], shopper: dict[str, Any] | None, fired: list[Rule]) -> Verdict:
    """The verdict for one product, given the rules that fired (in pack order)."""
    fragments = {r.id: _render_values(r.say, specs, shopper) for r in fired if r.say is not None}
    category_rule = _strongest(r for r in fired if r.category is not None)
    category = category_rule.category if category_rule else pack.default_category
    assert category is not None
    label_rule = _strongest(r for r in fired if r.label is not None)
    if label_rule is not None and label_rule.label is not None:
        label = _render_values(label_rule.label, specs, shopper)
    else:
        label = pack.categories_by_id[category].title

    per_use_case: dict[str, list[Contribution]] = {u.id: [] for u in pack.use_cases}
    fit_contributions: list[Contribution] = []
    for rule in fired:
        fragment = fragments.get(rule.id, "")
        for use_case, amount in rule.scores:
            per_use_case[use_case].append(Contribution(rule, use_case, amount, fragment))
        if rule.fit:
            fit_contributions.append(Contribution(rule, FIT, rule.fit, fragment))

    wording = pack.wording
    scores = []
    for use_case in pack.use_cases:
        contributions = per_use_case[use_case.id]
        value = _clamp(use_case.default + sum(c.amount for c in contributions), use_case.floor)
        band = _band(wording.score_bands, value)
        opening = _render(band, {"use_case": use_case.phrase})
        text = _sentence(pack, opening, contributions)
        scores.append(Score(use_case, use_case.default, value, text, tuple(contributions)))

    fit = None
    if shopper is not None:
        uses = shopper.get("uses") or [u.id for u in pack.use_cases]
        by_id = {s.use_case.id: s.value for s in scores}
        start = round(sum(by_id[u] for u in uses) / len(uses))
        value = _clamp(start + sum(c.amount for c in fit_contributions), 0)
        opening = _render(_band(wording.fit_bands, value), {})
        fit = Fit(start, value, _sentence(pack, opening, fit_contributions), tuple(fit_contributions))

    reason = fragments.get(category_rule.id, "") if category_rule else ""
    summary = _summary(pack, label, reason or pack.categories_by_id[category].explanation, scores, category_rule)
    return Verdict(product_id, category, category_rule, label, label_rule, tuple(scores), summary, fit, pack.version, tuple(fired), fragments)


def _strongest(rules: Any) -> Rule | None:
    best: Rule | None = None
    for rule in rules:  # in pack order, so ">" keeps the earlier rule on a tie
        if best is None or rule.priority > best.priority:
            best = rule
    return best


def _clamp(value: int, floor: int) -> int:
    return max(floor, min(100, value))


def _band(bands: tuple[Band, ...], value: int) -> Template:
    for band in bands:  # highest start first; the loader ensures the last starts at 0
        if value >= band.start:
            return band.text
    return bands[-1].text


def _sentence(pack: Pack, opening: str, contributions: list[Contribution]) -> str:
    """"<opening>, thanks to <pros>, held back by <cons>." with the strongest reasons first."""
    wording = pack.wording
    pros = _reasons([c for c in contributions if c.amount > 0], wording.max_reasons)
    cons = _reasons([c for c in contributions if c.amount < 0], wording.max_reasons)
    parts = [opening]
    if pros:
        parts.append(_render(wording.pros, {"reasons": _join(pros, wording.conjunction)}))
    if cons:
        parts.append(_render(wording.cons, {"reasons": _join(cons, wording.conjunction)}))
    return ", ".join(parts) + "."


def _reasons(contributions: list[Contribution], limit: int) -> list[str]:
    """Distinct fragments, largest amount first (the earlier rule first on a tie)."""
    ordered = sorted(contributions, key=lambda c: (-abs(c.amount), c.rule.index))
    texts: list[str] = []
    for c in ordered:
        if c.fragment and c.fragment not in texts:
            texts.append(c.fragment)
            if len(texts) == limit:
                break
    return texts


def _summary(pack: Pack, label: str, reason: str, scores: list[Score], category_rule: Rule | None) -> str:
    """The widget paragraph: what it is and why, what it is best for, what stands out.
    Later sentences are dropped if they would pass the pack's length limit."""
    wording = pack.wording
    limit = pack.explanation_limit
    ranked = sorted(scores, key=lambda s: -s.value)  # stable: pack order breaks ties
    best = [s.use_case.phrase for s in ranked[: wording.max_reasons] if s.value >= ranked[0].value - 15]
    totals: dict[str, int] = {}
    fragment_of: dict[str, str] = {}
    for score in scores:
        for c in score.contributions:
            if c.amount > 0 and c.fragment and c.rule is not category_rule:
                totals[c.rule.id] = totals.get(c.rule.id, 0) + c.amount
                fragment_of[c.rule.id] = c.fragment
    strongest = sorted(totals, key=lambda rule_id: -totals[rule_id])
    highlights = list(dict.fromkeys(fragment_of[r] for r in strongest))[: wording.max_reasons]

    sentences = [_capitalise(_render(wording.summary_reason, {"label": label, "reason": reason}))]
    sentences.append(_render(wording.summary_best_for, {"use_cases": _join(best, wording.conjunction)}))
    if highlights:
        sentences.append(_render(wording.summary_highlights, {"reasons": _join(highlights, wording.conjunction)}))
    text = sentences[0]
    if len(text) > limit:
        return text[: limit - 1].rsplit(" ", 1)[0] + "…"
    for sentence in sentences[1:]:
        if len(text) + 1 + len(sentence) <= limit:
            text = f"{text} {sentence}"
    return text


def _join(items: list[str], conjunction: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _render(template: Template, values: dict[str, str]) -> str:
    return "".join(literal + (values.get(name, "") if name else "") for literal, name in template.parts)


def _render_values(template: Template, specs: dict[str, Any], shopper: dict[str, Any] | None) -> str:
    """Fill a rule's text with the product's (or shopper's) attribute values."""
    out = []
    for literal, name in template.parts:
        out.append(literal)
        if name is None:
            continue
        if name.startswith("shopper."):
            value = (shopper or {}).get(name[8:])
        else:
            value = specs.get(name)
        out.append("unknown" if value is None else format_value(value))
    return "".join(out)


def format_value(value: Any) -> str:
    """An attribute value as a shopper reads it: 30 not 30.0, "detachable boom" not
    "detachable_boom", lists joined with commas."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(value, ".2f").rstrip("0").rstrip(".")
    if isinstance(value, list):
        return _join([format_value(v) for v in value], "and")
    return str(value).replace("_", " ")
