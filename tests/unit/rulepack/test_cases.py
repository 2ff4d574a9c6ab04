"""Example cases (rulepack/cases.py), read and checked against the pack: their products
like rules' conditions, their expectations and the rules and cases they name."""

from __future__ import annotations

from pathlib import Path

import pytest

from earmark.rulepack.cases import parse_expectation
from earmark.rulepack.loader import load_pack

from pack_problems import edit, only_problem, refusal

USE_CASES = ("music", "meetings")


def test_expectations_compare_a_score_with_a_number_another_score_or_another_case() -> None:
    number = parse_expectation("meetings >= 70", USE_CASES)
    other_score = parse_expectation("music > meetings", USE_CASES)
    other_case = parse_expectation("music < studio-pick.music", USE_CASES)
    assert not isinstance(number, str) and not isinstance(other_score, str)
    assert not isinstance(other_case, str)
    assert ("meetings", ">=", 70) == (number.left, number.op, number.right)
    assert ("music", ">", "meetings") == (other_score.left, other_score.op, other_score.right)
    assert ("studio-pick", "music") == (other_case.other_case, other_case.right)


@pytest.mark.parametrize("text", ["musc >= 3", "music => 3", "music >= loud", "music", "fit >= 3 4"])
def test_a_malformed_expectation_comes_back_as_words(text: str) -> None:
    assert isinstance(parse_expectation(text, USE_CASES), str)


def test_example_cases_are_checked_too(pack_copy: Path) -> None:
    (pack_copy / "examples" / "zz.yaml").write_text(
        'examples:\n  - name: n\n    product: {}\n    expect:\n      scores: ["musc >= 3"]\n      fired: [no-such-rule]\n'
    )
    problems = refusal(pack_copy)
    assert ["bad-expectation", "unknown-rule"] == [p.code for p in problems]
    assert all(p.path.endswith("examples/zz.yaml") for p in problems)


def test_a_comparison_with_an_unknown_case_is_reported(pack_copy: Path) -> None:
    (pack_copy / "examples" / "zz.yaml").write_text(
        'examples:\n  - name: n\n    product: {}\n    expect:\n      scores: ["music > nobody.music"]\n'
    )
    problem = only_problem(pack_copy, "examples/zz.yaml")
    assert "zz.yaml:2:" in problem and "error[unknown-case]" in problem and "'nobody'" in problem


def test_a_misspelt_attribute_in_a_cases_product_is_named_with_the_fix(pack_copy: Path) -> None:
    shoppers = pack_copy / "examples" / "shoppers.yaml"
    edit(shoppers, "      mic: boom\n", "      mic: bom\n")
    edit(shoppers, "      mic: boom\n", "      mic: boom\n      batery_hours: 30\n")
    problems = refusal(pack_copy)
    assert [("shoppers.yaml", "unknown-value"), ("shoppers.yaml", "unknown-attribute")] == [
        (Path(p.path).name, p.code) for p in problems
    ]
    assert "'bom' is not a value of mic (did you mean 'boom'?)" == problems[0].message
    assert "(did you mean 'battery_hours'?)" in problems[1].message


def test_an_attribute_close_to_none_is_only_a_warning(pack_copy: Path) -> None:
    edit(
        pack_copy / "examples" / "shoppers.yaml", "      mic: boom\n", "      mic: boom\n      colour: red\n"
    )
    pack = load_pack(pack_copy)
    assert ["unknown-attribute"] == [w.code for w in pack.warnings]
    assert "the service ignores it" in pack.warnings[0].message
