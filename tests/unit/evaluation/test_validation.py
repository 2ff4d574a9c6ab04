"""Request validation against the pack's vocabulary, and the normalisation that keeps
values durable_rules mishandles away from it."""

from __future__ import annotations

import math

import pytest

from earmark.errors import InvalidArgument
from earmark.evaluation.evaluator import Evaluator
from earmark.server.wire import struct_values

from helpers import struct


def test_numbers_are_normalised_for_the_engine(evaluator: Evaluator) -> None:
    specs = evaluator.validator.specs({"battery_hours": 30.0, "weight_g": 0.000012, "price_usd": 99.123456})
    assert {"battery_hours": 30, "weight_g": 0, "price_usd": 99.1235} == specs
    assert isinstance(specs["battery_hours"], int)


def test_lists_are_deduplicated_and_an_empty_list_counts_as_missing(evaluator: Evaluator) -> None:
    specs = evaluator.validator.specs({"connectivity": ["usb", "usb", "wired"], "codecs": []})
    assert {"connectivity": ["usb", "wired"]} == specs


def test_free_text_is_trimmed_and_kept_as_written(evaluator: Evaluator) -> None:
    # Rules still match it ignoring case: test_values_as_written.py shows both.
    assert {"codecs": ["LDAC", "AAC"]} == evaluator.validator.specs({"codecs": [" LDAC", "AAC "]})


def test_nulls_and_undeclared_attributes_are_skipped(evaluator: Evaluator) -> None:
    names = frozenset(a.name for a in evaluator.pack.specs)
    values = struct_values(struct({"mic": None, "colour": "red", "back": "open"}), names)
    assert {"back": "open"} == values


@pytest.mark.parametrize(
    ("section", "values", "expected"),
    [
        ("specs", {"mic": "boom_arm"}, "specs.mic='boom_arm': Input should be"),
        (
            "specs",
            {"battery_hours": -1.0},
            "specs.battery_hours=-1: Input should be greater than or equal to 0",
        ),
        ("specs", {"price_usd": math.inf}, "specs.price_usd=inf: Input should be a finite number"),
        (
            "specs",
            {"price_usd": 1e16},
            "specs.price_usd=10000000000000000: Input should be less than or equal to",
        ),
        # Shown as 1e+308, not as a 309-digit integer.
        ("specs", {"price_usd": 1e308}, "specs.price_usd=1e+308: Input should be less than or equal to"),
        (
            "specs",
            {"detachable_cable": "yes"},
            "specs.detachable_cable='yes': Input should be a valid boolean",
        ),
        ("specs", {"weight_g": True}, "specs.weight_g=True: Input should be a valid number"),
        ("specs", {"codecs": ["x" * 300]}, "specs.codecs.0="),
        ("shopper", {"uses": ["music", "karaoke"]}, "shopper.uses.1='karaoke'"),
        ("shopper", {"priorities": "price"}, "shopper.priorities='price': Input should be a valid list"),
    ],
)
def test_bad_values_name_the_field_and_the_value(
    evaluator: Evaluator, section: str, values: dict, expected: str
) -> None:
    check = evaluator.validator.specs if section == "specs" else evaluator.validator.shopper
    with pytest.raises(InvalidArgument) as caught:
        check(values)
    assert expected in caught.value.message


def test_every_bad_attribute_is_reported_at_once(evaluator: Evaluator) -> None:
    with pytest.raises(InvalidArgument) as caught:
        evaluator.validator.specs({"mic": "x", "back": "y"})
    assert "specs.mic='x'" in caught.value.message and "specs.back='y'" in caught.value.message


def test_a_value_with_nothing_set_counts_as_absent(evaluator: Evaluator) -> None:
    """Some clients (protobufjs with a mistyped oneof) send a Value with no kind."""
    message = struct({"back": "open"})
    message.fields["mic"].Clear()
    names = frozenset(a.name for a in evaluator.pack.specs)
    assert {"back": "open"} == struct_values(message, names)


def test_a_number_over_the_limit_is_shown_as_the_number_it_is(evaluator: Evaluator) -> None:
    """Over gRPC every number is a double; 1000000000000002 was shown as "1e+15", which
    reads as within the limit of 1000000000000000 that it is over."""
    with pytest.raises(InvalidArgument) as refused:
        evaluator.validator.specs({"weight_g": 1000000000000002.0})
    assert str(refused.value).startswith("specs.weight_g=1000000000000002: ")
    assert "1000000000000000" in str(refused.value)
