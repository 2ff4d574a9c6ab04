"""How a verdict reads (evaluation/wording.py), in the bundled pack's frames: a band's
opening, the strongest reasons first and at most max_reasons of each side, the summary
kept within the widget's limit, and values as a shopper reads them."""

from __future__ import annotations

import pytest

from earmark.evaluation.evaluator import Evaluator
from earmark.evaluation.wording import Reason, Sentences, format_value, render_values
from earmark.rulepack.templates import parse_template


def _reason(amount: int, rule_index: int, fragment: str) -> Reason:
    return (-abs(amount), rule_index, amount), fragment


@pytest.fixture(scope="module")
def english(evaluator: Evaluator) -> Sentences:
    return Sentences(evaluator.pack, "en")


def test_a_score_without_reasons_is_its_bands_opening(english: Sentences) -> None:
    values = [85, 60, 59, 0, 35, 34, 100]
    sentences = english.scores(values, [[] for _ in values])
    assert "Excellent for music." == sentences[0]
    assert sentences[1].startswith("Good for ") and sentences[2].startswith("Fine for ")
    assert sentences[3].startswith("Not made for ") and sentences[5].startswith("Not made for ")


def test_the_strongest_reasons_come_first_and_at_most_two_of_each_side(english: Sentences) -> None:
    reasons = [
        _reason(5, 0, "a small one"),
        _reason(20, 3, "the biggest"),
        _reason(10, 1, "a middle one"),
        _reason(10, 1, "a middle one"),  # two rules saying the same thing: said once
        _reason(-3, 2, "a small drawback"),
        _reason(-8, 4, "a big drawback"),
        _reason(-1, 5, "a tiny drawback"),
    ]
    assert (
        "A strong match for you, thanks to the biggest and a middle one, "
        "held back by a big drawback and a small drawback." == english.fit(80, reasons)
    )


def test_on_equal_amounts_the_earlier_rule_speaks_first(english: Sentences) -> None:
    reasons = [_reason(10, 7, "later rule"), _reason(10, 2, "earlier rule"), _reason(10, 9, "last rule")]
    assert "A weak match for you, thanks to earlier rule and later rule." == english.fit(10, reasons)


def test_the_summary_drops_sentences_that_would_pass_the_limit(
    english: Sentences, evaluator: Evaluator
) -> None:
    limit = evaluator.pack.explanation_limit
    ranked = [("music", 90), ("commute", 80), ("calls", 40)]
    full = english.summary("Headphones", "no microphone", ranked, {"long battery": 3})
    assert "Headphones: no microphone. Best for" in full and "Stands out for long battery." in full
    reason = "x" * (limit - 48)  # leaves 35 characters: room for the highlights, not "Best for ..."
    shortened = english.summary("Headphones", reason, ranked, {"long battery": 3})
    assert f"Headphones: {reason}. Stands out for long battery." == shortened


def test_a_reason_longer_than_the_limit_is_cut_at_a_word(english: Sentences, evaluator: Evaluator) -> None:
    limit = evaluator.pack.explanation_limit
    summary = english.summary("Headphones", "word " * limit, [("music", 90)], {})
    assert len(summary) <= limit and summary.endswith("word…")


def test_german_frames_and_conjunction(evaluator: Evaluator) -> None:
    german = Sentences(evaluator.pack, "de")
    reasons = [_reason(10, 0, "eins"), _reason(5, 1, "zwei")]
    assert "Passt sehr gut zu Ihnen, Stärken: eins und zwei." == german.fit(90, reasons)


def test_a_text_reads_the_shoppers_values_and_says_unknown_for_a_missing_one() -> None:
    template = parse_template("{battery_hours} h against your {shopper.budget_usd} and {weight_g}")
    assert "30 h against your 150 and unknown" == render_values(
        template, {"battery_hours": 30}, {"budget_usd": 150}
    )


def test_values_read_naturally() -> None:
    assert "30" == format_value(30)
    assert "2.5" == format_value(2.5)
    assert "detachable boom" == format_value("detachable_boom")
    assert "sbc, aac and ldac" == format_value(["sbc", "aac", "ldac"])
    assert "sbc, aac und ldac" == format_value(["sbc", "aac", "ldac"], "und")
    assert "yes" == format_value(True)
