"""The `when:` grammar of rule files, parsed and type-checked against the pack's vocabulary.

    when:
      mic: boom                                 # shorthand: is (contains, for a list)
      form_factor: [over_ear, on_ear]           # shorthand: one of (contains any, for a list)
      battery_hours: {at_least: 20}
      price_usd: {more_than: shopper.budget_usd}
      any:
        - noise_cancelling: active
        - back: closed
      not:
        connectivity: {contains: bluetooth}

Several keys in one mapping must all hold. A test on an attribute the product doesn't have
is false, except `missing`; `not:` is true when its inside is false.
"""

from __future__ import annotations

import math
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from earmark.diagnostics import Problem, did_you_mean, shown
from earmark.rulepack.model import (
    ALL_OPS,
    EQUALITY_OPS,
    NUMBER_OPS,
    PRESENCE_OPS,
    RANGE_OPS,
    SET_OPS,
    AllOf,
    AnyOf,
    Attribute,
    AttributeTest,
    AttrType,
    Condition,
    Not,
)
from earmark.rulepack.network import MAX_DECIMALS, MAX_NUMBER, MAX_TEXT_VALUE
from earmark.rulepack.source import SourceFile

GROUPS = ("all", "any", "not")


class ConditionParser:
    """Turns YAML `when:` nodes of one file into Conditions, collecting Problems."""

    def __init__(self, attributes: dict[str, Attribute], source: SourceFile) -> None:
        self.attributes = attributes  # by ref: "mic", "shopper.budget_usd"
        self.source = source
        self.problems: list[Problem] = []

    def parse(self, node: Any, loc: tuple[Any, ...]) -> Condition | None:
        """The condition at `loc`, or None if it has problems (which are recorded)."""
        if isinstance(node, CommentedSeq):
            if not node:
                self._fail(loc, "empty-condition", "this list of conditions is empty")
                return None
            return self._combine(AllOf, [self.parse(item, (*loc, i)) for i, item in enumerate(node)])
        if not isinstance(node, CommentedMap) or not node:
            self._fail(loc, "bad-condition", "a condition is a mapping such as `mic: boom`")
            return None
        children = [self._parse_entry(str(key), value, (*loc, key)) for key, value in node.items()]
        return self._combine(AllOf, children)

    # ---- structure ------------------------------------------------------------------------

    def _parse_entry(self, key: str, value: Any, loc: tuple[Any, ...]) -> Condition | None:
        if key in ("all", "any"):
            if not isinstance(value, CommentedSeq) or not value:
                self._fail(loc, "bad-condition", f"'{key}' takes a list of conditions")
                return None
            kind = AllOf if key == "all" else AnyOf
            return self._combine(kind, [self.parse(item, (*loc, i)) for i, item in enumerate(value)])
        if key == "not":
            inner = self.parse(value, loc)
            return None if inner is None else Not(inner)
        attribute = self._attribute(key, loc)
        if attribute is None:
            return None
        if isinstance(value, CommentedMap):
            if not value:
                self._fail(loc, "bad-condition", f"no test given for '{key}'")
                return None
            tests = [self._test(attribute, str(op), v, (*loc, op)) for op, v in value.items()]
            return self._combine(AllOf, tests)
        if isinstance(value, CommentedSeq):
            op = "contains_any" if attribute.type.is_list else "one_of"
        else:
            op = "contains" if attribute.type.is_list else "is"
        return self._test(attribute, op, value, loc)

    def _combine(self, kind: type[AllOf] | type[AnyOf], children: list[Condition | None]) -> Condition | None:
        if any(child is None for child in children):
            return None
        kept = [c for c in children if c is not None]
        return kept[0] if len(kept) == 1 else kind(tuple(kept))

    # ---- tests ----------------------------------------------------------------------------

    def _test(self, attribute: Attribute, op: str, value: Any, loc: tuple[Any, ...]) -> Condition | None:
        if op not in ALL_OPS:
            hint = did_you_mean(op, ALL_OPS, otherwise=f"; known: {', '.join(ALL_OPS)}")
            self._fail(loc, "unknown-operator", f"unknown test '{op}'{hint}")
            return None
        kind = attribute.type
        name = attribute.ref
        if op in PRESENCE_OPS:
            if not isinstance(value, bool):
                self._fail(loc, "type-mismatch", f"'{op}' takes true or false")
                return None
            present = value if op == "present" else not value
            return AttributeTest(attribute, "present" if present else "missing", True)
        if op in EQUALITY_OPS:
            if kind.is_list:
                self._fail(loc, "type-mismatch", f"{name} is a list: use 'contains'")
                return None
            operand = self._operand(attribute, value, loc, allow_reference=True)
        elif op in SET_OPS:
            if kind.is_list:
                self._fail(loc, "type-mismatch", f"{name} is a list: use 'contains_any'")
                return None
            operand = self._constants(attribute, value, loc)
        elif op in NUMBER_OPS:
            if kind is not AttrType.NUMBER:
                self._fail(loc, "type-mismatch", f"'{op}' compares numbers, but {name} is {kind.value}")
                return None
            operand = self._operand(attribute, value, loc, allow_reference=True)
        elif op in RANGE_OPS:
            if kind is not AttrType.NUMBER:
                self._fail(loc, "type-mismatch", f"'between' compares numbers, but {name} is {kind.value}")
                return None
            operand = self._constants(attribute, value, loc)
            if operand is not None and (len(operand) != 2 or operand[0] > operand[1]):
                self._fail(loc, "bad-range", "'between' takes [low, high] with low <= high")
                return None
        else:  # LIST_OPS
            if not kind.is_list:
                self._fail(loc, "type-mismatch", f"'{op}' is for lists, but {name} is {kind.value}")
                return None
            if op == "contains":
                operand = self._operand(attribute, value, loc, allow_reference=False)
            else:
                operand = self._constants(attribute, value, loc)
        if operand is None:
            return None
        return AttributeTest(attribute, op, operand)

    def _constants(self, attribute: Attribute, value: Any, loc: tuple[Any, ...]) -> tuple[Any, ...] | None:
        if not isinstance(value, CommentedSeq) or not value:
            self._fail(loc, "type-mismatch", "expected a list such as [a, b]")
            return None
        items = [self._operand(attribute, v, (*loc, i), allow_reference=False) for i, v in enumerate(value)]
        if any(item is None for item in items):
            return None
        return tuple(items)

    def _operand(
        self, attribute: Attribute, value: Any, loc: tuple[Any, ...], *, allow_reference: bool
    ) -> Any:
        """A constant of the attribute's item type, or (for numbers) another attribute."""
        kind = attribute.type.item_type
        name = attribute.ref
        if kind is AttrType.NUMBER:
            if isinstance(value, str) and allow_reference:
                other = self._attribute(value, loc)
                if other is None:
                    return None
                if other.type is not AttrType.NUMBER or other is attribute:
                    self._fail(
                        loc,
                        "bad-reference",
                        f"{name} can only be compared with another number attribute, not {shown(value)}",
                    )
                    return None
                return other
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                self._fail(
                    loc,
                    "type-mismatch",
                    f"{name} is a number, so compare it with a number (got {shown(value)})",
                )
                return None
            # json.dumps prints 1e+16 and 1e-05, which durable_rules refuses (error 204).
            if abs(value) > MAX_NUMBER or (value and abs(value) < 10**-MAX_DECIMALS):
                self._fail(
                    loc,
                    "bad-number",
                    f"{shown(value)} is too big or too small; use a number from "
                    f"{10**-MAX_DECIMALS:g} to {MAX_NUMBER:,.0f}",
                )
                return None
            if round(float(value), MAX_DECIMALS) != value:
                self._fail(loc, "bad-number", f"{shown(value)} has more than {MAX_DECIMALS} decimal places")
                return None
            return int(value) if float(value).is_integer() else float(value)
        if kind is AttrType.BOOL:
            if not isinstance(value, bool):
                self._fail(loc, "type-mismatch", f"{name} is true or false (got {shown(value)})")
                return None
            return bool(value)
        if not isinstance(value, str):
            self._fail(
                loc, "type-mismatch", f"{name} holds text, so compare it with text (got {shown(value)})"
            )
            return None
        if len(value) > MAX_TEXT_VALUE:
            self._fail(
                loc,
                "value-too-long",
                f"{len(value)} characters; a value in a rule may have at most {MAX_TEXT_VALUE}",
            )
            return None
        if kind is AttrType.ENUM:
            declared = attribute.declared_value(value)
            if declared is None:
                hint = did_you_mean(
                    value, attribute.values, otherwise=f"; allowed: {', '.join(attribute.values)}"
                )
                self._fail(loc, "unknown-value", f"{shown(value)} is not a value of {name}{hint}")
                return None
            return declared  # as pack.yaml spells it: requests are mapped the same way
        # Free text is compared lower-cased on both sides (requests are normalised the same way).
        return str(value).lower() if kind is AttrType.TEXT else str(value)

    def _attribute(self, ref: str, loc: tuple[Any, ...]) -> Attribute | None:
        attribute = self.attributes.get(ref)
        if attribute is None:
            hint = did_you_mean(ref, [*self.attributes, *GROUPS])
            self._fail(loc, "unknown-attribute", f"'{ref}' is not an attribute declared in pack.yaml{hint}")
            return None
        return attribute

    def _fail(self, loc: tuple[Any, ...], code: str, message: str) -> None:
        self.problems.append(self.source.problem(loc, code, message))
        return None
