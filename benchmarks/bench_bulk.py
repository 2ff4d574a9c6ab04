"""`earmark score` on this machine: products/s with one process and with one per core,
on a generated catalog of 200,000 products, side by side in the same run. The figure a
retailer plans a nightly feed with; Ray's and Spark's local runs will go beside it."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from common import big_catalog

from earmark.bulk.local_job import run_job
from earmark.config import BUNDLED_RULES, usable_cpus

PRODUCTS = int(os.environ.get("BENCH_BULK_PRODUCTS", "200000"))


def report() -> list[str]:
    cores = usable_cpus()[0]
    with tempfile.TemporaryDirectory() as scratch:
        catalog = Path(scratch) / "catalog.jsonl"
        with catalog.open("w") as out:
            # Weights and battery hours vary, as a real catalog's do: few verdicts repeat.
            for product in big_catalog(PRODUCTS, vary_what_is_read=True):
                out.write(json.dumps({"id": product.id, "specs": product.specs}) + "\n")
        rates = {}
        for workers in sorted({1, cores}):
            started = time.perf_counter()
            summary = run_job(
                catalog,
                Path(scratch) / f"scores-{workers}.parquet",
                BUNDLED_RULES,
                workers=workers,
                partition_rows=10_000,
                progress=False,
            )
            rates[workers] = summary.products / (time.perf_counter() - started)
    lines = [
        f"bulk     earmark score, {PRODUCTS:,} products, {w} process{'es' if w > 1 else ''}: "
        f"{rate:8,.0f} products/s ({rate / w:,.0f} per core)"
        for w, rate in rates.items()
    ]
    if cores > 1:
        lines.append(f"bulk     scaling from 1 to {cores} processes: {rates[cores] / rates[1]:.2f}x")
    return lines


if __name__ == "__main__":
    for line in report():
        print(line)
