"""Texts with {placeholders} (rulepack/templates.py): split once at load time into
literal parts and plain attribute names, and nothing else let through."""

from __future__ import annotations

from pathlib import Path

import pytest

from earmark.errors import TemplateSyntaxError
from earmark.rulepack.templates import parse_template

from pack_problems import assert_reported_at


def test_a_text_is_split_into_literals_and_placeholder_names() -> None:
    template = parse_template("a {battery_hours}-hour battery, under {shopper.budget_usd}")
    assert (
        ("a ", "battery_hours"),
        ("-hour battery, under ", "shopper.budget_usd"),
    ) == template.parts
    assert "a {battery_hours}-hour battery, under {shopper.budget_usd}" == template.source


def test_doubled_braces_are_literal_braces() -> None:
    parts = parse_template("a {{curly}} text").parts
    assert "a {curly} text" == "".join(literal for literal, _ in parts)
    assert {None} == {name for _, name in parts}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{battery_hours!r}", "plain attribute name"),  # a conversion
        ("{weight_g:>10}", "plain attribute name"),  # a format spec
        ("{mic[0]}", "plain attribute name"),  # indexing
        ("{mic.__class__.__mro__}", "plain attribute name"),  # reaching into objects
        ("{weight_g", "literal brace"),  # unbalanced
        ("weight_g}", "literal brace"),
    ],
)
def test_anything_but_a_plain_name_is_refused(text: str, words: str) -> None:
    with pytest.raises(TemplateSyntaxError) as refused:
        parse_template(text)
    assert words in str(refused.value)


def test_a_placeholder_that_is_not_a_plain_name_is_reported_at_its_line(pack_copy: Path) -> None:
    assert_reported_at(
        pack_copy,
        "rules:\n  - id: x\n    description: d\n    when: {mic: boom}\n    then:\n      fit: 1\n      say: a {battery_hours!r} trick\n",
        7,
        "bad-placeholder",
        "plain attribute name",
    )
