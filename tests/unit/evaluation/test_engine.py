"""The engine driver: conditions translated for durable_rules must fire exactly when the
documented semantics say (`analysis.holds`, which `earmark check` also relies on), on
random rules and products; sids stay bounded and hash-distinct; a closed pack is freed."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from earmark.errors import EngineFailure
from earmark.evaluation.engine import MAX_LIVE_SIDS, CompiledRules, _SidPool, fnv1a_32
from earmark.rulepack.analysis import holds
from earmark.rulepack.model import AllOf, AnyOf, Attribute, AttributeTest, AttrType, Condition, Not
from earmark.rulepack.patterns import translate

from helpers import make_pack

NUMBER = Attribute("n", "spec", AttrType.NUMBER)
OTHER_NUMBER = Attribute("m", "shopper", AttrType.NUMBER)
ENUM = Attribute("e", "spec", AttrType.ENUM, values=("a", "b", "c"))
FLAG = Attribute("f", "spec", AttrType.BOOL)
ENUM_LIST = Attribute("l", "spec", AttrType.ENUM_LIST, values=("x", "y", "z"))
SPECS = (NUMBER, ENUM, FLAG, ENUM_LIST)
SHOPPER = (OTHER_NUMBER,)
NUMBERS = st.sampled_from([0, 1, 2.5, 3, 10])


def _leaf() -> st.SearchStrategy[Condition]:
    def test(attribute: Attribute, op: str, value: Any) -> AttributeTest:
        return AttributeTest(attribute, op, value)

    enum_values = st.sampled_from(ENUM.values)
    list_values = st.sampled_from(ENUM_LIST.values)
    presence = st.builds(
        test, st.sampled_from(SPECS + SHOPPER), st.sampled_from(["present", "missing"]), st.just(True)
    )
    numbers = st.builds(
        test,
        st.just(NUMBER),
        st.sampled_from(["is", "is_not", "at_least", "at_most", "more_than", "less_than"]),
        NUMBERS | st.just(OTHER_NUMBER),
    )
    ranges = st.builds(
        test, st.just(NUMBER), st.just("between"), st.tuples(NUMBERS, NUMBERS).map(lambda p: tuple(sorted(p)))
    )
    number_sets = st.builds(
        test,
        st.just(NUMBER),
        st.sampled_from(["one_of", "none_of"]),
        st.lists(NUMBERS, min_size=1, max_size=3, unique=True).map(tuple),
    )
    enums = st.builds(test, st.just(ENUM), st.sampled_from(["is", "is_not"]), enum_values)
    enum_sets = st.builds(
        test,
        st.just(ENUM),
        st.sampled_from(["one_of", "none_of"]),
        st.lists(enum_values, min_size=1, max_size=3, unique=True).map(tuple),
    )
    flags = st.builds(test, st.just(FLAG), st.sampled_from(["is", "is_not"]), st.booleans())
    contains = st.builds(test, st.just(ENUM_LIST), st.just("contains"), list_values)
    contains_many = st.builds(
        test,
        st.just(ENUM_LIST),
        st.sampled_from(["contains_any", "contains_all"]),
        st.lists(list_values, min_size=1, max_size=3, unique=True).map(tuple),
    )
    return presence | numbers | ranges | number_sets | enums | enum_sets | flags | contains | contains_many


CONDITIONS = st.recursive(
    _leaf(),
    lambda inner: (
        st.lists(inner, min_size=2, max_size=3).map(lambda c: AllOf(tuple(c)))
        | st.lists(inner, min_size=2, max_size=3).map(lambda c: AnyOf(tuple(c)))
        | inner.map(Not)
    ),
    max_leaves=6,
)

SPEC_VALUES = st.fixed_dictionaries(
    {},
    optional={
        "n": NUMBERS,
        "e": st.sampled_from(ENUM.values),
        "f": st.booleans(),
        "l": st.lists(st.sampled_from(ENUM_LIST.values), min_size=1, max_size=3, unique=True),
    },
)
SHOPPER_VALUES = st.none() | st.fixed_dictionaries({}, optional={"m": NUMBERS})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    conditions=st.lists(CONDITIONS, min_size=1, max_size=8),
    products=st.lists(st.tuples(SPEC_VALUES, SHOPPER_VALUES), min_size=1, max_size=12),
)
def test_durable_rules_fires_exactly_the_rules_whose_conditions_hold(
    conditions: list[Condition], products: list[tuple[dict, dict | None]]
) -> None:
    rules = CompiledRules(make_pack(conditions, SPECS, SHOPPER))
    try:
        for specs, shopper in products:
            expected = [f"rule-{i}" for i, c in enumerate(conditions) if holds(c, specs, shopper)]
            assert expected == [r.id for r in rules.fired(specs, shopper)], (specs, shopper)
    finally:
        rules.close()


def test_a_rule_on_a_missing_attribute_is_anchored_so_it_cannot_loop() -> None:
    """#302: `$nex` alone matches the engine's state fact and loops forever."""
    pattern = translate(AttributeTest(NUMBER, "missing", True))
    assert {"$and": [{"t": "product"}, {"$nex": {"spec_n": 1}}]} == pattern
    rules = CompiledRules(make_pack([AttributeTest(NUMBER, "missing", True)], SPECS))
    try:
        assert ["rule-0"] == [r.id for r in rules.fired({}, None)]
        assert [] == rules.fired({"n": 1}, None)
    finally:
        rules.close()


