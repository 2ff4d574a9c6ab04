"""`earmark diff` over 10,000 products: what a merchandiser waits for before a publish."""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from common import HERE, big_catalog

from earmark.authoring.impact import compare
from earmark.config import BUNDLED_RULES
from earmark.evaluation.evaluator import Evaluator


def report(evaluator: Evaluator) -> list[str]:
    products, took = diff_bench(evaluator)
    return [f"diff     earmark diff of {products} products under two packs: {took:5.2f} s"]


def diff_bench(evaluator: Evaluator) -> tuple[int, float]:
    """`earmark diff` over 10,000 products (the sample catalog, repeated with varied prices),
    between the bundled pack and a copy with one rule changed."""
    catalog = big_catalog()
    with tempfile.TemporaryDirectory() as scratch:
        edited = Path(scratch) / "audio"
        shutil.copytree(BUNDLED_RULES, edited)
        sys.path.insert(0, str(HERE.parent / "tests"))  # the one helper that edits a pack
        from helpers import set_boom_meetings

        if set_boom_meetings(edited, 17) == 17:
            raise SystemExit("diff bench: the edit changed nothing; pick another amount")
        new = Evaluator.from_directory(edited)
        start = time.perf_counter()
        report = compare(evaluator, new, catalog)
        took = time.perf_counter() - start
        new.close()
    return report["products"], took
