"""How a verdict reads (evaluation/wording.py), in the bundled pack's frames: a band's
opening, the strongest reasons first and at most max_reasons of each side, the summary
kept within the widget's limit, and values as a shopper reads them."""

from __future__ import annotations

import pytest

from earmark.evaluation.evaluator import Evaluator
from earmark.evaluation.wording import Reason, Sentences, format_value, render_values
from earmark.rulepack.templates import parse_template


def _reason(amount: int, rule_index: int, fragment: str, names: tuple[str, ...] = ()) -> Reason:
    return (-abs(amount), rule_index, amount, names), fragment


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
    assert "A partial match for you, thanks to earlier rule and later rule." == english.fit(40, reasons)


def test_the_lowest_band_says_only_what_holds_it_back(english: Sentences) -> None:
    """ "Not made for gaming with friends, thanks to a lag-free wired connection" read as
    praise for a product that is not made for it (issue 23)."""
    reasons = [_reason(5, 1, "a lag-free wired connection"), _reason(-38, 2, "having no microphone")]
    count = len(english.use_case_titles)
    values = [10, 40] + [50] * (count - 2)
    not_made, in_a_pinch, *_ = english.scores(values, [list(reasons) for _ in values])
    assert "Not made for music, held back by having no microphone." == not_made
    assert "thanks to a lag-free wired connection" in in_a_pinch
    assert "A weak match for you, held back by having no microphone." == english.fit(10, list(reasons))
    only_praise = english.scores([10] * count, [[reasons[0]] for _ in range(count)])
    assert "Not made for music." == only_praise[0]


def test_a_sentence_gives_one_reason_per_attribute(english: Sentences) -> None:
    """Two rules reading the weight used to be said together: "thanks to a 207 g build and
    a light 207 g build" (issue 23), or one for and one against."""
    reasons = [
        _reason(9, 1, "a 207 g build", ("weight_g",)),
        _reason(7, 2, "a light 207 g build", ("weight_g",)),
        _reason(6, 3, "active noise cancelling"),
        _reason(-4, 4, "a heavy 207 g build", ("weight_g",)),
        _reason(-2, 5, "only 6 hours of battery", ("battery_hours",)),
    ]
    assert (
        "A strong match for you, thanks to a 207 g build and active noise cancelling, "
        "held back by only 6 hours of battery." == english.fit(80, reasons)
    )


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
