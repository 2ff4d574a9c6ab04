"""Static analysis of a loaded pack (rulepack/analysis.py): rules that can never fire,
two categories set for the same product at the same priority, and a search that is
sized before it is built."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from earmark.errors import TooBigToSearch
from earmark.rulepack import analysis
from earmark.rulepack.loader import load_pack
from earmark.rulepack.model import Attribute, AttributeTest, AttrType

from pack_problems import add_rule_file, assert_reported_at, mistake_ids, only_problem

CLASHING_CATEGORY = (
    "rules:\n  - id: x\n    description: d\n    when:\n      mic: boom\n      weight_g: {at_least: 300}\n"
    "    then:\n      category: headphones\n      priority: 10\n"
)
FINDINGS = [
    # (file body, line, code, words in the message)
    (
        "rules:\n  - id: x\n    description: d\n    when:\n      weight_g: {at_least: 300, at_most: 100}\n    then: {fit: 1}\n",
        2,
        "never-fires",
        "contradict",
    ),
    (
        "rules:\n  - id: x\n    description: d\n    when:\n      battery_hours: {less_than: 0}\n    then: {fit: 1}\n",
        2,
        "never-fires",
        "'x'",
    ),
    (
        "rules:\n  - id: x\n    description: d\n    when:\n      mic: boom\n      not: {mic: [boom, inline]}\n    then: {fit: 1}\n",
        2,
        "never-fires",
        "'x'",
    ),
    (CLASHING_CATEGORY, 2, "category-conflict", "'boom-mic-makes-a-headset' at"),
]


@pytest.mark.parametrize(("body", "line", "code", "words"), FINDINGS, ids=mistake_ids(FINDINGS))
def test_each_finding_is_reported_at_the_rule(
    pack_copy: Path, body: str, line: int, code: str, words: str
) -> None:
    assert_reported_at(pack_copy, body, line, code, words)


def test_the_conflict_names_an_example_product(pack_copy: Path) -> None:
    name = add_rule_file(pack_copy, CLASHING_CATEGORY)
    problem = only_problem(pack_copy, name)
    assert "mic=boom" in problem and "weight_g=" in problem and "priority 10" in problem


def test_different_priorities_or_disjoint_conditions_do_not_conflict(pack_copy: Path) -> None:
    add_rule_file(
        pack_copy,
        "rules:\n  - id: x\n    description: d\n    when: {mic: boom, weight_g: {at_least: 300}}\n"
        "    then: {category: headphones, priority: 11}\n"
        "  - id: y\n    description: d\n    when: {mic: boom, weight_g: {less_than: 300}}\n"
        "    then: {category: unclassified, priority: 11}\n",
    )
    assert {"x", "y"} <= set(load_pack(pack_copy).rules_by_id)


def test_the_analysis_sizes_a_long_list_before_building_it() -> None:
    """`contains_any` of 22 items took 8 s and 1.5 GB building every subset; 600 hung."""
    tags = Attribute("codecs", "spec", AttrType.TEXT_LIST)
    for count in (22, 600):
        condition = AttributeTest(tags, "contains_any", tuple(f"c{i}" for i in range(count)))
        started = time.monotonic()
        with pytest.raises(TooBigToSearch):
            analysis.witness(condition)
        assert time.monotonic() - started < 1


def test_the_analyses_of_one_pack_share_a_bounded_budget() -> None:
    tags = Attribute("codecs", "spec", AttrType.TEXT_LIST)
    condition = AttributeTest(tags, "contains_any", tuple(f"c{i}" for i in range(15)))  # 65,535 subsets
    budget = analysis.Budget(100_000)
    assert analysis.witness(condition, budget) is not None
    with pytest.raises(TooBigToSearch):
        analysis.witness(condition, budget)
    assert budget.exhausted
