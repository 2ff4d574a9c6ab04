"""Score a catalog with Spark: every product's scores, as Evaluate gives them.

    pip install 'earmark[engines]'   # on the driver and every executor's Python
    PYSPARK_PYTHON=/path/to/venv/bin/python \
        spark-submit examples/score_with_spark.py hdfs:///shop/catalog.jsonl hdfs:///shop/scores/

The pack folder must be readable by every executor at the same path. Executors run the
Python PYSPARK_PYTHON names: it must have earmark and pyarrow.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pyspark.sql import SparkSession

from earmark.bulk.spark_job import score_with_spark


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("catalog", help="JSON Lines, as Spark reads text (a file, a folder, hdfs://, s3a://)")
    parser.add_argument("out", help="where the Parquet files go")
    parser.add_argument("--pack", type=Path, default=Path("rules/audio"))
    parser.add_argument("--pin", help="the published version the job must use, e.g. audio-3fc4511575b4")
    parser.add_argument("--locale", help="add explanations in this language")
    args = parser.parse_args()
    spark = SparkSession.builder.appName("earmark-score").getOrCreate()
    try:
        score_with_spark(
            spark,
            args.catalog,
            args.out,
            args.pack,
            pin=args.pin,
            locale=args.locale,
            explanations=args.locale is not None,
        )
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
