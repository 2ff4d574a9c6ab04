"""Static checks on a loaded pack: rules that can never fire, and rules that can set
different categories at the same priority for the same product.

Both come down to one question: is there a product (and shopper) for which a condition
holds? It is answered by search. Each attribute a condition mentions gets a small set of
candidate values that covers every case the condition can tell apart (the constants it
names and the values just either side of them, each allowed enum value, the subsets of
the list items it names, and "missing"), and the combinations are tried in turn.

`holds` states the condition semantics plainly. It is never used to answer a request
(durable_rules does that); the engine tests check that the two always agree.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any

from earmark.errors import TooBigToSearch
from earmark.rulepack.model import (
    AllOf,
    AnyOf,
    Attribute,
    AttributeTest,
    AttrType,
    Condition,
    Not,
    Rule,
)

# Past this many combinations a condition is too big to search; it is then not reported.
MAX_COMBINATIONS = 200_000
# Combinations tried over a whole pack's analyses: a big pack is checked partly, never
# for minutes (a pack of 1,000 category rules would otherwise try 500,000 pairs).
PACK_BUDGET = 3_000_000
OTHER_TEXT = "\x00other"  # a text no rule names


class Budget:
    """Combinations an analysis may still try; shared by every check of one pack."""

    def __init__(self, combinations: int = PACK_BUDGET) -> None:
        self.left = combinations
        self.exhausted = False

    def spend(self, combinations: int) -> None:
        if combinations > self.left:
            self.exhausted = True
            raise TooBigToSearch(f"{combinations} combinations; {self.left} left for this pack")
        self.left -= combinations


def holds(condition: Condition, specs: dict[str, Any], shopper: dict[str, Any] | None) -> bool:
    """Whether `condition` holds: a test on a missing attribute is false (except
    `missing`), and `not` negates."""
    if isinstance(condition, Not):
        return not holds(condition.child, specs, shopper)
    if isinstance(condition, AllOf):
        return all(holds(c, specs, shopper) for c in condition.children)
    if isinstance(condition, AnyOf):
        return any(holds(c, specs, shopper) for c in condition.children)
    value = _value(condition.attribute, specs, shopper)
    if condition.op in ("present", "missing"):
        return (value is not None) == (condition.op == "present")
    if value is None:
        return False
    other = condition.value
    if isinstance(other, Attribute):
        other = _value(other, specs, shopper)
        if other is None:
            return False
    op = condition.op
    if op == "is":
        return bool(value == other)
    if op == "is_not":
        return bool(value != other)
    if op == "one_of":
        return value in other
    if op == "none_of":
        return value not in other
    if op == "at_least":
        return bool(value >= other)
    if op == "at_most":
        return bool(value <= other)
    if op == "more_than":
        return bool(value > other)
    if op == "less_than":
        return bool(value < other)
    if op == "between":
        return bool(other[0] <= value <= other[1])
    if op == "contains":
        return other in value
    if op == "contains_any":
        return any(v in value for v in other)
    return all(v in value for v in other)  # contains_all


def witness(condition: Condition, budget: Budget | None = None) -> dict[str, Any] | None:
    """A product/shopper for which `condition` holds, as {attribute ref: value}, or None
    if there is none. Raises TooBigToSearch rather than guess."""
    attributes = sorted({a.ref: a for a in _attributes(condition)}.values(), key=lambda a: a.ref)
    numbers = sorted({n for t in _tests(condition) for n in _numbers(t)})
    domains = []
    size = 1
    for attribute in attributes:  # sized as they are built: nothing past the cap is made
        domains.append(_candidates(attribute, condition, numbers))
        size *= len(domains[-1])
        if size > MAX_COMBINATIONS:
            raise TooBigToSearch(f"over {MAX_COMBINATIONS} combinations")
    if budget is not None:
        budget.spend(size)
    for values in itertools.product(*domains):
        chosen = [(a, v) for a, v in zip(attributes, values, strict=True) if v is not None]
        specs = {a.name: v for a, v in chosen if a.side == "spec"}
        shopper = {a.name: v for a, v in chosen if a.side == "shopper"}
        if holds(condition, specs, shopper):
            return {a.ref: v for a, v in chosen}
    return None


def never_fires(rule: Rule, budget: Budget | None = None) -> bool:
    """True when no product can satisfy the rule's conditions (False if unsure)."""
    try:
        return witness(rule.condition, budget) is None
    except TooBigToSearch:
        return False


