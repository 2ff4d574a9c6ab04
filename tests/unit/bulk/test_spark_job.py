"""Spark's side of bulk scoring (bulk/spark_job.py), without a JVM: the schema Spark is
promised is the scorer's own, and a wrong pin stops the job on the driver before Spark
does any work. The real local[2] run is tests/e2e/test_bulk_engines.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pyspark.sql.pandas.types import from_arrow_schema

from earmark.bulk.arrow_scoring import WrongPack, output_schema
from earmark.bulk.spark_job import score_with_spark
from earmark.config import BUNDLED_RULES
from earmark.rulepack.loader import load_pack


def test_spark_is_promised_the_scorers_columns_with_their_types() -> None:
    pack = load_pack(BUNDLED_RULES)
    schema = from_arrow_schema(output_schema(pack, explanations=True))
    types = {field.name: field.dataType.simpleString() for field in schema.fields}
    assert "smallint" == types["score_commute"] and "array<string>" == types["warnings"]
    assert [f"why_{u.id}" for u in pack.use_cases] == [n for n in types if n.startswith("why_")]


def test_a_wrong_pin_stops_the_job_before_spark_reads_anything(tmp_path: Path) -> None:
    with pytest.raises(WrongPack, match=re.escape("pinned to audio-000000000000")):
        score_with_spark(None, "/nonexistent", str(tmp_path), BUNDLED_RULES, pin="audio-000000000000")
