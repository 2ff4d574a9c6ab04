"""The pack as data (rulepack/model.py): how an enum value is matched however a catalog
writes it, and how an attribute is named."""

from __future__ import annotations

import pytest

from earmark.rulepack.model import Attribute, AttrType, value_key

WATER = Attribute("water_resistance", "spec", AttrType.ENUM, values=("IPX4", "USB-C", "over_ear"))


@pytest.mark.parametrize(
    ("written", "declared"),
    [("IPX4", "IPX4"), ("ipx 4", "IPX4"), ("Ipx-4", "IPX4"), ("usb_c", "USB-C"), ("OVER EAR", "over_ear")],
)
def test_an_enum_value_is_found_however_it_is_written(written: str, declared: str) -> None:
    assert declared == WATER.declared_value(written)


def test_a_value_that_differs_by_more_than_case_spaces_and_dashes_is_not_found() -> None:
    assert WATER.declared_value("IPX5") is None
    assert WATER.declared_value("IPX.4") is None
    assert value_key("IPX4") != value_key("IPX 5")


def test_rules_name_shopper_attributes_with_their_side() -> None:
    assert "water_resistance" == WATER.ref
    assert "shopper.budget_usd" == Attribute("budget_usd", "shopper", AttrType.NUMBER).ref


def test_a_lists_items_have_the_lists_item_type() -> None:
    assert AttrType.ENUM is AttrType.ENUM_LIST.item_type
    assert AttrType.TEXT is AttrType.TEXT_LIST.item_type
    assert AttrType.NUMBER is AttrType.NUMBER.item_type
