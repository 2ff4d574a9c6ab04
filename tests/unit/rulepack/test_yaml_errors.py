"""The mistakes people make writing YAML by hand, each explained in plain words with its
fix, at the line and column where it was made; never the parser's grammar or a regex."""

from __future__ import annotations

from pathlib import Path

import pytest

from earmark.diagnostics import Problem
from earmark.errors import PackError
from earmark.rulepack.loader import load_pack

RULE = "      say:\n        en: a boom mic right at your mouth"


def _only_problem(pack: Path) -> Problem:
    with pytest.raises(PackError) as caught:
        load_pack(pack)
    assert 1 == len(caught.value.problems), caught.value.problems
    problem = caught.value.problems[0]
    for jargon in ("<block", "<scalar>", "expected <", "^", "$", "pattern", "token"):
        assert jargon not in problem.message, problem
    return problem


def _edit(pack: Path, name: str, old: str, new: str) -> None:
    path = pack / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_a_tab_used_for_indentation(pack_copy: Path) -> None:
    _edit(pack_copy, "talking.yaml", "    description: A boom mic picks", "\tdescription: A boom mic picks")
    problem = _only_problem(pack_copy)
    assert (8, 1, "yaml-syntax") == (problem.line, problem.column, problem.code)
    assert "use spaces, not tabs" in problem.message


def test_a_colon_inside_a_phrase(pack_copy: Path) -> None:
    _edit(pack_copy, "talking.yaml", "en: a boom mic right at your mouth", "en: great for calls: clear mic")
    problem = _only_problem(pack_copy)
    assert (14, 13) == (problem.line, problem.column)  # where the text starts
    assert "put the text in quotes" in problem.message
    assert 'en: "great for calls: clear mic"' in problem.message


def test_a_phrase_starting_with_a_placeholder_unquoted(pack_copy: Path) -> None:
    _edit(pack_copy, "talking.yaml", "en: a boom mic right at your mouth", "en: {battery_hours} hours")
    problem = _only_problem(pack_copy)
    assert (14, 13) == (problem.line, problem.column)
    assert "must be in quotes" in problem.message and 'en: "{battery_hours} hours"' in problem.message


def test_a_placeholder_text_unquoted_and_dedented_is_told_both_fixes(pack_copy: Path) -> None:
    """Issue 24: quoting alone, as the message said, left the line one level too far left."""
    _edit(
        pack_copy,
        "talking.yaml",
        "        de: ein Bügelmikrofon direkt vor dem Mund",
        "      de: {battery_hours} Stunden",
    )
    problem = _only_problem(pack_copy)
    assert 'must be in quotes, or YAML reads the braces as a list of keys: de: "{battery_hours} Stunden"' in (
        problem.message
    )
    assert problem.message.endswith(
        "; it is also indented 6 spaces, but 'en' just above is indented 8: if the two belong together, "
        "move 'de' 2 spaces to the right"
    )


def test_say_indented_one_space_short(pack_copy: Path) -> None:
    _edit(pack_copy, "talking.yaml", RULE, RULE.replace("      say:", "     say:"))
    problem = _only_problem(pack_copy)
    assert (13, 6) == (problem.line, problem.column)
    assert "'say' is indented 5 spaces, but 'scores' on line 12 is indented 6" in problem.message
    assert "move 'say' 1 space to the right" in problem.message


def test_then_nested_under_when(pack_copy: Path) -> None:
    _edit(
        pack_copy,
        "talking.yaml",
        "      mic: [boom, detachable_boom, retractable_boom]\n    then:",
        "      mic: [boom, detachable_boom, retractable_boom]\n      then:",
    )
    problem = _only_problem(pack_copy)
    assert (11, 7, "missing-key") == (problem.line, problem.column, problem.code)  # the misplaced `then:`
    assert "'then' is indented under 'when'; move it left so that it lines up with 'when'" in problem.message


def test_an_id_that_breaks_the_id_rules(pack_copy: Path) -> None:
    """Enum values may be written as catalogs spell them ("IPX4"); ids may not."""
    _edit(pack_copy, "talking.yaml", "  - id: boom-mic-for-talking", "  - id: Boom Mic")
    problem = _only_problem(pack_copy)
    assert (7, 5, "bad-value") == (problem.line, problem.column, problem.code)  # at its key
    assert (
        "id: 'Boom Mic' can't be written here: use lower-case letters, digits, '-' and '_'" in problem.message
    )
    assert "(write 'boom-mic')" in problem.message
