"""durable_rules under threads: 8 threads x 20,000 evaluations, about 30% of them products
that match few rules (the crash path in the notes). No crash, no mixed-up result, and
memory flat once warm."""

from __future__ import annotations

import random
import threading

from earmark.evaluation.evaluator import Evaluator
from earmark.evaluation.examples import run_examples
from earmark.evaluation.validation import Subject

from helpers import rss_bytes

THREADS = 8
PER_THREAD = 20_000
SPARSE_SHARE = 0.3


def test_threads_hammering_the_engine(evaluator: Evaluator) -> None:
    validator = evaluator.validator
    rich = [validator.specs(r.case.product) for r in run_examples(evaluator) if r.case.product]
    sparse = [validator.specs(s) for s in ({}, {"price_usd": 12}, {"weight_g": 300}, {"codecs": ["sbc"]})]
    shopper = validator.shopper({"uses": ["calls"], "budget_usd": 100})
    catalog = [(s, None) for s in rich + sparse] + [(s, shopper) for s in rich[:3] + sparse[:2]]
    expected = [tuple(r.id for r in evaluator.rules.fired(s, sh)) for s, sh in catalog]
    sparse_indexes = [i for i, (s, _) in enumerate(catalog) if s in sparse]
    rich_indexes = [i for i in range(len(catalog)) if i not in sparse_indexes]
    assert any(len(e) <= 2 for e in expected), "some products should match few rules"

    errors: list[str] = []
    rss: dict[str, int] = {}
    barrier = threading.Barrier(THREADS)

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        barrier.wait()
        for n in range(PER_THREAD):
            if seed == 0 and n == PER_THREAD // 5:
                rss["warm"] = rss_bytes()
            i = rng.choice(sparse_indexes) if rng.random() < SPARSE_SHARE else rng.choice(rich_indexes)
            specs, who = catalog[i]
            verdict = evaluator.evaluate(Subject(f"p{i}", specs, who))
            got = tuple(r.id for r in verdict.fired)
            if got != expected[i] or verdict.product_id != f"p{i}":
                errors.append(f"product {i}: expected {expected[i]}, got {got}")

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    end = rss_bytes()
    print(
        f"\nstress: {THREADS * PER_THREAD} evaluations, rss warm {rss['warm'] / 2**20:.1f} MiB, end {end / 2**20:.1f} MiB"
    )
    assert [] == errors[:5]
    assert end - rss["warm"] < 16 * 2**20, "memory grew while the engine was warm"
