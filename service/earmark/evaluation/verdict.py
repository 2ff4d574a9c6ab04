"""From the rules that fired to a verdict: category, label, scores, fit and explanations.

Every rule that fired counts. Scores start from the pack's defaults, add the rules'
amounts and are clamped to [floor, 100]. The category and label come from the fired
rule with the highest priority (the earlier rule in the pack wins a tie). Explanations
are the fired rules' `say:` fragments, strongest first, set into the pack's sentence
frames; nothing here knows about audio.

Everything that depends on the pack alone (band openings per use case, fragments without
placeholders, the split sentence frames) is prepared once in Composer, so a request only
adds, sorts a few reasons and joins strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from earmark.rulepack.model import Pack, Rule, Template, UseCase

FIT = "fit"
_HOLE = "\x00"  # stands in for {reasons} when a frame is split into before/after


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
    title: str  # in the verdict's locale
    value: int
    explanation: str


@dataclass(frozen=True, slots=True)
class Fit:
    start: int  # the mean score of the shopper's uses
    value: int
    explanation: str


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

    def contributions(self, target: str) -> list[Contribution]:
        """What each fired rule added to `target` (a use case id or "fit"), in pack order.
        Derived on demand: only traces and explanations need it, not the request path."""
        found = []
        for rule in self.fired:
            fragment = self.fragments.get(rule.id, "")
            if target == FIT:
                if rule.fit:
                    found.append(Contribution(rule, FIT, rule.fit, fragment))
                continue
            for use_case, amount in rule.scores:
                if use_case == target:
                    found.append(Contribution(rule, use_case, amount, fragment))
        return found


class Composer:
    """Composes verdicts for one pack in one locale."""

    def __init__(self, pack: Pack, locale: str) -> None:
        self.pack = pack
        self.locale = locale
        wording = pack.wording
        self._use_cases = pack.use_cases
        self._titles = tuple(u.title.text(locale) for u in pack.use_cases)
        self._phrases = tuple(u.phrase.text(locale) for u in pack.use_cases)
        self._index = {u.id: i for i, u in enumerate(pack.use_cases)}
        self._score_starts = tuple(b.start for b in wording.score_bands)
        self._openings = tuple(
            tuple(_render(b.text.get(locale), {"use_case": phrase}) for b in wording.score_bands)
            for phrase in self._phrases
        )
        self._fit_starts = tuple(b.start for b in wording.fit_bands)
        self._fit_openings = tuple(_render(b.text.get(locale), {}) for b in wording.fit_bands)
        self._pros = _split(wording.pros.get(locale))
        self._cons = _split(wording.cons.get(locale))
        self._summary_reason = wording.summary_reason.get(locale)
        self._summary_best_for = wording.summary_best_for.get(locale)
        self._summary_highlights = wording.summary_highlights.get(locale)
        self._max_reasons = wording.max_reasons
        self._conjunction = wording.conjunction.text(locale)
        self._category_titles = {c.id: c.title.text(locale) for c in pack.categories}
        self._category_explanations = {c.id: c.explanation.text(locale) for c in pack.categories}
        # Per rule: (use case position, amount, sort key) with the key (-|amount|, rule index)
        # prepared here so the request path only pairs it with the rendered fragment.
        self._effects = {
            r.index: tuple((self._index[u], a, (-abs(a), r.index, a)) for u, a in r.scores)
            for r in pack.rules
        }
        self._static_fragments = {
            r.index: r.say.text(locale) for r in pack.rules if r.say and not r.say.get(locale).placeholders
        }

    def compose(
        self, product_id: str, specs: dict[str, Any], shopper: dict[str, Any] | None, fired: list[Rule]
    ) -> Verdict:
        """The verdict for one product, given the rules that fired (in pack order)."""
        pack = self.pack
        locale = self.locale
        static = self._static_fragments
        fragments = {}
        for rule in fired:
            if rule.say is not None:
                fragment = static.get(rule.index)
                if fragment is None:
                    fragment = render_values(rule.say.get(locale), specs, shopper, self._conjunction)
                fragments[rule.id] = fragment

        category_rule = _strongest(r for r in fired if r.category is not None)
        category = (
            category_rule.category if category_rule and category_rule.category else pack.default_category
        )
        label_rule = _strongest(r for r in fired if r.label is not None)
        if label_rule is not None and label_rule.label is not None:
            label = render_values(label_rule.label.get(locale), specs, shopper, self._conjunction)
        else:
            label = self._category_titles[category]

        # One pass over the fired rules: totals per use case, the reasons behind each, the
        # fit's reasons, and each rule's positive weight for the summary's highlights.
        totals = [u.default for u in self._use_cases]
        reasons: list[list[tuple[tuple[int, int, int], str]]] = [[] for _ in totals]
        fit_reasons: list[tuple[tuple[int, int, int], str]] = []
        fit_total = 0
        highlight_weight: dict[str, int] = {}
        for rule in fired:
            fragment = fragments.get(rule.id, "")
            for use_case, amount, key in self._effects[rule.index]:
                totals[use_case] += amount
                if fragment:
                    reasons[use_case].append((key, fragment))
                    if amount > 0 and rule is not category_rule:
                        highlight_weight[fragment] = highlight_weight.get(fragment, 0) + amount
            if rule.fit:
                fit_total += rule.fit
                if fragment:
                    fit_reasons.append(((-abs(rule.fit), rule.index, rule.fit), fragment))

        scores = []
        for i, use_case in enumerate(self._use_cases):
            value = max(use_case.floor, min(100, totals[i]))
            opening = self._openings[i][_band(self._score_starts, value)]
            scores.append(Score(use_case, self._titles[i], value, self._sentence(opening, reasons[i])))

        fit = None
        if shopper is not None:
            uses = shopper.get("uses")
            if uses:
                start = round(sum(scores[self._index[u]].value for u in uses) / len(uses))
            else:
                start = round(sum(s.value for s in scores) / len(scores))
            value = max(0, min(100, start + fit_total))
            opening = self._fit_openings[_band(self._fit_starts, value)]
            fit = Fit(start, value, self._sentence(opening, fit_reasons))

        reason = fragments.get(category_rule.id, "") if category_rule else ""
        summary = self._summary(
            label, reason or self._category_explanations[category], scores, highlight_weight
        )
        return Verdict(
            product_id,
            category,
            category_rule,
            label,
            label_rule,
            tuple(scores),
            summary,
            fit,
            pack.version,
            tuple(fired),
            fragments,
        )

    def _sentence(self, opening: str, reasons: list[tuple[tuple[int, int, int], str]]) -> str:
        """ "<opening>, thanks to <pros>, held back by <cons>." with the strongest reasons
        first (largest amount; the earlier rule on a tie)."""
        if not reasons:
            return opening + "."
        if len(reasons) > 1:
            reasons.sort()
        pros: list[str] = []
        cons: list[str] = []
        limit = self._max_reasons
        for key, fragment in reasons:
            kept = pros if key[2] > 0 else cons
            if len(kept) < limit and fragment not in kept:
                kept.append(fragment)
        text = opening
        if pros:
            text += ", " + self._pros[0] + _join(pros, self._conjunction) + self._pros[1]
        if cons:
            text += ", " + self._cons[0] + _join(cons, self._conjunction) + self._cons[1]
        return text + "."

    def _summary(self, label: str, reason: str, scores: list[Score], highlight_weight: dict[str, int]) -> str:
        """The widget paragraph: what it is and why, what it is best for, what stands out.
        Later sentences are dropped if they would pass the pack's length limit."""
        limit = self.pack.explanation_limit
        most = self._max_reasons
        ranked = sorted(scores, key=_score_value, reverse=True)  # stable: pack order breaks ties
        top = ranked[0].value
        best = [self._phrases[self._index[s.use_case.id]] for s in ranked[:most] if s.value >= top - 15]
        highlights = sorted(highlight_weight, key=highlight_weight.__getitem__, reverse=True)[:most]

        text = _capitalise(_render(self._summary_reason, {"label": label, "reason": reason}))
        if len(text) > limit:
            return text[: limit - 1].rsplit(" ", 1)[0] + "…"
        extra = [_render(self._summary_best_for, {"use_cases": _join(best, self._conjunction)})]
        if highlights:
            extra.append(_render(self._summary_highlights, {"reasons": _join(highlights, self._conjunction)}))
        for sentence in extra:
            if len(text) + 1 + len(sentence) <= limit:
                text = f"{text} {sentence}"
        return text


