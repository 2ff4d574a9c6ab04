"""The JSON Schemas editors complete from (rulepack/json_schema.py), made from pack.yaml's
vocabulary: a real validator (jsonschema, draft 2020-12) accepts what the loader accepts
and underlines names and values the pack never declared.

tests/unit/authoring/test_schemas.py checks the shipped files against them."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from earmark.config import BUNDLED_RULES
from earmark.rulepack.json_schema import EXAMPLES_SCHEMA, RULES_SCHEMA, pack_schemas
from earmark.rulepack.loader import load_vocabulary


@pytest.fixture(scope="module")
def schemas() -> dict[str, dict[str, Any]]:
    made = pack_schemas(load_vocabulary(BUNDLED_RULES))
    for schema in made.values():
        Draft202012Validator.check_schema(schema)  # a broken schema would accept anything
    return made


def _rule_errors(schemas: dict[str, dict[str, Any]], when: dict[str, Any]) -> int:
    rule = {"id": "x", "description": "d", "when": when, "then": {"scores": {"commute": 5}}}
    return len(list(Draft202012Validator(schemas[RULES_SCHEMA]).iter_errors({"rules": [rule]})))


@pytest.mark.parametrize(
    "when",
    [
        {"mic": "boom"},
        {"mic": ["boom", "inline"]},
        {"weight_g": {"at_least": 200}},
        {"weight_g": {"at_most": "shopper.budget_usd"}},  # another number of the pack
        {"connectivity": {"contains_any": ["bluetooth", "usb"]}},
        {"battery_hours": {"missing": True}},
    ],
)
def test_conditions_the_loader_accepts_pass(schemas: dict[str, dict[str, Any]], when: dict[str, Any]) -> None:
    assert 0 == _rule_errors(schemas, when)


@pytest.mark.parametrize(
    "when",
    [
        {"mic": "laser"},  # a value pack.yaml doesn't declare
        {"mic_type": "boom"},  # an attribute it doesn't declare
        {"weight_g": {"at_least": "heavy"}},
        {"weight_g": {"between": [100]}},
        {"connectivity": {"is": "bluetooth"}},  # a list takes contains, not is
        {"mic": {"equals": "boom"}},  # no such test
    ],
)
def test_names_and_values_the_pack_never_declared_fail(
    schemas: dict[str, dict[str, Any]], when: dict[str, Any]
) -> None:
    assert _rule_errors(schemas, when) >= 1


def test_a_cases_product_may_carry_attributes_the_pack_does_not_use(
    schemas: dict[str, dict[str, Any]],
) -> None:
    validator = Draft202012Validator(schemas[EXAMPLES_SCHEMA])
    case = {"name": "n", "product": {"mic": "boom", "colour": "red"}, "expect": {"scores": ["music >= 3"]}}
    assert [] == list(validator.iter_errors({"examples": [case]}))
    case["product"] = {"mic": "laser"}
    assert 1 == len(list(validator.iter_errors({"examples": [case]})))