def test_the_same_product_twice_fires_twice_on_a_reused_sid() -> None:
    """Facts with identical content in one sid are dropped as already observed unless the
    previous one was retracted; the pool reuses sids, so this pins the retraction."""
    rules = CompiledRules(make_pack([AttributeTest(ENUM, "is", "a")], SPECS))
    try:
        for _ in range(5):
            assert ["rule-0"] == [r.id for r in rules.fired({"e": "a"}, None)]
    finally:
        rules.close()


def test_fnv1a_matches_the_reference_vectors() -> None:
    assert 0x811C9DC5 == fnv1a_32("")
    assert 0xE40C292C == fnv1a_32("a")
    assert 0xBF9CF968 == fnv1a_32("foobar")


def test_the_sid_pool_reuses_sids_and_is_bounded() -> None:
    pool = _SidPool()
    first = pool.take()
    pool.give(first)
    assert first == pool.take()
    taken = [pool.take() for _ in range(MAX_LIVE_SIDS - 1)]
    assert MAX_LIVE_SIDS - 1 == len({fnv1a_32(s) for s in taken})
    with pytest.raises(EngineFailure, match="sessions are in use, 0 of them quarantined"):
        pool.take()


def test_failed_evaluations_never_use_up_the_session_pool() -> None:
    """A pack past the engine's stack limit (the checker refuses it; built here directly)
    makes every product with a long battery fail with error 303. Each failure used to
    quarantine its sid, so after 512 of them every request failed until a restart."""
    battery = Attribute("battery_hours", "spec", AttrType.NUMBER)
    thresholds = [AttributeTest(battery, "at_least", 1000 + i) for i in range(70)]
    rules = CompiledRules(make_pack(thresholds, (battery,)))
    try:
        for _ in range(10_000):
            with pytest.raises(EngineFailure, match="303"):
                rules.fired({"battery_hours": 5000}, None)
        assert [] == rules.fired({"battery_hours": 10}, None)  # a normal product still works
        assert 0 == rules._sids.quarantined
    finally:
        rules.close()


def test_a_closed_ruleset_refuses_work_instead_of_touching_freed_memory() -> None:
    rules = CompiledRules(make_pack([AttributeTest(ENUM, "is", "a")], SPECS))
    rules.fired({"e": "a"}, None)
    rules.close()
    rules.close()  # twice is harmless
    with pytest.raises(EngineFailure, match="closed"):
        rules.fired({"e": "a"}, None)


def test_non_ascii_values_fire_the_rules_they_match() -> None:
    """The engine compares the bytes as written: the ruleset and the facts must be encoded
    alike (orjson's raw UTF-8 both), or "café" in a rule never equals "café" in a product."""
    text = Attribute("t", "spec", AttrType.TEXT)
    accented = Attribute("a", "spec", AttrType.ENUM, values=("café", "日本", "plain"))
    rules = CompiledRules(
        make_pack(
            [
                AttributeTest(accented, "is", "café"),
                AttributeTest(text, "is", "东京 ☕"),
                AttributeTest(accented, "is", "日本"),
            ],
            (text, accented),
        )
    )
    try:
        assert ["rule-0", "rule-1"] == [r.id for r in rules.fired({"a": "café", "t": "东京 ☕"}, None)]
        assert ["rule-2"] == [r.id for r in rules.fired({"a": "日本", "t": '"quoted" \\ and\u2028'}, None)]
        assert [] == rules.fired({"a": "plain", "t": "东京"}, None)
    finally:
        rules.close()
