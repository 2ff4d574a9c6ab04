"""The `when:` grammar (rulepack/conditions.py): shorthands and what they mean, and every
way a condition can name the wrong attribute, value, test or range."""

from __future__ import annotations

from pathlib import Path

import pytest

from earmark.rulepack.loader import load_pack
from earmark.rulepack.model import AllOf, AnyOf, AttributeTest, Not

from pack_problems import add_rule_file, assert_reported_at, mistake_ids, only_problem

CONDITION_MISTAKES = [
    # (file body, line, code, words in the message)
    (
        "rules:\n  - id: x\n    description: d\n    when:\n      battery_hour: {at_least: 3}\n    then: {fit: 1}\n",
        5,
        "unknown-attribute",
        "did you mean 'battery_hours'",
    ),
    (
        "rules:\n  - id: x\n    description: d\n    when:\n      mic: boom_arm\n    then: {fit: 1}\n",
        5,
        "unknown-value",
        "did you mean 'boom'",
    ),
    (
        "rules:\n  - id: x\n    description: d\n    when:\n      weight_g: {at_least: heavy}\n    then: {fit: 1}\n",
        5,
        "unknown-attribute",
        "'heavy'",
    ),
    (
        "rules:\n  - id: x\n    description: d\n    when:\n      mic: {at_least: 3}\n    then: {fit: 1}\n",
        5,
        "type-mismatch",
        "compares numbers",
    ),
    (
        "rules:\n  - id: x\n    description: d\n    when:\n      connectivity: {is: wired}\n    then: {fit: 1}\n",
        5,
        "type-mismatch",
        "use 'contains'",
    ),
    (
        "rules:\n  - id: x\n    description: d\n    when:\n      mic: {equals: boom}\n    then: {fit: 1}\n",
        5,
        "unknown-operator",
        "unknown test 'equals'",
    ),
    (
        "rules:\n  - id: x\n    description: d\n    when:\n      weight_g: {between: [300, 100]}\n    then: {fit: 1}\n",
        5,
        "bad-range",
        "low <= high",
    ),
]


@pytest.mark.parametrize(
    ("body", "line", "code", "words"), CONDITION_MISTAKES, ids=mistake_ids(CONDITION_MISTAKES)
)
def test_each_condition_mistake_is_reported_at_its_line(
    pack_copy: Path, body: str, line: int, code: str, words: str
) -> None:
    assert_reported_at(pack_copy, body, line, code, words)


def test_shorthands_mean_is_one_of_contains_and_contains_any(pack_copy: Path) -> None:
    add_rule_file(
        pack_copy,
        """rules:
  - id: shorthand
    description: d
    when:
      mic: boom
      form_factor: [over_ear, on_ear]
      connectivity: bluetooth
      codecs: [ldac, aac]
      not:
        any:
          - back: open
          - price_usd: {more_than: shopper.budget_usd}
    then: {fit: 1}
""",
    )
    rule = load_pack(pack_copy).rules_by_id["shorthand"]
    assert isinstance(rule.condition, AllOf)
    tests = rule.condition.children
    assert [
        ("mic", "is"),
        ("form_factor", "one_of"),
        ("connectivity", "contains"),
        ("codecs", "contains_any"),
    ] == [(t.attribute.name, t.op) for t in tests[:4] if isinstance(t, AttributeTest)]
    negated = tests[4]
    assert isinstance(negated, Not) and isinstance(negated.child, AnyOf)
    budget_test = negated.child.children[1]
    assert isinstance(budget_test, AttributeTest) and "budget_usd" == budget_test.value.name


@pytest.mark.parametrize(
    ("condition", "words"),
    [
        ("shopper.priorities: {contains: cheapness}", "'cheapness' is not a value of shopper.priorities"),
        ("shopper.environment: train", "'train' is not a value of shopper.environment"),
        ("shopper.uses: [karaoke]", "'karaoke' is not a value of shopper.uses"),
    ],
)
def test_undeclared_priorities_environments_and_uses_are_reported(
    pack_copy: Path, condition: str, words: str
) -> None:
    name = add_rule_file(
        pack_copy,
        f"rules:\n  - id: x\n    description: d\n    when:\n      {condition}\n    then: {{fit: 1}}\n",
    )
    problem = only_problem(pack_copy, name)
    assert f"{name}:5:" in problem and "error[unknown-value]" in problem and words in problem
