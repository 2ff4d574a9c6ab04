"""Running a pack's example cases through the real validator, engine and composer."""

from __future__ import annotations

import operator
from dataclasses import dataclass

from earmark.errors import EarmarkError
from earmark.evaluation import Evaluator
from earmark.rulepack.model import ExampleCase, ScoreExpectation
from earmark.validation import Subject
from earmark.verdict import FIT, Verdict

_OPERATORS = {">=": operator.ge, "<=": operator.le, "==": operator.eq, ">": operator.gt, "<": operator.lt}


@dataclass(frozen=True)
class CaseResult:
    case: ExampleCase
    failures: tuple[str, ...]
    verdict: Verdict | None

    @property
    def passed(self) -> bool:
        return not self.failures


def run_examples(evaluator: Evaluator) -> list[CaseResult]:
    return [run_case(evaluator, case) for case in evaluator.pack.examples]


def run_case(evaluator: Evaluator, case: ExampleCase) -> CaseResult:
    validator = evaluator.validator
    try:
        shopper = validator.shopper(case.shopper) if case.shopper is not None else None
        subject = Subject(case.name, validator.specs(case.product), shopper)
        verdict = evaluator.evaluate(subject)
    except EarmarkError as exc:
        return CaseResult(case, (f"the product or shopper is invalid: {exc.message}",), None)
    return CaseResult(case, tuple(_failures(case, verdict)), verdict)


def _failures(case: ExampleCase, verdict: Verdict) -> list[str]:
    failures = []
    if case.category is not None and case.category != verdict.category:
        failures.append(f"expected category {case.category}, got {verdict.category}")
    values = {s.use_case.id: s.value for s in verdict.scores}
    if verdict.fit is not None:
        values[FIT] = verdict.fit.value
    for expectation in case.scores:
        if not _holds(expectation, values):
            failures.append(f"expected {expectation.text}, got {_actual(expectation, values)}")
    fired = {r.id for r in verdict.fired}
    for rule_id in case.fired:
        if rule_id not in fired:
            failures.append(f"expected rule {rule_id} to fire; it did not")
    for rule_id in case.not_fired:
        if rule_id in fired:
            failures.append(f"expected rule {rule_id} not to fire; it did")
    text = " ".join(
        [
            verdict.explanation,
            *(s.explanation for s in verdict.scores),
            verdict.fit.explanation if verdict.fit else "",
        ]
    ).lower()
    for words in case.explanation_has:
        if words.lower() not in text:
            failures.append(f"expected the explanations to mention {words!r}")
    return failures


def _holds(expectation: ScoreExpectation, values: dict[str, int]) -> bool:
    right = values[expectation.right] if isinstance(expectation.right, str) else expectation.right
    return bool(_OPERATORS[expectation.op](values[expectation.left], right))


def _actual(expectation: ScoreExpectation, values: dict[str, int]) -> str:
    shown = f"{expectation.left} = {values[expectation.left]}"
    if isinstance(expectation.right, str):
        shown += f", {expectation.right} = {values[expectation.right]}"
    return shown
