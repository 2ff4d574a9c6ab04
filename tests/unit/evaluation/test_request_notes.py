"""One request check for every way in (evaluation/request_notes.py): an attribute the
pack doesn't declare is ignored, a near miss of a declared one is a warning, and strict
mode refuses it, whether it came over gRPC or as plain data. Was: `earmark explain`
dropped {"micc": "boom"} without a word while the server warned."""

from __future__ import annotations

import pytest

from earmark.errors import InvalidArgument
from earmark.evaluation.evaluator import Evaluator
from earmark.evaluation.request_notes import RequestNotes, plain_values


def test_a_near_miss_is_a_warning_and_anything_else_is_ignored_quietly(evaluator: Evaluator) -> None:
    notes = RequestNotes(evaluator.validator, strict=False)
    declared = plain_values(
        {"micc": "boom", "colour": "red", "weight_g": 250, "battery_hours": None},
        evaluator.validator.spec_names,
        notes,
    )
    assert {"weight_g": 250} == declared  # None counts as absent, as a null does over gRPC
    assert [("specs", "micc"), ("specs", "colour")] == notes.undeclared
    assert [
        "specs.micc is not an attribute of this pack and was ignored (did you mean 'mic'?)"
    ] == notes.warnings


def test_strict_mode_refuses_the_undeclared(evaluator: Evaluator) -> None:
    with pytest.raises(
        InvalidArgument, match=r"specs\.micc: not an attribute of this pack \(did you mean 'mic'\?\)"
    ):
        plain_values(
            {"micc": "boom"}, evaluator.validator.spec_names, RequestNotes(evaluator.validator, strict=True)
        )


def test_plain_data_gets_the_warnings_a_request_gets(evaluator: Evaluator) -> None:
    notes = RequestNotes(evaluator.validator, strict=False)
    verdict = evaluator.verdict_for("p", {"micc": "boom"}, {"budgett_usd": 100}, notes=notes)
    assert "unclassified" == verdict.category  # the misspelt mic was not read
    assert [
        "specs.micc is not an attribute of this pack and was ignored (did you mean 'mic'?)",
        "shopper.budgett_usd is not an attribute of this pack and was ignored (did you mean 'budget_usd'?)",
    ] == notes.warnings
