"""pack.yaml (rulepack/manifest.py): the vocabulary and wording every other file is
checked against, its own mistakes reported in pack.yaml."""

from __future__ import annotations

from pathlib import Path

from earmark.config import BUNDLED_RULES
from earmark.rulepack.loader import load_pack

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


def test_a_decision_log_mask_is_read_into_the_pack() -> None:
    masks = load_pack(BUNDLED_RULES).decision_mask
    assert [(m.pointer, m.replace) for m in masks] == [("/shopper/budget_usd", None)]


def test_a_mask_naming_an_attribute_the_pack_lacks_is_refused_where_it_is_written(pack_copy: Path) -> None:
    edit(pack_copy / "pack.yaml", "    - path: /shopper/budget_usd", "    - path: /shopper/budget")
    lines = (pack_copy / "pack.yaml").read_text().splitlines()
    line = next(n for n, text in enumerate(lines, start=1) if "/shopper/budget" in text)
    problem = only_problem(pack_copy, "pack.yaml")
    assert f"pack.yaml:{line}:" in problem
    assert "'budget' is not one of the shopper attributes" in problem
    assert "did you mean 'budget_usd'?" in problem


def test_a_mask_may_only_point_at_the_product_id_specs_or_shopper(pack_copy: Path) -> None:
    edit(pack_copy / "pack.yaml", "    - path: /shopper/budget_usd", "    - path: /locale")
    problem = only_problem(pack_copy, "pack.yaml")
    assert "'/locale' can't be written here: use /product/id, /specs, /shopper, or one attribute" in problem
    assert "write" not in problem  # no made-up suggestion
