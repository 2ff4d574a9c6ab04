"""Many threads calling at once: every answer belongs to its own request."""

from __future__ import annotations

import itertools
import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from earmark.evaluation.evaluator import Evaluator
from earmark.evaluation.examples import run_examples
from earmark.v1 import earmark_pb2 as pb

from helpers import RunningServer, evaluate_request, product

CALLS = 1500
THREADS = 16


def _fingerprint(verdict: pb.Verdict) -> tuple[Any, ...]:
    return (verdict.category, verdict.label, tuple(s.score for s in verdict.scores), verdict.explanation)


def test_parallel_calls_never_mix_up_results(evaluator: Evaluator, running: RunningServer) -> None:
    catalog = [r.case.product for r in run_examples(evaluator)] + [{}, {"price_usd": 3}]
    expected = {}
    for i, specs in enumerate(catalog):  # sequential answers first: the reference
        expected[i] = _fingerprint(running.stub.Evaluate(evaluate_request(str(i), specs)).verdict)
    assert len(set(expected.values())) > len(catalog) // 2, "the catalog should give varied verdicts"

    rng = random.Random(7)
    picks = [rng.randrange(len(catalog)) for _ in range(CALLS)]
    counter = itertools.count()

    def call(index: int) -> tuple[int, str, tuple[Any, ...]]:
        request_id = f"{index}-{next(counter)}"
        if index % 5 == 0:  # mix in batches
            items = running.stub.EvaluateBatch(
                pb.EvaluateBatchRequest(products=[product(f"{index}:{request_id}", catalog[index])])
            ).items
            return index, items[0].product_id, _fingerprint(items[0].verdict)
        verdict = running.stub.Evaluate(evaluate_request(f"{index}:{request_id}", catalog[index])).verdict
        return index, verdict.product_id, _fingerprint(verdict)

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(call, picks))
    assert CALLS == len(results)
    for index, product_id, fingerprint in results:
        assert product_id.startswith(f"{index}:")
        assert expected[index] == fingerprint
