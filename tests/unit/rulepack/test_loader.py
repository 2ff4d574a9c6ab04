"""Loading a pack (rulepack/loader.py): the bundled one loads, and a broken one is
refused with every problem at once, in one pass, sorted by file and line, each reported
once. Each module's own mistakes are tested in the test file of its name."""

from __future__ import annotations

from pathlib import Path

from pack_problems import add_rule_file, edit, only_problem, refusal


def test_bundled_pack_loads_with_its_use_cases_in_order(evaluator) -> None:
    pack = evaluator.pack
    assert ("music", "gaming_solo", "gaming_social", "meetings", "calls", "call_center", "commute") == tuple(
        u.id for u in pack.use_cases
    )
    assert len(pack.rules) >= 60
    assert len(pack.examples) >= 15
    assert [r.index for r in pack.rules] == list(range(len(pack.rules)))


def test_every_problem_is_reported_at_once_sorted_by_file_and_line(pack_copy: Path) -> None:
    add_rule_file(
        pack_copy,
        "rules:\n  - id: x\n    description: d\n    when: {mic: nope}\n    then: {fit: 1}\n",
        "a-first.yaml",
    )
    add_rule_file(
        pack_copy,
        "rules:\n  - id: y\n    description: d\n    when: {mic: boom}\n    then:\n      scores: {nope: 1}\n",
        "b-second.yaml",
    )
    problems = [str(p) for p in refusal(pack_copy)]
    assert 2 == len(problems)
    assert "a-first.yaml:4:" in problems[0] and "b-second.yaml:6:" in problems[1]


def test_a_rule_with_an_unknown_key_is_still_checked_in_the_same_pass(pack_copy: Path) -> None:
    add_rule_file(
        pack_copy,
        "rules:\n  - id: x\n    description: d\n    when: {mic: bom}\n"
        "    then: {fit: 1, colour: red}\n    owner: me\n",
    )
    assert ["unknown-value", "unknown-key", "unknown-key"] == [p.code for p in refusal(pack_copy)]


def test_a_too_long_fragment_is_reported_beside_the_rules_other_mistakes(pack_copy: Path) -> None:
    talking = pack_copy / "talking.yaml"
    edit(talking, "en: a boom mic right at your mouth", "en: " + "a very long fragment " * 8)
    edit(talking, "scores: {meetings: 22,", "scores: {meetings: lots,")
    edit(talking, "mic: [boom, detachable_boom, retractable_boom]", "mic: [boom, boom_arm]")
    assert [
        ("talking.yaml", 10, "unknown-value"),
        ("talking.yaml", 12, "bad-value"),
        ("talking.yaml", 14, "fragment-too-long"),
    ] == [(Path(p.path).name, p.line, p.code) for p in refusal(pack_copy)]


def test_a_broken_rule_is_not_also_missing_from_the_cases_that_name_it(pack_copy: Path) -> None:
    # One rule loses its required description: one problem, not one per case naming it.
    edit(
        pack_copy / "talking.yaml",
        "    description: A boom mic picks up the voice close to the mouth, so others hear you clearly.\n",
        "",
    )
    problem = only_problem(pack_copy, "talking.yaml")
    assert "error[missing-key]" in problem and "'description' is required" in problem


def test_an_unreadable_rule_file_is_reported_once(pack_copy: Path) -> None:
    talking = pack_copy / "talking.yaml"
    talking.write_text("rules: [unclosed\n" + talking.read_text())
    assert "error[yaml-syntax]" in only_problem(pack_copy, "talking.yaml")


def test_a_rule_whose_shape_is_wrong_still_has_its_names_checked_in_the_same_pass(pack_copy: Path) -> None:
    """Issue 24: in Studio, `commuting` was flagged only once the rule's id was fixed."""
    add_rule_file(
        pack_copy,
        "rules:\n  - id: Bone Conduction\n    description: d\n    when: {driver_type: bone_conduction}\n"
        "    then:\n      category: headfones\n      scores: {commuting: 5}\n",
    )
    assert [
        ("bad-value", 2),
        ("unknown-category", 6),
        ("unknown-use-case", 7),
    ] == [(p.code, p.line) for p in refusal(pack_copy)]
