"""`earmark check` shows every mistake in one run: a rule whose shape is wrong still has
its texts and conditions checked, and example cases' products are checked like rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from earmark.errors import PackError
from earmark.rulepack.loader import load_pack


def _problems(pack: Path) -> list[tuple[str, int, str, str]]:
    with pytest.raises(PackError) as caught:
        load_pack(pack)
    return [(Path(p.path).name, p.line, p.code, p.message) for p in caught.value.problems]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_a_too_long_fragment_is_reported_beside_the_rules_other_mistake(pack_copy: Path) -> None:
    talking = pack_copy / "talking.yaml"
    _edit(talking, "en: a boom mic right at your mouth", "en: " + "a very long fragment " * 8)
    _edit(talking, "scores: {meetings: 22,", "scores: {meetings: lots,")
    _edit(talking, "mic: [boom, detachable_boom, retractable_boom]", "mic: [boom, boom_arm]")
    codes = [(name, line, code) for name, line, code, _ in _problems(pack_copy)]
    assert [
        ("talking.yaml", 10, "unknown-value"),
        ("talking.yaml", 12, "bad-value"),
        ("talking.yaml", 14, "fragment-too-long"),
    ] == codes


def test_a_misspelt_attribute_in_a_cases_product_is_named_with_the_fix(pack_copy: Path) -> None:
    shoppers = pack_copy / "examples" / "shoppers.yaml"
    _edit(shoppers, "      mic: boom\n", "      mic: bom\n")
    _edit(shoppers, "      mic: boom\n", "      mic: boom\n      batery_hours: 30\n")
    problems = _problems(pack_copy)
    assert [("shoppers.yaml", "unknown-value"), ("shoppers.yaml", "unknown-attribute")] == [
        (name, code) for name, _, code, _ in problems
    ]
    assert "'bom' is not a value of mic (did you mean 'boom'?)" == problems[0][3]
    assert "(did you mean 'battery_hours'?)" in problems[1][3]


def test_an_attribute_close_to_none_is_only_a_warning(pack_copy: Path) -> None:
    shoppers = pack_copy / "examples" / "shoppers.yaml"
    _edit(shoppers, "      mic: boom\n", "      mic: boom\n      colour: red\n")
    pack = load_pack(pack_copy)
    assert ["unknown-attribute"] == [w.code for w in pack.warnings]
    assert "the service ignores it" in pack.warnings[0].message


def test_unreadable_rule_files_do_not_also_show_up_as_unscored_use_cases(pack_copy: Path) -> None:
    """The whole-pack checks wait until every file has been read: with every scoring file
    broken, 'no rule scores ...' would only repeat the real problem seven times."""
    for name in ("talking.yaml", "comfort.yaml", "connection.yaml", "listening.yaml"):
        path = pack_copy / name
        path.write_text(path.read_text().replace("rules:\n", "rules:\n\t", 1))
    assert {"yaml-syntax"} == {code for _, _, code, _ in _problems(pack_copy)}
