"""`graded:` rules: amounts that grow with a number of the product, worked by hand from
docs/rules.md's rule (the share of the way from `from` to `to`, clamped, times the amount,
rounded half away from zero), and the mistakes an author can make writing one."""

from __future__ import annotations

from pathlib import Path

import pytest

from earmark.errors import PackError
from earmark.evaluation.evaluator import Evaluator
from earmark.evaluation.verdict import graded_amount
from earmark.rulepack.loader import load_pack

from helpers import probe_rule


@pytest.mark.parametrize(
    ("amount", "share", "expected"),
    [(8, 0.5, 4), (5, 0.5, 3), (-5, 0.5, -3), (8, 0.0, 0), (8, 1.0, 8), (3, 0.16, 0), (4, 0.13, 1)],
)
def test_a_share_of_an_amount_rounds_half_away_from_zero(amount: int, share: float, expected: int) -> None:
    assert expected == graded_amount(amount, share)


def test_the_lighter_the_more_in_the_bundled_pack(evaluator: Evaluator) -> None:
    """lighter-wears-longer: {meetings: 12, calls: 6, call_center: 24, commute: 12, music: 5,
    gaming_solo: 6, gaming_social: 8}, from 400 g to 40 g. At 220 g a product is half way:
    6, 3, 12, 6, 2.5 -> 3, 3 and 4."""
    verdict = evaluator.verdict_for("p", {"mic": "boom", "weight_g": 220})
    given = {c.target: c.amount for c in verdict.contributions() if c.rule.id == "lighter-wears-longer"}
    assert {
        "meetings": 6,
        "calls": 3,
        "call_center": 12,
        "commute": 6,
        "music": 3,
        "gaming_solo": 3,
        "gaming_social": 4,
    } == given
    light = evaluator.verdict_for("p", {"mic": "boom", "weight_g": 30})  # past `to`: the full amounts
    heavy = evaluator.verdict_for("p", {"mic": "boom", "weight_g": 450})  # past `from`: nothing
    assert 24 == sum(
        c.amount for c in light.contributions("call_center") if c.rule.id == "lighter-wears-longer"
    )
    assert "lighter-wears-longer" in {r.id for r in heavy.fired}
    assert [] == [c for c in heavy.contributions() if c.rule.id == "lighter-wears-longer"]


def test_a_graded_amount_is_in_the_score_and_in_the_sentence_only_when_it_counts(
    evaluator: Evaluator,
) -> None:
    base = {"mic": "boom", "form_factor": "on_ear", "connectivity": ["usb"], "weight_g": 399}
    heavier, lighter = (evaluator.verdict_for("p", {**base, "weight_g": w}) for w in (399, 75))
    heavy_score, light_score = (
        {s.use_case.id: s for s in v.scores}["call_center"] for v in (heavier, lighter)
    )
    moved = [c.amount for c in lighter.contributions("call_center") if c.rule.id == "lighter-wears-longer"]
    assert [22] == moved  # 24 x 325/360 = 21.7
    assert light_score.raw > heavy_score.raw
    assert "a 399 g build" not in heavy_score.explanation  # a rule adding 0 is not a reason


def _pack_with(pack_copy: Path, then: str) -> None:
    (pack_copy / "zz-graded.yaml").write_text(
        "rules:\n" + probe_rule("zz-graded", "weight_g: {present: true}", then)
    )


@pytest.mark.parametrize(
    ("then", "code", "words"),
    [
        (
            "{scores: {music: 4}, graded: {by: wieght_g, from: 400, to: 40}}",
            "unknown-attribute",
            "did you mean 'weight_g'?",
        ),
        (
            "{scores: {music: 4}, graded: {by: mic, from: 1, to: 2}}",
            "unknown-attribute",
            "graded: takes one of",
        ),
        (
            "{scores: {music: 4}, graded: {by: weight_g, from: 40, to: 40}}",
            "bad-range",
            "from and to are both 40",
        ),
        (
            "{category: headset, graded: {by: weight_g, from: 400, to: 40}}",
            "no-effect",
            "scales scores or fit",
        ),
        ("{scores: {music: 4}, graded: {by: weight_g, to: 40}}", "missing-key", "from"),
        # Was accepted, and the rule then silently added nothing to any product.
        ("{scores: {music: 4}, graded: {by: weight_g, from: .nan, to: 40}}", "bad-value", "finite number"),
        ("{scores: {music: 4}, graded: {by: weight_g, from: 400, to: -.inf}}", "bad-value", "finite number"),
    ],
)
def test_a_mistaken_grade_is_named_in_plain_words(pack_copy: Path, then: str, code: str, words: str) -> None:
    _pack_with(pack_copy, then)
    with pytest.raises(PackError) as caught:
        load_pack(pack_copy)
    problems = [p for p in caught.value.problems if p.location.path.endswith("zz-graded.yaml")]
    assert [code] == [p.code for p in problems], problems
    assert words in problems[0].message