def _score_value(score: Score) -> int:
    return score.value


def _strongest(rules: Any) -> Rule | None:
    best: Rule | None = None
    for rule in rules:  # in pack order, so ">" keeps the earlier rule on a tie
        if best is None or rule.priority > best.priority:
            best = rule
    return best


def _band(starts: tuple[int, ...], value: int) -> int:
    for i, start in enumerate(starts):  # highest first; the loader ensures the last is 0
        if value >= start:
            return i
    return len(starts) - 1


def _split(template: Template) -> tuple[str, str]:
    """A {reasons} frame as the text before and after the hole."""
    before, _, after = _render(template, {"reasons": _HOLE}).partition(_HOLE)
    return before, after


def _join(items: list[str], conjunction: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _render(template: Template, values: dict[str, str]) -> str:
    return "".join(literal + (values.get(name, "") if name else "") for literal, name in template.parts)


def render_values(
    template: Template, specs: dict[str, Any], shopper: dict[str, Any] | None, conjunction: str = "and"
) -> str:
    """Fill a rule's text with the product's (or shopper's) attribute values."""
    out = []
    for literal, name in template.parts:
        out.append(literal)
        if name is None:
            continue
        value = (shopper or {}).get(name[8:]) if name.startswith("shopper.") else specs.get(name)
        out.append("unknown" if value is None else format_value(value, conjunction))
    return "".join(out)


def format_value(value: Any, conjunction: str = "and") -> str:
    """An attribute value as a shopper reads it: 30 not 30.0, "detachable boom" not
    "detachable_boom", lists joined with commas."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(value, ".2f").rstrip("0").rstrip(".")
    if isinstance(value, list):
        return _join([format_value(v, conjunction) for v in value], conjunction)
    return str(value).replace("_", " ")
