"""New words for pack.yaml from a form (authoring/vocabulary_form.py): each goes at the
end of its section, the rest of the file as it was; a field that can't be written is
refused naming the field."""

from __future__ import annotations

import difflib
import re

import pytest

from earmark.authoring import vocabulary_form
from earmark.authoring.vocabulary_form import AttributeForm, UseCaseForm
from earmark.config import BUNDLED_RULES
from earmark.errors import FormRefused

MANIFEST = (BUNDLED_RULES / "pack.yaml").read_text(encoding="utf-8")
STUDIO = UseCaseForm(
    "studio_recording", {"en": "Studio recording"}, {"en": "recording in a studio"}, "30", ""
)


def _changed(after: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(MANIFEST.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def test_a_use_case_goes_last_in_use_cases_before_the_blank_line() -> None:
    after = vocabulary_form.add_use_case(MANIFEST, STUDIO, ("en", "de"))
    assert [
        "+  - id: studio_recording",
        "+    title: {en: Studio recording}",
        "+    phrase: {en: recording in a studio}",
        "+    default: 30",
    ] == _changed(after)
    assert "    default: 30\n\nspecs:\n" in after


def test_a_number_attribute_with_its_range_goes_last_among_the_shoppers() -> None:
    form = AttributeForm("shopper", "hours_commuting", "number", "", "0", "4.5", "")
    after = vocabulary_form.add_attribute(MANIFEST, form)
    assert ["+  hours_commuting:", "+    type: number", "+    min: 0", "+    max: 4.5"] == _changed(after)


@pytest.mark.parametrize(
    ("form", "refusal"),
    [
        (UseCaseForm("music", {"en": "M"}, {"en": "m"}, "30"), "id: the pack already has a use case 'music'"),
        (
            UseCaseForm("Studio Recording", {"en": "S"}, {"en": "s"}, "30"),
            "id: 'Studio Recording' must start",
        ),
        (UseCaseForm("studio", {"de": "S"}, {"en": "s"}, "30"), "title: write it at least in en"),
        (
            UseCaseForm("studio", {"en": "S"}, {"en": "s"}, "thirty"),
            "starting score: 'thirty' is not a whole number",
        ),
    ],
)
def test_a_use_case_that_cant_be_written_is_refused_naming_the_field(form: UseCaseForm, refusal: str) -> None:
    with pytest.raises(FormRefused, match=refusal):
        vocabulary_form.add_use_case(MANIFEST, form, ("en", "de"))


def test_an_enum_attribute_needs_its_values() -> None:
    with pytest.raises(FormRefused, match="values: list the values"):
        vocabulary_form.add_attribute(MANIFEST, AttributeForm("specs", "headband", "enum", " , "))
    with pytest.raises(FormRefused, match=re.escape("name: the pack already declares specs.mic")):
        vocabulary_form.add_attribute(MANIFEST, AttributeForm("specs", "mic", "enum", "a"))
