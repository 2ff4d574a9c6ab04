"""`earmark score` on this machine: products/s with one process and with one per core,
on a generated catalog of 200,000 products, side by side in the same run. The figure a
retailer plans a nightly feed with, and Ray Data's and Spark's local runs beside it."""

from __future__ import annotations

import json
import os
import sys
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
        ray_rate = _ray(catalog, Path(scratch) / "ray", cores)
        spark_rate = _spark(catalog, Path(scratch) / "spark", cores)
    lines = [
        f"bulk     earmark score, {PRODUCTS:,} products, {w} process{'es' if w > 1 else ''}: "
        f"{rate:8,.0f} products/s ({rate / w:,.0f} per core)"
        for w, rate in rates.items()
    ]
    if cores > 1:
        lines.append(f"bulk     scaling from 1 to {cores} processes: {rates[cores] / rates[1]:.2f}x")
    for engine, rate in (("Ray Data, local", ray_rate), (f"Spark, local[{cores}]", spark_rate)):
        lines.append(
            f"bulk     {engine}, {cores} cores: {rate:8,.0f} products/s, "
            f"{rate / rates[cores]:.2f}x the local job (the engine started before timing)"
        )
    return lines


def _ray(catalog: Path, out: Path, cores: int) -> float:
    import ray

    from earmark.bulk.ray_job import score_with_ray

    ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False)
    try:
        started = time.perf_counter()
        score_with_ray(str(catalog), str(out), BUNDLED_RULES, actors=cores, cpus_per_actor=0.5)
        return PRODUCTS / (time.perf_counter() - started)
    finally:
        ray.shutdown()


def _spark(catalog: Path, out: Path, cores: int) -> float:
    from pyspark.sql import SparkSession

    from earmark.bulk.spark_job import score_with_spark

    os.environ["PYSPARK_PYTHON"] = sys.executable
    spark = SparkSession.builder.master(f"local[{cores}]").config("spark.ui.enabled", "false").getOrCreate()
    try:
        spark.range(1).count()  # the JVM and a first job, before the clock starts
        started = time.perf_counter()
        score_with_spark(spark, str(catalog), str(out), BUNDLED_RULES)
        return PRODUCTS / (time.perf_counter() - started)
    finally:
        spark.stop()


if __name__ == "__main__":
    for line in report():
        print(line)
