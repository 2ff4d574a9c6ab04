"""The composition memo and the bounded maps behind both caches (evaluation/memo.py):
bounded, least recently used out, and keyed so that what reads differently never shares
an entry. tests/unit/server/test_caches_change_nothing.py checks whole answers."""

from __future__ import annotations

from pathlib import Path

from earmark.config import BUNDLED_RULES
from earmark.evaluation.evaluator import Evaluator
from earmark.evaluation.memo import Bounded, canonical, frozen
from earmark.evaluation.validation import Subject
from earmark.evaluation.verdict import Composer

from helpers import BOOM_GAMING_HEADSET, probe_rule


def test_a_bounded_map_drops_the_least_recently_used() -> None:
    kept: Bounded[str] = Bounded(2)
    kept.put("a", "A")
    kept.put("b", "B")
    assert "A" == kept.get("a")  # now b is the least recently used
    kept.put("c", "C")
    assert (None, "A", "C") == (kept.get("b"), kept.get("a"), kept.get("c"))
    assert 2 == len(kept)


def test_a_bounded_map_of_no_entries_keeps_nothing() -> None:
    kept: Bounded[str] = Bounded(0)
    kept.put("a", "A")
    assert kept.get("a") is None and 0 == len(kept)


def test_values_that_python_calls_equal_but_read_differently_are_different_keys() -> None:
    assert 1 == True == 1.0  # what a plain dict key would conflate
    assert len({frozen(True), frozen(1), frozen(1.0)}) == 3
    assert canonical({"a": 1, "b": ["x"]}) == canonical({"b": ["x"], "a": 1})
    assert canonical({"a": ["x", "y"]}) != canonical({"a": ["y", "x"]})  # order is read


def _fresh() -> tuple[Evaluator, Bounded[object]]:
    evaluator = Evaluator.from_directory(BUNDLED_RULES)
    composer: Composer = evaluator.composers[evaluator.pack.default_locale]
    return evaluator, composer.memo  # type: ignore[return-value]


def test_products_that_differ_only_where_no_fired_rule_reads_share_one_entry() -> None:
    evaluator, memo = _fresh()
    first = evaluator.verdict_for("first", BOOM_GAMING_HEADSET)
    second = evaluator.verdict_for("second", {**BOOM_GAMING_HEADSET, "price_usd": 151})
    assert [r.id for r in first.fired] == [r.id for r in second.fired]  # what the memo relies on
    assert 1 == len(memo)
    assert ("first", "second") == (first.product_id, second.product_id)
    assert first.scores == second.scores and first.explanation == second.explanation


def test_a_value_a_fired_rule_says_or_grades_by_is_part_of_the_key() -> None:
    evaluator, memo = _fresh()
    lighter = evaluator.verdict_for("p", {**BOOM_GAMING_HEADSET, "weight_g": 320})
    heavier = evaluator.verdict_for("p", {**BOOM_GAMING_HEADSET, "weight_g": 330})
    assert [r.id for r in lighter.fired] == [r.id for r in heavier.fired]
    assert 2 == len(memo)
    assert lighter.scores != heavier.scores  # the graded weight rule gives less at 330 g


def test_the_shopper_and_the_words_asked_for_are_part_of_the_key() -> None:
    evaluator, memo = _fresh()
    evaluator.verdict_for("p", BOOM_GAMING_HEADSET)
    evaluator.verdict_for("p", BOOM_GAMING_HEADSET, {"uses": ["meetings"]})
    evaluator.verdict_for("p", BOOM_GAMING_HEADSET, {"uses": ["music"]})
    subject = Subject("p", evaluator.validator.specs(BOOM_GAMING_HEADSET), None, None)
    evaluator.evaluate(subject, words=False)
    assert 4 == len(memo)


def test_an_evaluator_set_to_keep_nothing_composes_every_time() -> None:
    evaluator, _ = _fresh()
    evaluator.keep_composed(0)
    evaluator.verdict_for("p", BOOM_GAMING_HEADSET)
    assert 0 == len(evaluator.composers[evaluator.pack.default_locale].memo)


def test_a_grade_alone_puts_its_value_in_the_key(pack_copy: Path) -> None:
    """The bundled pack's graded rules all say their value too; this one doesn't."""
    (pack_copy / "zz.yaml").write_text(
        "rules:\n"
        + probe_rule(
            "zz-graded-quietly",
            "driver_mm: {present: true}",
            "{scores: {music: 20}, graded: {by: driver_mm, from: 10, to: 50}, say: a big driver}",
        )
    )
    evaluator = Evaluator.from_directory(pack_copy)
    small, big = (evaluator.verdict_for("p", {"driver_mm": size}) for size in (12, 48))
    assert [r.id for r in small.fired] == [r.id for r in big.fired]
    assert small.scores[0].raw < big.scores[0].raw
