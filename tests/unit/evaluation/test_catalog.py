"""A catalog evaluated the one way diff, rank and Studio share (evaluation/catalog.py):
every product in order, a refused one kept with why, and each one's warnings."""

from __future__ import annotations

import json

import pytest

from earmark.evaluation.catalog import CatalogProduct, evaluate_catalog, missing_data, read_catalog
from earmark.evaluation.evaluator import Evaluator

CATALOG = [
    CatalogProduct("good", {"mic": "boom", "form_factor": "over_ear"}, 1),
    CatalogProduct("refused", {"weight_g": "heavy"}, 2),
    CatalogProduct("misspelt", {"micc": "boom", "form_factor": "in_ear"}, 3),
]


def test_every_product_comes_back_in_order_with_its_verdict_or_why_not(evaluator: Evaluator) -> None:
    outcomes = list(evaluate_catalog(evaluator, CATALOG))
    assert ["good", "refused", "misspelt"] == [o.product.id for o in outcomes]
    assert "headset" == outcomes[0].verdict.category  # type: ignore[union-attr]
    assert outcomes[1].verdict is None and "specs.weight_g='heavy'" in (outcomes[1].error or "")
    assert {"id": "refused", "line": 2, "error": outcomes[1].error} == outcomes[1].as_refused()
    assert [
        {
            "id": "misspelt",
            "line": 3,
            "warning": "specs.micc is not an attribute of this pack and was ignored (did you mean 'mic'?)",
        }
    ] == outcomes[2].as_warned()


def test_without_words_nothing_is_composed(evaluator: Evaluator) -> None:
    outcome = next(evaluate_catalog(evaluator, CATALOG[:1], words=False))
    assert outcome.verdict is not None and "" == outcome.verdict.explanation
    assert all("" == s.explanation for s in outcome.verdict.scores)


def test_a_catalog_line_that_is_not_a_product_is_named() -> None:
    lines = ['{"id": "a", "specs": {"mic": "boom"}}', "", '{"id": "b", "specs": [1]}']
    with pytest.raises(ValueError, match=r"line 3: expected"):
        list(read_catalog(lines))
    assert [("a", 1)] == [(p.id, p.line) for p in read_catalog(lines[:2])]


def test_missing_data_counts_the_products_that_leave_out_what_rules_read(evaluator: Evaluator) -> None:
    """Issue 23: a merchandiser sees where the catalog leaves the pack guessing."""
    products = [
        CatalogProduct("a", {"mic": "boom", "weight_g": 300, "codecs": []}, 1),  # an empty list is missing
        CatalogProduct("b", {"mic": "none", "weight_g": None}, 2),  # so is null
        CatalogProduct("c", {"form_factor": "in_ear"}, 3),
    ]
    gaps = {gap.attribute: gap for gap in missing_data(evaluator.pack, products)}
    assert (2, 3) == (gaps["weight_g"].missing, gaps["weight_g"].products)
    assert 1 == gaps["mic"].missing and 3 == gaps["codecs"].missing and 2 == gaps["form_factor"].missing
    assert "lighter-wears-longer" in gaps["weight_g"].rules and "mic-not-listed" in gaps["mic"].rules
    assert "price_usd" in gaps  # read by a shopper rule's comparison with the budget
    assert not any(name.startswith("shopper") for name in gaps)
    order = [len(gap.rules) for gap in missing_data(evaluator.pack, products)]
    assert order == sorted(order, reverse=True)  # the attributes most rules read first


def test_a_decision_log_reads_as_a_catalog_of_the_products_it_logged() -> None:
    line = json.dumps(
        {
            "decision_id": "d1",
            "input": {"product": {"id": "sku-9", "specs": {"mic": "boom"}}, "shopper": None, "locale": None},
            "verdict": {"category": "headset", "scores": {}},
        }
    )
    (product,) = read_catalog(["", line])
    assert (product.id, product.specs, product.line) == ("sku-9", {"mic": "boom"}, 2)
