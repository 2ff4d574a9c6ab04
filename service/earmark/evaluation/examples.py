"""Running a pack's example cases through the real validator, engine and composer, and the
gate every pack passes before it goes live: at start-up, on a reload, and on publish."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from pathlib import Path

from earmark.diagnostics import Problem
from earmark.errors import EarmarkError, PackError
from earmark.evaluation.evaluator import Evaluator
from earmark.evaluation.verdict import FIT, Verdict
from earmark.rulepack.model import ExampleCase, Rule, ScoreExpectation

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
    """Every case of the pack. All are evaluated first, so that one case can compare its
    scores with another's ("music > sony-xm5.music")."""
    verdicts = [(case, _evaluate(evaluator, case)) for case in evaluator.pack.examples]
    by_id = {case.id: _values(v) for case, v in verdicts if case.id and isinstance(v, Verdict)}
    return [_result(case, verdict, by_id) for case, verdict in verdicts]


def run_case(evaluator: Evaluator, case: ExampleCase) -> CaseResult:
    """One case on its own (comparisons with other cases are run by run_examples)."""
    return _result(case, _evaluate(evaluator, case), {})


def unexercised_rules(evaluator: Evaluator, results: list[CaseResult]) -> list[Rule]:
    """The rules that no example case makes fire, in pack order."""
    exercised = {rule.id for result in results if result.verdict for rule in result.verdict.fired}
    return [rule for rule in evaluator.pack.rules if rule.id not in exercised]


def _evaluate(evaluator: Evaluator, case: ExampleCase) -> Verdict | str:
    try:
        return evaluator.verdict_for(case.name, case.product, case.shopper, case.locale)
    except EarmarkError as exc:
        return f"the product or shopper is invalid: {exc.message}"


def _result(case: ExampleCase, verdict: Verdict | str, others: dict[str, dict[str, int]]) -> CaseResult:
    if isinstance(verdict, str):
        return CaseResult(case, (verdict,), None)
    return CaseResult(case, tuple(_failures(case, verdict, others)), verdict)


def _values(verdict: Verdict) -> dict[str, int]:
    values = {s.use_case.id: s.value for s in verdict.scores}
    if verdict.fit is not None:
        values[FIT] = verdict.fit.value
    return values


def _failures(case: ExampleCase, verdict: Verdict, others: dict[str, dict[str, int]]) -> list[str]:
    failures = []
    if case.category is not None and case.category != verdict.category:
        failures.append(f"expected category {case.category}, got {verdict.category}")
    values = _values(verdict)
    for expectation in case.scores:
        failure = _check(expectation, values, others)
        if failure:
            failures.append(failure)
    fired = {r.id for r in verdict.fired}
    for rule_id in case.fired:
        if rule_id not in fired:
            failures.append(f"expected rule {rule_id} to fire; it did not")
    for rule_id in case.not_fired:
        if rule_id in fired:
            failures.append(f"expected rule {rule_id} not to fire; it did")
    texts = [verdict.explanation, *(s.explanation for s in verdict.scores)]
    if verdict.fit is not None:
        texts.append(verdict.fit.explanation)
    text = " ".join(texts).lower()
    for words in case.explanation_has:
        if words.lower() not in text:
            failures.append(f"expected the explanations to mention {words!r}")
    for words in case.explanation_lacks:
        if words.lower() in text:
            failures.append(f"expected no explanation to say {words!r}; one does")
    return failures


def _check(
    expectation: ScoreExpectation, values: dict[str, int], others: dict[str, dict[str, int]]
) -> str | None:
    left = values.get(expectation.left)
    shown = f"{expectation.left} = {left}"
    if expectation.other_case is not None:
        other = others.get(expectation.other_case)
        if other is None:
            return f"cannot check {expectation.text}: case {expectation.other_case} has no verdict"
        right: float | None = other.get(str(expectation.right))
        shown += f", {expectation.other_case}.{expectation.right} = {right}"
    elif isinstance(expectation.right, str):
        right = values.get(expectation.right)
        shown += f", {expectation.right} = {right}"
    else:
        right = expectation.right
    if left is None or right is None:
        return f"cannot check {expectation.text}: no fit without a shopper"
    if _OPERATORS[expectation.op](left, right):
        return None
    return f"expected {expectation.text}, got {shown}"


def load_checked(directory: Path) -> Evaluator:
    """A pack that loads, compiles and passes its own example cases; else PackError."""
    evaluator = Evaluator.from_directory(directory)
    failures = [
        Problem(r.case.location, "example-failed", f"{r.case.name}: {failure}")
        for r in run_examples(evaluator)
        for failure in r.failures
    ]
    if failures:
        evaluator.close()
        raise PackError(failures)
    return evaluator
