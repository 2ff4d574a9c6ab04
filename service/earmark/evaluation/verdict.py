"""From the rules that fired to a verdict: category, label, scores and fit.

Every rule that fired counts. Scores start from the pack's defaults and add the rules'
amounts (a `graded:` rule's scaled to the product); `shown_score` turns that raw total
into the score a shopper sees: never below the use case's floor, and above the pack's
soft ceiling approaching 100 with diminishing returns instead of piling up at a clamp.
The category and label come from the fired rule with the highest priority (the earlier
rule in the pack wins a tie). The reasons behind each score are the fired rules' `say:`
fragments, handed to wording.py strongest first; nothing here knows about audio.

What a rule does to the scores is read in one place, `effects`: the composer, the trace,
`earmark explain` and `earmark diff` all walk a rule's effects through it.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from earmark.config import DEFAULT_MEMO_ENTRIES
from earmark.evaluation.memo import Bounded, canonical
from earmark.evaluation.wording import Reason, Sentences, SortKey, render_values
from earmark.rulepack.model import Pack, Rule, UseCase

FIT = "fit"


def shown_score(raw: int, floor: int, soft_from: int) -> int:
    """The score as shown for a raw total. Up to `soft_from` the raw total counts in full.
    Above it, the distance left to 100 shrinks exponentially, with the curve's slope 1
    where it starts: a point counts in proportion to that distance (with soft_from 90, as
    the bundled pack has it: a full point at 90, half a point once the score shows 95).
    So strong products with different totals stay apart instead of tying at a clamp;
    soft_from 100 is the plain clamp."""
    if raw <= soft_from:
        return max(floor, raw)
    gap = 100 - soft_from
    if gap == 0:
        return 100
    return min(100, round(100 - gap * math.exp((soft_from - raw) / gap)))


def effects(rule: Rule) -> tuple[tuple[str, int], ...]:
    """What `rule` adds when it fires: (use case id or "fit", signed amount), in pack order.
    For a graded rule these are the full amounts; `graded_effects` gives a product's."""
    return (*rule.scores, (FIT, rule.fit)) if rule.fit else rule.scores


def graded_amount(amount: int, share: float) -> int:
    """A graded rule's amount for a product that gets `share` of it, rounded half away from
    zero (2.5 -> 3, as an author rounds), so that explanations add up in whole points."""
    return int(math.copysign(math.floor(abs(amount) * share + 0.5), amount))


def graded_effects(rule: Rule, share: float) -> tuple[tuple[str, int], ...]:
    """What a graded rule adds for a product that gets `share` of its amounts (none that
    round to 0)."""
    scaled = ((target, graded_amount(amount, share)) for target, amount in effects(rule))
    return tuple((target, amount) for target, amount in scaled if amount)


@dataclass(frozen=True, slots=True)
class Contribution:
    """One rule's signed effect on one use case (or on the fit)."""

    rule: Rule
    target: str  # a use case id, or "fit": read by the trace (RuleHit.use_case)
    amount: int
    fragment: str


@dataclass(frozen=True, slots=True)
class Score:
    use_case: UseCase
    title: str  # in the verdict's locale
    value: int
    explanation: str
    raw: int  # the default plus every effect, before shown_score


@dataclass(frozen=True, slots=True)
class Fit:
    start: int  # the mean score of `uses`
    value: int
    explanation: str
    uses: tuple[str, ...]  # the shopper's uses, or every use case when none were given


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
    shares: dict[str, float] = field(default_factory=dict)  # graded rule id -> its share

    def for_product(self, product_id: str) -> Verdict:
        """The same verdict under another product's id (what a cache or memo hit answers).
        Spelled out, it takes half of what dataclasses.replace does (2.6 µs against 5.1,
        measured here), on a path where a whole memo hit costs about 4."""
        return Verdict(
            product_id,
            self.category,
            self.category_rule,
            self.label,
            self.label_rule,
            self.scores,
            self.explanation,
            self.fit,
            self.ruleset_version,
            self.fired,
            self.fragments,
            self.shares,
        )

    def contributions(self, target: str | None = None) -> list[Contribution]:
        """What each fired rule added, in pack order: to `target` (a use case id or "fit"),
        or to everything. Derived on demand: only traces and explanations need it."""
        found = []
        for rule in self.fired:
            fragment = self.fragments.get(rule.id, "")
            share = self.shares.get(rule.id)
            for use_case, amount in effects(rule) if share is None else graded_effects(rule, share):
                if target is None or use_case == target:
                    found.append(Contribution(rule, use_case, amount, fragment))
        return found


