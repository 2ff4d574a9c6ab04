"""A rule as a form (authoring/rule_form.py): read from its file and written back, it
changes only what the form changed; conditions the form can't show as lines are kept as
written; shorthands read as the test they stand for."""

from __future__ import annotations

import re

import pytest

from earmark.authoring import rule_form, yaml_edit
from earmark.authoring.rule_form import ConditionLine, RuleForm
from earmark.config import BUNDLED_RULES
from earmark.errors import FormRefused
from earmark.rulepack.loader import load_pack
from earmark.rulepack.model import Pack


@pytest.fixture(scope="module")
def pack() -> Pack:
    return load_pack(BUNDLED_RULES)


@pytest.mark.parametrize(
    "name", sorted(p.name for p in BUNDLED_RULES.glob("*.yaml") if p.name != "pack.yaml")
)
def test_every_bundled_rule_goes_through_its_form_without_changing_a_byte(name: str, pack: Pack) -> None:
    """Comments, shorthands, flow mappings, presence tests and blank lines included."""
    text = (BUNDLED_RULES / name).read_text(encoding="utf-8")
    for rule in yaml_edit.load(text, name)["rules"]:
        form = rule_form.read_form(name, text, str(rule["id"]), pack)
        assert text == rule_form.write_form(text, form, pack), rule["id"]


TEXT = """rules:
  - id: either
    description: d
    when:
      any:  # kept as written
        - mic: boom
        - form_factor: [over_ear, on_ear]
    then:
      scores: {meetings: 3}
  - id: gap
    description: d
    when:
      weight_g: {present: false}
      form_factor: [over_ear, on_ear]
    then:
      fit: 2
"""


def test_conditions_the_form_cant_show_are_kept_as_written_when_an_amount_changes(pack: Pack) -> None:
    form = rule_form.read_form("x.yaml", TEXT, "either", pack)
    assert [] == form.tests and form.written_conditions is not None and "any:" in form.written_conditions
    form.scores["meetings"] = "5"
    assert TEXT.replace("{meetings: 3}", "{meetings: 5}") == rule_form.write_form(TEXT, form, pack)


def test_shorthands_and_presence_read_as_the_tests_they_stand_for(pack: Pack) -> None:
    form = rule_form.read_form("x.yaml", TEXT, "gap", pack)
    assert [
        ConditionLine("weight_g", "missing"),
        ConditionLine("form_factor", "one_of", "over_ear, on_ear"),
    ] == form.tests
    assert TEXT == rule_form.write_form(TEXT, form, pack)  # and unchanged, written as they were


def test_changed_conditions_are_written_as_the_packs_write_them(pack: Pack) -> None:
    form = rule_form.read_form("x.yaml", TEXT, "gap", pack)
    form.tests = [
        ConditionLine("weight_g", "missing"),
        ConditionLine("weight_g", "at_most", "250"),
        ConditionLine("mic", "is", "boom"),
    ]
    written = yaml_edit.load(rule_form.write_form(TEXT, form, pack), "x.yaml")["rules"][1]["when"]
    assert {
        "all": [{"weight_g": {"missing": True}}, {"weight_g": {"at_most": 250}}, {"mic": "boom"}]
    } == written


@pytest.mark.parametrize(
    ("test", "refusal"),
    [
        (
            ConditionLine("mic", "is", "boom, inline"),
            "mic is: one value only; for several, choose 'is one of'",
        ),
        (ConditionLine("mic", "is", " "), "mic is: give a value"),
        (ConditionLine("mic", "", "boom"), None),  # a shorthand: settled to 'is'
        (ConditionLine("mic", "equals", "boom"), "mic: choose a test"),
    ],
)
def test_a_test_the_form_cant_write_is_refused_in_words(
    test: ConditionLine, refusal: str | None, pack: Pack
) -> None:
    form = RuleForm("x.yaml", None, id="new", description="d", tests=[test], scores={"music": "1"})
    if refusal is None:
        assert "mic: boom" in rule_form.write_form(TEXT, form, pack)
        return
    with pytest.raises(FormRefused, match=refusal):
        rule_form.write_form(TEXT, form, pack)


def test_a_new_files_name_is_a_plain_name_not_taken() -> None:
    assert ("bone-conduction.yaml", rule_form.RULES_FILE_HEADER + "rules: []\n") == rule_form.new_file_text(
        "Bone Conduction", ["pack.yaml"]
    )
    with pytest.raises(FormRefused, match=re.escape("there is already a file comfort.yaml")):
        rule_form.new_file_text("comfort", ["comfort.yaml"])
    with pytest.raises(FormRefused, match="use lower-case letters"):
        rule_form.new_file_text("../pack", [])
