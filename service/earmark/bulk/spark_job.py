"""Scoring a catalog on Spark, for shops that already run it: `mapInArrow` hands each
partition's rows to the same ArrowScorer as Arrow batches (no pandas in between), and the
pack is compiled once per Python worker, on its first batch.

Spark's Python workers must run the virtualenv's Python (PYSPARK_PYTHON), or they fail
with "No module named pyarrow".
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from earmark.bulk.arrow_scoring import ArrowScorer, output_schema, products_from_lines


def score_with_spark(
    spark: Any,
    catalog: str,
    out: str,
    pack: Path,
    *,
    locale: str | None = None,
    explanations: bool = False,
    pin: str | None = None,
    partitions: int | None = None,
) -> Any:
    """Score JSON Lines at `catalog` into Parquet under `out` with the SparkSession
    `spark`; returns the scored DataFrame. Rows come back in no particular order: each
    carries its product id."""
    from pyspark.sql.pandas.types import from_arrow_schema

    probe = ArrowScorer.from_directory(pack, pin=pin)  # a wrong pin fails here, on the driver
    schema = output_schema(probe.evaluator.pack, explanations=explanations)
    probe.close()
    settings = (str(pack), locale, explanations, pin)

    def score(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        scorer = ArrowScorer.from_directory(
            Path(settings[0]), locale=settings[1], explanations=settings[2], pin=settings[3]
        )
        try:
            for batch in batches:
                scored = scorer.score(products_from_lines(batch.column("value").to_pylist()))
                yield from scored.to_batches()
        finally:
            scorer.close()

    # One file is one partition to Spark until it passes 128 MB: spread the lines over
    # every core (each partition compiles the pack once, so not many more than cores).
    partitions = partitions or 2 * spark.sparkContext.defaultParallelism
    lines = spark.read.text(catalog).where("trim(value) != ''").repartition(partitions)
    scored = lines.mapInArrow(score, from_arrow_schema(schema))
    scored.write.mode("overwrite").parquet(out)
    return scored
