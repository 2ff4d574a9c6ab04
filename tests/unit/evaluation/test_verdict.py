"""Composing a verdict from fired rules (evaluation/verdict.py): clamping, priorities,
fit, graded amounts worked by hand from docs/rules.md's rule (the share of the way from
`from` to `to`, clamped, times the amount, rounded half away from zero), and explanations
that read as sentences with the strongest reasons first."""

from __future__ import annotations

from dataclasses import replace

import pytest

from earmark.evaluation.evaluator import Evaluator
from earmark.evaluation.verdict import FIT, graded_amount, shown_score

from helpers import ANC_HEADPHONES, BOOM_GAMING_HEADSET, written_pack


def _verdict(evaluator: Evaluator, specs: dict, shopper: dict | None = None):
    return evaluator.verdict_for("p", specs, shopper)


def test_scores_are_default_plus_effects_then_floor_and_soft_ceiling(evaluator: Evaluator) -> None:
    """Checked against the rule files as written, not against what Earmark derived."""
    defaults, amounts = written_pack(BOOM_GAMING_HEADSET)
    verdict = _verdict(evaluator, BOOM_GAMING_HEADSET)
    fired = [rule.id for rule in verdict.fired]
    soft = evaluator.pack.soft_ceiling_from
    assert 90 == soft
    for score in verdict.scores:
        default, floor = defaults[score.use_case.id]
        raw = default + sum(amounts[rule_id].get(score.use_case.id, 0) for rule_id in fired)
        assert raw == score.raw, score.use_case.id
        if raw <= soft:
            assert max(floor, raw) == score.value, score.use_case.id
        else:
            assert soft < score.value <= raw, score.use_case.id
    assert any(
        default + 1 < s.value < 100 for s in verdict.scores for default, _ in [defaults[s.use_case.id]]
    )


def test_listening_never_drops_below_its_floor(evaluator: Evaluator) -> None:
    """A mono, narrow-range, open-ear product still plays audio: usable in a pinch."""
    verdict = _verdict(
        evaluator, {"mic": "boom", "channels": "mono", "freq_high_hz": 8000, "form_factor": "open_ear"}
    )
    music = next(s for s in verdict.scores if s.use_case.id == "music")
    assert 20 == music.value


def test_highest_priority_category_wins_and_the_earlier_rule_breaks_a_tie(evaluator: Evaluator) -> None:
    compose = evaluator.composers[evaluator.pack.default_locale].compose
    specs = evaluator.validator.specs({"mic": "boom"})
    headset = evaluator.pack.rules_by_id["boom-mic-makes-a-headset"]
    headphones = evaluator.pack.rules_by_id["no-mic-makes-headphones"]
    assert "headset" == compose("p", specs, None, [headset, headphones]).category
    stronger = replace(headphones, priority=headset.priority + 1)
    assert "headphones" == compose("p", specs, None, [headset, stronger]).category
    assert "unclassified" == compose("p", specs, None, []).category


def test_label_defaults_to_the_category_title(evaluator: Evaluator) -> None:
    assert "Headset" == _verdict(evaluator, {"mic": "boom"}).label
    assert "Audio gear" == _verdict(evaluator, {}).label
    assert "Wireless noise-cancelling headphones" == _verdict(evaluator, ANC_HEADPHONES).label


def test_use_case_explanations_put_the_strongest_reason_first(evaluator: Evaluator) -> None:
    verdict = _verdict(evaluator, BOOM_GAMING_HEADSET)
    meetings = next(s for s in verdict.scores if s.use_case.id == "meetings")
    assert meetings.explanation.startswith(
        "Good for online meetings, thanks to a boom mic right at your mouth"
    )
    assert meetings.explanation.endswith(".")
    assert "boom-mic-for-talking" not in meetings.explanation  # sentences, not rule ids


def test_cons_are_explained_too(evaluator: Evaluator) -> None:
    verdict = _verdict(evaluator, {"mic": "none", "back": "open"})
    calls = next(s for s in verdict.scores if s.use_case.id == "calls")
    assert "held back by having no microphone" in calls.explanation


def test_the_summary_says_what_it_is_and_stays_within_the_widget_limit(evaluator: Evaluator) -> None:
    verdict = _verdict(evaluator, BOOM_GAMING_HEADSET)
    assert verdict.explanation.startswith("Wireless gaming headset: its mic sits on an arm")
    assert "Best for" in verdict.explanation
    assert len(verdict.explanation) <= evaluator.pack.explanation_limit
    unknown = _verdict(evaluator, {"connectivity": ["bluetooth"]})
    assert "doesn't say which microphone" in unknown.explanation


def test_fit_starts_from_the_mean_of_the_shoppers_uses(evaluator: Evaluator) -> None:
    verdict = _verdict(evaluator, BOOM_GAMING_HEADSET, {"uses": ["music", "calls"]})
    by_id = {s.use_case.id: s.value for s in verdict.scores}
    assert verdict.fit is not None
    assert round((by_id["music"] + by_id["calls"]) / 2) == verdict.fit.start
    everything = _verdict(evaluator, BOOM_GAMING_HEADSET, {})
    assert everything.fit is not None
    assert round(sum(by_id.values()) / len(by_id)) == everything.fit.start


def test_fit_rules_speak_to_the_shopper_with_their_values(evaluator: Evaluator) -> None:
    verdict = _verdict(
        evaluator, {**ANC_HEADPHONES, "battery_hours": 5}, {"budget_usd": 100, "hours_per_day": 8}
    )
    assert verdict.fit is not None
    assert "a price over your $100 budget" in verdict.fit.explanation
    assert "your 8-hour day" in verdict.fit.explanation
    _, amounts = written_pack()
    written = sum(amounts[rule.id].get(FIT, 0) for rule in verdict.fired)
    assert written < 0  # over budget and short on battery: the fit goes down
    assert verdict.fit.value == max(0, min(100, verdict.fit.start + written))


@pytest.mark.parametrize(
    ("raw", "shown"),
    # Worked by hand from 100 - 10 * exp((90 - raw) / 10), as docs/rules.md tabulates it.
    [(-5, 20), (89, 89), (90, 90), (95, 94), (100, 96), (105, 98), (110, 99), (120, 100)],
)
def test_the_soft_ceiling_eases_totals_above_90_toward_100(raw: int, shown: int) -> None:
    assert shown == shown_score(raw, 20, 90)


def test_past_the_soft_ceiling_every_extra_ten_points_still_shows() -> None:
    """The curve never merges totals five apart until they are past anything the sample
    catalog's best products reach (their raw totals stay below 105)."""
    shown = [shown_score(raw, 0, 90) for raw in range(85, 111, 5)]
    assert shown == sorted(set(shown))
    assert 100 == shown_score(120, 0, 100)  # a soft ceiling of 100 is the old plain clamp


# ---- graded amounts ------------------------------------------------------------------------


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


def test_a_verdict_under_another_id_keeps_every_other_field(evaluator: Evaluator) -> None:
    """for_product spells out Verdict's fields for speed: a field added later and left
    out of it would be lost from every cache and memo hit."""
    verdict = evaluator.verdict_for("p", BOOM_GAMING_HEADSET, {"uses": ["meetings"]})
    assert replace(verdict, product_id="other") == verdict.for_product("other")
