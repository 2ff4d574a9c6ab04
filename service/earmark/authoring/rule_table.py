"""A rule file as a decision table: a row per rule, a column per attribute its conditions
test and per use case its rules score (issue 24: the files that are families of tiers read
best side by side).

The table edits values, not shapes: a condition's value, an amount, the sentence in the
pack's first language. Which tests a rule makes, and anything the table doesn't show, are
read from the file at save time and kept, so a table saved over a file someone changed in
the meantime changes only the cells it shows (rule_form.write_form writes each row).
"""

from __future__ import annotations

from dataclasses import dataclass

from earmark.authoring import rule_form, yaml_edit
from earmark.authoring.rule_form import TEST_WORDS, RuleForm
from earmark.errors import FormRefused
from earmark.rulepack.model import PRESENCE_OPS, Pack


@dataclass(frozen=True)
class Cell:
    """One test of a row, in one attribute's column: its words, and its value unless the
    test has none (`is listed`). `field` names the value's input."""

    words: str
    value: str | None
    field: str


@dataclass(frozen=True)
class Row:
    form: RuleForm
    cells: dict[str, list[Cell]]  # attribute -> the row's tests on it; none if it doesn't test it


@dataclass(frozen=True)
class RuleTable:
    file: str
    attributes: list[str]  # the condition columns, in the order the file first tests them
    use_cases: list[str]  # the amount columns, in the pack's order
    rows: list[Row]
    has_fit: bool


def read_table(file: str, text: str, pack: Pack) -> RuleTable:
    document = yaml_edit.load(text, file)
    rules = document.get("rules") if isinstance(document, dict) else None
    if not isinstance(rules, list):
        raise FormRefused(f"{file} is not a rule file (it has no list of rules)")
    forms = [rule_form.read_form(file, text, str(r.get("id")), pack) for r in rules if isinstance(r, dict)]
    attributes: list[str] = []
    for form in forms:
        for line in form.tests:
            if line.attribute not in attributes:
                attributes.append(line.attribute)
    scored = {use_case for form in forms for use_case in form.scores}
    rows = []
    for i, form in enumerate(forms):
        cells: dict[str, list[Cell]] = {}
        for j, line in enumerate(form.tests):
            value = None if line.test in PRESENCE_OPS else line.value
            cells.setdefault(line.attribute, []).append(
                Cell(TEST_WORDS.get(line.test, line.test), value, f"r{i}-t{j}")
            )
        rows.append(Row(form, cells))
    return RuleTable(
        file=file,
        attributes=attributes,
        use_cases=[u.id for u in pack.use_cases if u.id in scored],
        rows=rows,
        has_fit=any(form.fit for form in forms),
    )


def write_table(text: str, file: str, fields: dict[str, str], pack: Pack) -> str:
    """The file's new text with the table's cells in it. Rows are matched by the rule
    ids the table was drawn with (`r{i}-id`); a rule gone from the file since is an
    error, not a silent skip."""
    index = 0
    while f"r{index}-id" in fields:
        rule_id = fields[f"r{index}-id"]
        try:
            form = rule_form.read_form(file, text, rule_id, pack)
        except FormRefused:
            raise FormRefused(f"{file} no longer has a rule {rule_id!r}; reload the page") from None
        for j, line in enumerate(form.tests):
            typed = fields.get(f"r{index}-t{j}")
            if typed is not None:
                line.value = typed
        for use_case in [u.id for u in pack.use_cases]:
            typed = fields.get(f"r{index}-score-{use_case}")
            if typed is not None:
                form.scores[use_case] = typed
        if f"r{index}-fit" in fields:
            form.fit = fields[f"r{index}-fit"]
        say = fields.get(f"r{index}-say")
        if say is not None:
            form.say[pack.default_locale] = say
        try:
            text = rule_form.write_form(text, form, pack)
        except FormRefused as exc:
            raise FormRefused(f"{rule_id}: {exc}") from None
        index += 1
    return text
