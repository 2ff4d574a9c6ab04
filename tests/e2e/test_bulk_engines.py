"""Issue 25's proof: the sample catalog scored by the local job, by Ray Data (local mode)
and by Spark (local[2]) gives, product for product, what Evaluate answers over a real
channel. A line that is not a product comes back from each with its error."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from earmark.bulk.local_job import run_job
from earmark.config import BUNDLED_RULES
from earmark.evaluation.evaluator import Evaluator
from earmark.server.live import LivePack
from earmark.v1 import earmark_pb2 as pb

from helpers import EXAMPLES, ROOT, product, serving

CATALOG = EXAMPLES / "catalog.jsonl"
BROKEN = "{this line is not JSON\n"


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample catalog with one line that is not a product in its middle."""
    lines = CATALOG.read_text().splitlines(keepends=True)
    path = tmp_path_factory.mktemp("bulk") / "catalog.jsonl"
    path.write_text("".join(lines[:100]) + BROKEN + "".join(lines[100:]))
    return path


@pytest.fixture(scope="module")
def answers(evaluator: Evaluator) -> dict[str, dict[str, Any]]:
    """What Evaluate answers for each product of the sample catalog, over a real channel."""
    found = {}
    with serving(LivePack(evaluator)) as server:
        for line in CATALOG.read_text().splitlines():
            item = json.loads(line)
            verdict = server.stub.Evaluate(
                pb.EvaluateRequest(product=product(item["id"], item["specs"]))
            ).verdict
            found[item["id"]] = {
                "category": verdict.category,
                "label": verdict.label,
                **{f"score_{s.use_case}": s.score for s in verdict.scores},
                "warnings": list(verdict.warnings),
                "pack_version": verdict.ruleset_version,
            }
    return found


def _check(rows: list[dict[str, Any]], answers: dict[str, dict[str, Any]]) -> None:
    errors = [r for r in rows if r["error"]]
    assert 1 == len(errors) and errors[0]["error"].startswith("not JSON"), errors
    scored = {r["id"]: {k: r[k] for k in next(iter(answers.values()))} for r in rows if not r["error"]}
    assert answers == scored


def test_the_local_job_gives_what_evaluate_answers(
    catalog: Path, answers: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "scores.parquet"
    run_job(catalog, out, BUNDLED_RULES, workers=2, partition_rows=64, progress=False)
    _check(pq.read_table(out).to_pylist(), answers)


def test_ray_data_gives_what_evaluate_answers(catalog: Path, answers: dict[str, Any], tmp_path: Path) -> None:
    """Through the example job, on a local Ray (no --address): 2 actors of half a CPU."""
    out = tmp_path / "ray-scores"
    _example("score_with_ray.py", catalog, out, "--actors", "2", "--cpus-per-actor", "0.5")
    _check(pq.read_table(out).to_pylist(), answers)


def test_spark_gives_what_evaluate_answers(catalog: Path, answers: dict[str, Any], tmp_path: Path) -> None:
    """Through the example job, on Spark's local master with this virtualenv's Python."""
    assert shutil.which("java"), "Spark needs a JVM: make install gets openjdk-17-jdk-headless"
    out = tmp_path / "spark-scores"
    _example("score_with_spark.py", catalog, out)
    _check(pq.read_table(out).to_pylist(), answers)


def _example(script: str, catalog: Path, out: Path, *args: str) -> None:
    environment = {
        **os.environ,
        "PYSPARK_PYTHON": sys.executable,  # Spark's workers need this virtualenv's pyarrow
        "PYSPARK_SUBMIT_ARGS": "--master local[2] --conf spark.ui.enabled=false pyspark-shell",
    }
    command = [
        sys.executable,
        str(ROOT / "examples" / script),
        str(catalog),
        str(out),
        "--pack",
        str(BUNDLED_RULES),
    ]
    done = subprocess.run(
        [*command, *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=240
    )
    assert 0 == done.returncode, done.stderr[-3000:]
