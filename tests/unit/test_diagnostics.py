"""Problems as people read them (diagnostics.py): one line each, never megabytes long,
with a registered code, and a summary that stays bounded however many there are."""

from __future__ import annotations

from pathlib import Path

import pytest

from earmark.diagnostics import MAX_MESSAGE, MAX_SHOWN, Location, Problem, shown, summarise

from pack_problems import refusal


def test_a_megabyte_value_is_clipped_in_the_problem(pack_copy: Path) -> None:
    """A 500 KB `say:` used to make a 500,000-character problem, log line and
    DescribeRules error."""
    text = "x" * 500_000
    (pack_copy / "zz-say.yaml").write_text(
        f"rules:\n  - id: zz-say\n    description: d\n    when: {{mic: boom}}\n    then:\n      fit: 1\n      say: {text}\n"
    )
    problems = refusal(pack_copy)
    assert problems
    assert all(len(str(p)) < 500 for p in problems), [len(str(p)) for p in problems]


def test_a_message_is_one_line_however_it_was_built() -> None:
    problem = Problem(Location("pack.yaml", 3), "bad-value", "first\nsecond\t  third " + "y" * 10_000)
    assert 1 == len(str(problem).splitlines())
    assert problem.message.startswith("first second third y") and len(problem.message) == MAX_MESSAGE


def test_a_problem_with_a_code_nobody_registered_is_refused_when_made() -> None:
    with pytest.raises(ValueError, match="PROBLEM_CODES"):
        Problem(Location("pack.yaml"), "made-up-code", "anything")


def test_a_summary_of_many_problems_says_how_many_it_left_out() -> None:
    problems = [Problem(Location("a.yaml", line), "bad-value", "wrong") for line in range(1, 31)]
    summary = summarise(problems, most=20).splitlines()
    assert 21 == len(summary)
    assert "a.yaml:20:" in summary[19] and "... and 10 more problems" == summary[20]


def test_a_value_is_shown_short_and_exact() -> None:
    assert "300" == shown(300.0)
    assert "1000000000000002" == shown(1_000_000_000_000_002.0)  # not 1e+15, inside a limit of 1e15
    assert "1e+308" == shown(1e308)  # not 309 digits
    assert MAX_SHOWN == len(shown("x" * 10_000))
