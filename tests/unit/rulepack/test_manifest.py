"""pack.yaml (rulepack/manifest.py): the vocabulary and wording every other file is
checked against, its own mistakes reported in pack.yaml."""

from __future__ import annotations

from pathlib import Path

from pack_problems import edit, only_problem, refusal


def test_manifest_problems_point_into_pack_yaml(pack_copy: Path) -> None:
    edit(pack_copy / "pack.yaml", "default_category: unclassified", "default_category: gadget")
    problem = only_problem(pack_copy, "pack.yaml")
    assert "error[unknown-category]" in problem and "'gadget'" in problem


def test_two_values_that_a_request_could_not_tell_apart_are_refused(pack_copy: Path) -> None:
    edit(
        pack_copy / "pack.yaml",
        "  price_usd:\n",
        "  water_resistance:\n    type: enum\n    values: [IPX4, IPX8, ipx-8]\n  price_usd:\n",
    )
    problems = refusal(pack_copy)
    assert ["duplicate-id"] == [p.code for p in problems]
    assert "'ipx-8' and 'IPX8' are the same value to a request" in problems[0].message
