"""The pack's example cases run through the real engine, and a wrong expectation fails."""

from __future__ import annotations

from dataclasses import replace

import pytest

from earmark.config import BUNDLED_RULES
from earmark.evaluation.evaluator import Evaluator
from earmark.evaluation.examples import CaseResult, run_case, run_examples
from earmark.rulepack.loader import load_pack

CASES = load_pack(BUNDLED_RULES).examples


@pytest.fixture(scope="module")
def results(evaluator: Evaluator) -> dict[str, CaseResult]:
    """Every case run together, as `earmark test` does (cases may compare with each other)."""
    return {r.case.name: r for r in run_examples(evaluator)}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_example_case(results: dict[str, CaseResult], case) -> None:
    result = results[case.name]
    assert () == result.failures, f"{case.location}: {case.name}"


def test_the_pack_ships_at_least_fifteen_cases_covering_both_categories(evaluator: Evaluator) -> None:
    results = run_examples(evaluator)
    assert len(results) >= 15
    assert {"headphones", "headset", "unclassified"} <= {r.case.category for r in results}


def test_a_wrong_expectation_is_reported_with_what_came_out(evaluator: Evaluator) -> None:
    case = next(c for c in CASES if c.category == "headset")
    wrong = replace(
        case,
        category="headphones",
        fired=("no-mic-cannot-talk",),
        explanation_has=("tuba",),
        explanation_lacks=("BOOM MIC", "kazoo"),
    )
    failures = run_case(evaluator, wrong).failures
    assert "expected category headphones, got headset" in failures
    assert "expected rule no-mic-cannot-talk to fire; it did not" in failures
    assert "expected the explanations to mention 'tuba'" in failures
    assert "expected no explanation to say 'BOOM MIC'; one does" in failures  # case aside
    assert not any("kazoo" in failure for failure in failures)
