"""The durable_rules pattern each rule condition compiles to: plain JSON-ready data.

It lives in the rule-pack layer, apart from the engine driver, so that a pack can be
checked against the engine's limits (network.py) on exactly the patterns the engine will
be given, before the engine ever sees them.

- `$nex` alone also matches the engine's own state fact and loops forever (#302), so a
  pattern that tests for a missing attribute is anchored on a marker every product carries.
- `not` is pushed down to the attributes. A test on a missing attribute is false, so the
  negation of a test is "the opposite test, or the attribute is missing".
"""

from __future__ import annotations

import json
from typing import Any

from earmark.rulepack.model import AllOf, AnyOf, Attribute, AttributeTest, Condition, Not

SENTINEL = "seen"  # the engine name of the rule that matches every product fact
MARK_FIELD, MARK = "t", "product"

_NUMBER_OP = {"at_least": "$gte", "at_most": "$lte", "more_than": "$gt", "less_than": "$lt"}
_NUMBER_OP_NEGATED = {"at_least": "$lt", "at_most": "$gt", "more_than": "$lte", "less_than": "$gte"}


def field_name(attribute: Attribute) -> str:
    """The fact field an attribute is stored in. The prefixes keep spec and shopper names
    apart and can never collide with the engine's own `sid` and `id` or the marker."""
    return f"{attribute.side}_{attribute.name}"


def translate(condition: Condition) -> dict[str, Any]:
    """The durable_rules pattern for a rule's condition."""
    pattern = _translate(condition, negate=False)
    if '"$nex"' in json.dumps(pattern):
        pattern = {"$and": [{MARK_FIELD: MARK}, pattern]}
    return pattern


def _translate(condition: Condition, *, negate: bool) -> dict[str, Any]:
    if isinstance(condition, Not):
        return _translate(condition.child, negate=not negate)
    if isinstance(condition, AllOf | AnyOf):
        parts = [_translate(c, negate=negate) for c in condition.children]
        conjunctive = isinstance(condition, AllOf) != negate  # De Morgan
        return _and(parts) if conjunctive else _or(parts)
    return _test(condition, negate=negate)


def _test(test: AttributeTest, *, negate: bool) -> dict[str, Any]:
    f = field_name(test.attribute)
    op, value = test.op, test.value
    missing = {"$nex": {f: 1}}
    if op in ("present", "missing"):
        present = (op == "present") != negate
        return {"$ex": {f: 1}} if present else missing
    if isinstance(value, Attribute):  # compared with another attribute
        g = field_name(value)
        ref = {"$m": g}
        positive_op = {"is": None, "is_not": "$neq", **_NUMBER_OP}[op]
        if not negate:
            compare = {f: ref} if positive_op is None else {positive_op: {f: ref}}
            return _and([{"$ex": {f: 1}}, {"$ex": {g: 1}}, compare])
        negative_op = {"is": "$neq", "is_not": None, **_NUMBER_OP_NEGATED}[op]
        compare = {f: ref} if negative_op is None else {negative_op: {f: ref}}
        return _or([compare, missing, {"$nex": {g: 1}}])
    if op == "is":
        return _or([{"$neq": {f: value}}, missing]) if negate else {f: value}
    if op == "is_not":
        return _or([{f: value}, missing]) if negate else {"$neq": {f: value}}
    if op == "one_of":
        if negate:
            return _or([_and([{"$neq": {f: v}} for v in value]), missing])
        return _or([{f: v} for v in value])
    if op == "none_of":
        if negate:
            return _or([*({f: v} for v in value), missing])
        return _and([{"$neq": {f: v}} for v in value])
    if op in _NUMBER_OP:
        if negate:
            return _or([{_NUMBER_OP_NEGATED[op]: {f: value}}, missing])
        return {_NUMBER_OP[op]: {f: value}}
    if op == "between":
        low, high = value
        if negate:
            return _or([{"$lt": {f: low}}, {"$gt": {f: high}}, missing])
        return _and([{"$gte": {f: low}}, {"$lte": {f: high}}])
    # Lists: contains, contains_any, contains_all. Empty lists never reach the engine (the
    # validator drops them), so "missing" also covers "contains nothing".
    items = (value,) if op == "contains" else value
    if not negate:
        has = [{"$iany": {f: {"$i": v}}} for v in items]
        return _and(has) if op == "contains_all" else _or(has)
    if op == "contains_all":  # lacks at least one of them
        return _or([*({"$iall": {f: {"$neq": {"$i": v}}}} for v in items), missing])
    lacks_all = _and([{"$neq": {"$i": v}} for v in items])
    return _or([{"$iall": {f: lacks_all}}, missing])


def _and(parts: list[dict[str, Any]]) -> dict[str, Any]:
    return parts[0] if len(parts) == 1 else {"$and": parts}


def _or(parts: list[dict[str, Any]]) -> dict[str, Any]:
    return parts[0] if len(parts) == 1 else {"$or": parts}
