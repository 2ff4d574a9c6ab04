"""The durable_rules pattern of each condition (rulepack/patterns.py), as plain data.

tests/unit/evaluation/test_engine.py runs these patterns in the engine against the
analysis's own reading of the same conditions; here the patterns themselves are pinned
where a wrong one would still fire on most products."""

from __future__ import annotations

from earmark.rulepack.model import AllOf, Attribute, AttributeTest, AttrType, Not
from earmark.rulepack.patterns import MARK, MARK_FIELD, field_name, translate

WEIGHT = Attribute("weight_g", "spec", AttrType.NUMBER)
MIC = Attribute("mic", "spec", AttrType.ENUM, values=("boom", "inline"))
BUDGET = Attribute("budget_usd", "shopper", AttrType.NUMBER)
ANCHOR = {MARK_FIELD: MARK}


def test_a_plain_test_is_a_plain_pattern() -> None:
    assert {"spec_mic": "boom"} == translate(AttributeTest(MIC, "is", "boom"))
    assert {"$gte": {"spec_weight_g": 300}} == translate(AttributeTest(WEIGHT, "at_least", 300))


def test_a_negated_test_also_holds_for_a_product_without_the_attribute() -> None:
    """`not weight_g >= 300` must fire for a listing with no weight, and a pattern that
    can match on absence is anchored to the product fact, or the engine loops (#302)."""
    pattern = translate(Not(AttributeTest(WEIGHT, "at_least", 300)))
    assert {"$and": [ANCHOR, {"$or": [{"$lt": {"spec_weight_g": 300}}, {"$nex": {"spec_weight_g": 1}}]}]} == (
        pattern
    )


def test_not_all_of_becomes_any_of_the_negations() -> None:
    both = AllOf((AttributeTest(MIC, "is", "boom"), AttributeTest(WEIGHT, "less_than", 300)))
    pattern = translate(Not(both))
    assert ANCHOR == pattern["$and"][0]
    alternatives = pattern["$and"][1]["$or"]
    assert {"$or": [{"$neq": {"spec_mic": "boom"}}, {"$nex": {"spec_mic": 1}}]} == alternatives[0]
    assert {"$or": [{"$gte": {"spec_weight_g": 300}}, {"$nex": {"spec_weight_g": 1}}]} == alternatives[1]


def test_spec_and_shopper_attributes_of_one_name_are_stored_apart() -> None:
    shopper_weight = Attribute("weight_g", "shopper", AttrType.NUMBER)
    assert field_name(WEIGHT) != field_name(shopper_weight)
    assert {field_name(WEIGHT), field_name(BUDGET)}.isdisjoint({"sid", "id", MARK_FIELD})


def test_a_comparison_with_another_attribute_needs_both_present() -> None:
    pattern = translate(AttributeTest(WEIGHT, "at_most", BUDGET))  # nonsense, but well-formed
    assert {
        "$and": [
            {"$ex": {"spec_weight_g": 1}},
            {"$ex": {"shopper_budget_usd": 1}},
            {"$lte": {"spec_weight_g": {"$m": "shopper_budget_usd"}}},
        ]
    } == pattern
