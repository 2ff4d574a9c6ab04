"""Wording: how a verdict reads. The pack's sentence frames in one locale, prepared once,
and the values of a product as a shopper reads them.

A score's sentence is "<band opening>, thanks to <pros>, held back by <cons>."; the
summary is what the product is and why, what it is best for, and what stands out. Nothing
here decides a score; verdict.py hands over the reasons, strongest first.
"""

from __future__ import annotations

from typing import Any

from earmark.rulepack.model import Pack, Template

_HOLE = "\x00"  # stands in for {reasons} when a frame is split into before/after
BEST_FOR_MARGIN = 15  # use cases within this many points of the top one are "best for"

# -|amount|, rule index, amount, and the spec attributes the fragment names
SortKey = tuple[int, int, int, tuple[str, ...]]
Reason = tuple[SortKey, str]  # (sort key, fragment)


class Sentences:
    """The sentences of one pack in one locale."""

    def __init__(self, pack: Pack, locale: str) -> None:
        wording = pack.wording
        self.conjunction = wording.conjunction.text(locale)
        self.use_case_titles = tuple(u.title.text(locale) for u in pack.use_cases)
        self._phrases = {u.id: u.phrase.text(locale) for u in pack.use_cases}
        self._score_starts = tuple(b.start for b in wording.score_bands)
        self._openings = tuple(
            tuple(render(b.text.get(locale), {"use_case": phrase}) for b in wording.score_bands)
            for phrase in self._phrases.values()
        )
        self._fit_starts = tuple(b.start for b in wording.fit_bands)
        self._fit_openings = tuple(render(b.text.get(locale), {}) for b in wording.fit_bands)
        self._pros = _split(wording.pros.get(locale))
        self._cons = _split(wording.cons.get(locale))
        self._summary_reason = wording.summary_reason.get(locale)
        self._summary_best_for = wording.summary_best_for.get(locale)
        self._summary_highlights = wording.summary_highlights.get(locale)
        self._max_reasons = wording.max_reasons
        self._limit = pack.explanation_limit
        self.category_titles = {c.id: c.title.text(locale) for c in pack.categories}
        self.category_explanations = {c.id: c.explanation.text(locale) for c in pack.categories}

    def scores(self, values: list[int], reasons: list[list[Reason]]) -> list[str]:
        """The sentence for each use case, in pack order, given its score and reasons (one
        call per verdict: this runs for every product)."""
        starts, sentence = self._score_starts, self._sentence
        lowest = len(starts) - 1
        sentences = []
        for openings, value, why in zip(self._openings, values, reasons, strict=True):
            band = band_of(starts, value)
            sentences.append(sentence(openings[band], why, band != lowest))
        return sentences

    def fit(self, value: int, reasons: list[Reason]) -> str:
        band = band_of(self._fit_starts, value)
        return self._sentence(self._fit_openings[band], reasons, band != len(self._fit_starts) - 1)

    def _sentence(self, opening: str, reasons: list[Reason], with_pros: bool = True) -> str:
        """The opening, then the strongest reasons (largest amount; the earlier rule on a
        tie), at most max_reasons of each side.

        One reason per attribute: "a 207 g build and a light 207 g build" says one thing
        twice, and "thanks to a 380 g build, held back by a heavy 380 g build" says two
        opposite things, so a reason naming an attribute an earlier (stronger) one named
        is left out. In the lowest band ("Not made for ...") only what holds the score
        back is said: nothing is made for a use "thanks to" anything."""
        if not reasons:
            return opening + "."
        if len(reasons) > 1:
            reasons.sort()
        pros: list[str] = []
        cons: list[str] = []
        named: set[str] = set()
        limit = self._max_reasons
        for key, fragment in reasons:
            positive = key[2] > 0
            if positive and not with_pros:
                continue
            kept = pros if positive else cons
            topic = key[3]
            if len(kept) < limit and fragment not in kept and named.isdisjoint(topic):
                kept.append(fragment)
                named.update(topic)
        text = opening
        if pros:
            text += ", " + self._pros[0] + join(pros, self.conjunction) + self._pros[1]
        if cons:
            text += ", " + self._cons[0] + join(cons, self.conjunction) + self._cons[1]
        return text + "."

    def summary(
        self, label: str, reason: str, ranked: list[tuple[str, int]], highlight_weight: dict[str, int]
    ) -> str:
        """The widget paragraph. `ranked` is (use case id, score), best first, pack order
        breaking ties. Later sentences are dropped if they would pass the length limit."""
        limit = self._limit
        most = self._max_reasons
        top = ranked[0][1]
        best = [
            self._phrases[use_case] for use_case, value in ranked[:most] if value >= top - BEST_FOR_MARGIN
        ]
        highlights = sorted(highlight_weight, key=highlight_weight.__getitem__, reverse=True)[:most]

        text = _capitalise(render(self._summary_reason, {"label": label, "reason": reason}))
        if len(text) > limit:
            return text[: limit - 1].rsplit(" ", 1)[0] + "…"
        extra = [render(self._summary_best_for, {"use_cases": join(best, self.conjunction)})]
        if highlights:
            extra.append(render(self._summary_highlights, {"reasons": join(highlights, self.conjunction)}))
        for sentence in extra:
            if len(text) + 1 + len(sentence) <= limit:
                text = f"{text} {sentence}"
        return text


def band_of(starts: tuple[int, ...], value: int) -> int:
    for i, start in enumerate(starts):  # highest first; the loader ensures the last is 0
        if value >= start:
            return i
    return len(starts) - 1


def _split(template: Template) -> tuple[str, str]:
    """A {reasons} frame as the text before and after the hole."""
    before, _, after = render(template, {"reasons": _HOLE}).partition(_HOLE)
    return before, after


def join(items: list[str], conjunction: str) -> str:
    """ "a, b and c" """
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def render(template: Template, values: dict[str, str]) -> str:
    """Fill a template whose values are already text."""
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
        return join([format_value(v, conjunction) for v in value], conjunction)
    return str(value).replace("_", " ")