def category_conflicts(
    rules: Sequence[Rule], budget: Budget | None = None
) -> Iterator[tuple[Rule, Rule, dict[str, Any]]]:
    """Pairs of rules that set different categories at the same priority and can both fire
    for one product, with such a product."""
    deciding = [r for r in rules if r.category is not None]
    for first, second in itertools.combinations(deciding, 2):
        if first.priority != second.priority or first.category == second.category:
            continue
        if budget is not None and budget.exhausted:
            return
        try:
            example = witness(AllOf((first.condition, second.condition)), budget)
        except TooBigToSearch:
            continue
        if example is not None:
            yield first, second, example


def describe(example: dict[str, Any]) -> str:
    """A witness as an author reads it: `mic=boom, weight_g=350`."""
    if not example:
        return "any product"
    return ", ".join(f"{ref}={_show(v)}" for ref, v in example.items())


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if value == OTHER_TEXT:
        return "(another value)"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _value(attribute: Attribute, specs: dict[str, Any], shopper: dict[str, Any] | None) -> Any:
    return (specs if attribute.side == "spec" else shopper or {}).get(attribute.name)


def attributes_read(rule: Rule, side: str = "spec") -> frozenset[str]:
    """The attributes of `side` ("spec" or "shopper") a rule's condition tests, or its
    grade reads: for specs, what a product must list for the rule to judge it on data
    rather than on a gap."""
    names = {a.name for a in _attributes(rule.condition) if a.side == side}
    if rule.graded is not None and side == "spec":
        names.add(rule.graded.attribute)
    return frozenset(names)


def attributes_valued(rule: Rule) -> frozenset[str]:
    """The spec attributes a rule tests by their value (not by `present:` or `missing:`),
    and its grade: a product that doesn't list one of them meets a test that is false for
    lack of data, so the rule goes by the gap there, not by the product."""
    names = {
        test.attribute.name
        for test in _tests(rule.condition)
        if test.attribute.side == "spec" and test.op not in ("present", "missing")
    }
    if rule.graded is not None:
        names.add(rule.graded.attribute)
    return frozenset(names)


def _tests(condition: Condition) -> Iterator[AttributeTest]:
    if isinstance(condition, AttributeTest):
        yield condition
    elif isinstance(condition, Not):
        yield from _tests(condition.child)
    else:
        for child in condition.children:
            yield from _tests(child)


def _attributes(condition: Condition) -> Iterator[Attribute]:
    for test in _tests(condition):
        yield test.attribute
        if isinstance(test.value, Attribute):
            yield test.value


def _numbers(test: AttributeTest) -> list[float]:
    if test.attribute.type is not AttrType.NUMBER or isinstance(test.value, Attribute):
        return []
    if isinstance(test.value, tuple):
        return [float(v) for v in test.value]
    if isinstance(test.value, bool):
        return []
    return [float(test.value)]


def _candidates(attribute: Attribute, condition: Condition, numbers: list[float]) -> list[Any]:
    """Values of `attribute` that cover every case `condition` can tell apart."""
    items: list[Any] = []  # the constants the condition compares this attribute with
    for test in _tests(condition):
        if test.attribute.ref != attribute.ref or test.op in ("present", "missing"):
            continue
        if isinstance(test.value, tuple):
            items.extend(test.value)
        elif not isinstance(test.value, Attribute):
            items.append(test.value)
    kind = attribute.type
    candidates: list[Any] = [None]  # missing
    if kind is AttrType.BOOL:
        candidates += [True, False]
    elif kind is AttrType.ENUM:
        candidates += list(attribute.values)
    elif kind is AttrType.TEXT:
        candidates += [*sorted({v for v in items if isinstance(v, str)}), OTHER_TEXT]
    elif kind is AttrType.NUMBER:
        points: set[float] = set()
        for n in numbers or [0.0]:
            points.update((n - 0.5, n, n + 0.5))
        low = attribute.minimum if attribute.minimum is not None else float("-inf")
        high = attribute.maximum if attribute.maximum is not None else float("inf")
        candidates += sorted(p for p in points if low <= p <= high)  # only values a request may send
    else:  # lists: every non-empty subset of the named items, plus one item no rule names
        pool = sorted({v for v in items if isinstance(v, str)})
        spare = (
            [v for v in attribute.values if v not in pool][:1] if kind is AttrType.ENUM_LIST else [OTHER_TEXT]
        )
        pool += spare
        if 2 ** len(pool) > MAX_COMBINATIONS:  # checked before a single subset is built
            raise TooBigToSearch(f"{len(pool)} list items have over {MAX_COMBINATIONS} subsets")
        for size in range(1, len(pool) + 1):
            candidates += [list(c) for c in itertools.combinations(pool, size)]
    return candidates