class Composer:
    """Composes verdicts for one pack in one locale.

    A verdict is decided by the rules that fired, the spec values their words, labels and
    grades read, the shopper, and whether words were asked for; nothing else of the
    product. Catalogs repeat those far more than they repeat products (200 keys in 10,000
    new products, measured), so composed verdicts are kept, bounded, in a memo under that
    key, and a hit costs a lookup instead of a composition."""

    def __init__(self, pack: Pack, locale: str, memo_entries: int = DEFAULT_MEMO_ENTRIES) -> None:
        self.pack = pack
        self.locale = locale
        self.sentences = Sentences(pack, locale)
        self._use_cases = pack.use_cases
        self._index = {u.id: i for i, u in enumerate(pack.use_cases)}
        # Per rule, from effects(): its score effects as (use case position, amount, sort
        # key), the key (-|amount|, rule index, amount) prepared here so that the request
        # path only pairs it with the rendered fragment; and its fit effect with its key.
        # The key ends with the spec attributes the rule's words name, so that a sentence
        # gives one reason per attribute (wording.py).
        self._effects: dict[int, tuple[tuple[int, int, SortKey], ...]] = {}
        self._fit_effects: dict[int, tuple[int, SortKey]] = {}
        self._named = {r.index: _named_specs(r, locale) for r in pack.rules}
        for r in pack.rules:
            if r.graded is None:  # a graded rule's amounts depend on the product
                self._effects[r.index], fit_effect = self._prepare(effects(r), r.index)
                if fit_effect is not None:
                    self._fit_effects[r.index] = fit_effect
        self._static_fragments = {
            r.index: r.say.text(locale) for r in pack.rules if r.say and not r.say.get(locale).placeholders
        }
        self._reads = {id(r): _spec_reads(r, locale) for r in pack.rules}
        self.memo: Bounded[Verdict] = Bounded(memo_entries)

    def _prepare(
        self, rule_effects: tuple[tuple[str, int], ...], index: int
    ) -> tuple[tuple[tuple[int, int, SortKey], ...], tuple[int, SortKey] | None]:
        """A rule's effects as (use case position, amount, sort key), and its fit effect."""
        prepared = []
        fit_effect = None
        named = self._named[index]
        for target, amount in rule_effects:
            key = (-abs(amount), index, amount, named)
            if target == FIT:
                fit_effect = (amount, key)
            else:
                prepared.append((self._index[target], amount, key))
        return tuple(prepared), fit_effect

    def compose(
        self,
        product_id: str,
        specs: dict[str, Any],
        shopper: dict[str, Any] | None,
        fired: list[Rule],
        *,
        words: bool = True,
    ) -> Verdict:
        """The verdict for one product, given the rules that fired (in pack order). Without
        `words`, no fragment or sentence is composed (the explanations are empty): most of
        a verdict's cost, which a caller asking only for numbers need not pay."""
        if not self.memo.entries:
            return self._compose(product_id, specs, shopper, fired, words)
        key = self._memo_key(specs, shopper, fired, words)
        verdict = self.memo.get(key)
        if verdict is None:
            verdict = self._compose(product_id, specs, shopper, fired, words)
            self.memo.put(key, verdict)
        elif verdict.product_id != product_id:
            verdict = verdict.for_product(product_id)
        return verdict

    def _memo_key(
        self, specs: dict[str, Any], shopper: dict[str, Any] | None, fired: list[Rule], words: bool
    ) -> Hashable:
        """One flat tuple, built on every call, so kept cheap: each fired rule's identity
        (not its index, so that a rule made up elsewhere, a test's, never meets the pack's;
        the verdict kept under the key holds the rule, so its id is never reused meanwhile)
        followed by the spec values it reads. Validated specs need no type in the key:
        numbers come normalised (an integral float is an int) and an attribute's values
        have one type, so 1, 1.0 and True never meet under one name."""
        reads = self._reads
        key: list[Any] = [words, None if shopper is None else canonical(shopper)]
        for rule in fired:
            key.append(id(rule))
            names = reads.get(id(rule))
            if names is None:
                names = _spec_reads(rule, self.locale)
            for name in names:
                value = specs.get(name)
                key.append(tuple(value) if value.__class__ is list else value)
        return tuple(key)

    def _compose(
        self,
        product_id: str,
        specs: dict[str, Any],
        shopper: dict[str, Any] | None,
        fired: list[Rule],
        words: bool,
    ) -> Verdict:
        pack = self.pack
        locale = self.locale
        sentences = self.sentences
        conjunction = sentences.conjunction
        static = self._static_fragments
        fragments = {}
        for rule in fired if words else ():
            if rule.say is not None:
                fragment = static.get(rule.index)
                if fragment is None:
                    fragment = render_values(rule.say.get(locale), specs, shopper, conjunction)
                fragments[rule.id] = fragment

        category_rule = _strongest(r for r in fired if r.category is not None)
        category = (
            category_rule.category if category_rule and category_rule.category else pack.default_category
        )
        label_rule = _strongest(r for r in fired if r.label is not None)
        if label_rule is not None and label_rule.label is not None:
            label = render_values(label_rule.label.get(locale), specs, shopper, conjunction)
        else:
            label = sentences.category_titles[category]

        # One pass over the fired rules: totals per use case, the reasons behind each, the
        # fit's, and each rule's positive weight for the summary's highlights.
        totals = [u.default for u in self._use_cases]
        reasons: list[list[Reason]] = [[] for _ in totals]
        fit_reasons: list[Reason] = []
        fit_total = 0
        highlight_weight: dict[str, int] = {}
        effects_of, fit_effect_of = self._effects, self._fit_effects
        shares: dict[str, float] = {}
        for rule in fired:
            fragment = fragments.get(rule.id, "")
            if rule.graded is None:
                prepared, fit_effect = effects_of[rule.index], fit_effect_of.get(rule.index)
            else:
                share = shares[rule.id] = rule.graded.share(specs)
                prepared, fit_effect = self._prepare(graded_effects(rule, share), rule.index)
            for position, amount, key in prepared:
                totals[position] += amount
                if fragment:
                    reasons[position].append((key, fragment))
                    if amount > 0 and rule is not category_rule:
                        highlight_weight[fragment] = highlight_weight.get(fragment, 0) + amount
            if fit_effect is not None:
                fit_total += fit_effect[0]
                if fragment:
                    fit_reasons.append((fit_effect[1], fragment))

        soft_from = pack.soft_ceiling_from
        values = [
            shown_score(total, u.floor, soft_from) for u, total in zip(self._use_cases, totals, strict=True)
        ]
        scores = [
            Score(use_case, title, value, sentence, raw)
            for use_case, title, value, sentence, raw in zip(
                self._use_cases,
                sentences.use_case_titles,
                values,
                sentences.scores(values, reasons) if words else [""] * len(values),
                totals,
                strict=True,
            )
        ]

        fit = None
        if shopper is not None:
            uses = tuple(shopper.get("uses") or self._index)
            start = round(sum(scores[self._index[u]].value for u in uses) / len(uses))
            value = shown_score(start + fit_total, 0, soft_from)
            fit = Fit(start, value, sentences.fit(value, fit_reasons) if words else "", uses)

        summary = ""
        if words:
            reason = fragments.get(category_rule.id, "") if category_rule else ""
            ranked = sorted(((s.use_case.id, s.value) for s in scores), key=_second, reverse=True)  # stable
            summary = sentences.summary(
                label, reason or sentences.category_explanations[category], ranked, highlight_weight
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
            shares,
        )


def _named_specs(rule: Rule, locale: str) -> tuple[str, ...]:
    """The spec attributes a rule's `say` names (its {placeholders}) in `locale`."""
    if rule.say is None:
        return ()
    return tuple(sorted(n for n in rule.say.get(locale).placeholders if not n.startswith("shopper.")))


def _spec_reads(rule: Rule, locale: str) -> tuple[str, ...]:
    """The spec attributes a rule's words (in `locale`), label and grade read: with the
    rules that fired and the shopper, all of a product that a verdict depends on."""
    names: set[str] = set()
    for texts in (rule.say, rule.label):
        if texts is not None:
            names.update(n for n in texts.get(locale).placeholders if not n.startswith("shopper."))
    if rule.graded is not None:
        names.add(rule.graded.attribute)
    return tuple(sorted(names))


def _second(pair: tuple[str, int]) -> int:
    return pair[1]


def _strongest(rules: Iterable[Rule]) -> Rule | None:
    best: Rule | None = None
    for rule in rules:  # in pack order, so ">" keeps the earlier rule on a tie
        if best is None or rule.priority > best.priority:
            best = rule
    return best
