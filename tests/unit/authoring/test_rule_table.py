"""A rule file as a decision table (authoring/rule_table.py): its columns are what the
file's rules test and score; saving the table unchanged changes no byte, and a changed
cell changes only its own value."""

from __future__ import annotations

import re

import pytest

from earmark.authoring import rule_table
from earmark.config import BUNDLED_RULES
from earmark.errors import FormRefused
from earmark.rulepack.loader import load_pack
from earmark.rulepack.model import Pack


@pytest.fixture(scope="module")
def pack() -> Pack:
    return load_pack(BUNDLED_RULES)


def _fields(table: rule_table.RuleTable, pack: Pack) -> dict[str, str]:
    """What the table's page sends when nothing was changed."""
    fields: dict[str, str] = {}
    for i, row in enumerate(table.rows):
        fields[f"r{i}-id"] = row.form.id
        for cells in row.cells.values():
            fields.update({cell.field: cell.value for cell in cells if cell.value is not None})
        fields.update({f"r{i}-score-{u}": row.form.scores.get(u, "") for u in table.use_cases})
        if table.has_fit:
            fields[f"r{i}-fit"] = row.form.fit
        fields[f"r{i}-say"] = row.form.say.get(pack.default_locale, "")
    return fields


@pytest.mark.parametrize(
    "name", sorted(p.name for p in BUNDLED_RULES.glob("*.yaml") if p.name != "pack.yaml")
)
def test_a_table_saved_unchanged_changes_no_byte(name: str, pack: Pack) -> None:
    text = (BUNDLED_RULES / name).read_text(encoding="utf-8")
    table = rule_table.read_table(name, text, pack)
    assert len(table.rows) == text.count("\n  - id: ")
    assert text == rule_table.write_table(text, name, _fields(table, pack), pack)


def test_the_columns_are_what_the_files_rules_test_and_score(pack: Pack) -> None:
    text = (BUNDLED_RULES / "comfort.yaml").read_text(encoding="utf-8")
    table = rule_table.read_table("comfort.yaml", text, pack)
    assert ["form_factor", "weight_g"] == table.attributes[:2]
    assert [u.id for u in pack.use_cases if u.id in table.use_cases] == table.use_cases  # in the pack's order
    light = next(row for row in table.rows if row.form.id == "light-for-long-wear")
    assert [("is listed", None), ("is at most", "250")] == [
        (c.words, c.value) for c in light.cells["weight_g"]
    ]


def test_a_changed_cell_changes_only_its_value(pack: Pack) -> None:
    text = (BUNDLED_RULES / "comfort.yaml").read_text(encoding="utf-8")
    table = rule_table.read_table("comfort.yaml", text, pack)
    fields = _fields(table, pack)
    i = next(i for i, row in enumerate(table.rows) if row.form.id == "light-for-long-wear")
    (at_most,) = [c for c in table.rows[i].cells["weight_g"] if c.value is not None]
    fields[at_most.field] = "240"
    fields[f"r{i}-score-meetings"] = "5"
    after = rule_table.write_table(text, "comfort.yaml", fields, pack)
    changed = [(a, b) for a, b in zip(text.splitlines(), after.splitlines(), strict=True) if a != b]
    assert [
        ("        - weight_g: {at_most: 250}", "        - weight_g: {at_most: 240}"),
        (
            "      scores: {call_center: 7, meetings: 4, commute: 4, calls: 2}",
            "      scores: {call_center: 7, meetings: 5, commute: 4, calls: 2}",
        ),
    ] == changed


def test_a_row_whose_rule_is_gone_from_the_file_is_an_error(pack: Pack) -> None:
    text = (BUNDLED_RULES / "comfort.yaml").read_text(encoding="utf-8")
    with pytest.raises(FormRefused, match=re.escape("comfort.yaml no longer has a rule 'renamed'")):
        rule_table.write_table(text, "comfort.yaml", {"r0-id": "renamed"}, pack)
