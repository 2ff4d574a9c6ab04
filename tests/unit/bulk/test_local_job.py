"""`earmark score` on one machine (bulk/local_job.py): the output is the scorer's rows in
catalog order, as Parquet or JSON Lines; a job killed halfway, run again, scores only the
partitions it had not finished; a different job over the same output refuses to resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq
import pytest

from earmark.bulk.arrow_scoring import ArrowScorer
from earmark.bulk.local_job import JobMismatch, run_job
from earmark.config import BUNDLED_RULES
from earmark.evaluation.catalog import read_catalog

from helpers import EXAMPLES, ROOT, wait_for

CATALOG = EXAMPLES / "catalog.jsonl"


def _catalog(path: Path, size: int, *, broken_line: int | None = None) -> Path:
    """The sample catalog repeated to `size` products with distinct ids; one line not JSON."""
    with CATALOG.open() as lines:
        base = list(read_catalog(lines))
    with path.open("w") as out:
        for i in range(size):
            if i + 1 == broken_line:
                out.write("{not json\n")
                continue
            item = base[i % len(base)]
            out.write(
                json.dumps({"id": f"{item.id}-{i}", "specs": {**item.specs, "price_usd": 20 + i % 300}})
                + "\n"
            )
    return path


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def _expected(path: Path) -> list[dict[str, object]]:
    scorer = ArrowScorer.from_directory(BUNDLED_RULES)
    try:
        with path.open() as lines:  # the lines that are products
            products = list(read_catalog(line if line.startswith('{"') else "\n" for line in lines))
        table = pa.table(
            {
                "id": [p.id for p in products],
                "specs_json": [json.dumps(p.specs) for p in products],
                "line": [p.line for p in products],
            }
        )
        return scorer.score(table).to_pylist()
    finally:
        scorer.close()


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl"])
def test_the_output_is_every_product_in_catalog_order_with_invalid_rows_kept(
    tmp_path: Path, suffix: str
) -> None:
    catalog = _catalog(tmp_path / "catalog.jsonl", 530, broken_line=77)
    out = tmp_path / f"scores{suffix}"
    summary = run_job(catalog, out, BUNDLED_RULES, workers=2, partition_rows=100, progress=False)
    rows = (
        pq.read_table(out).to_pylist()
        if suffix == ".parquet"
        else [json.loads(line) for line in out.read_text().splitlines()]
    )
    assert 530 == summary.products == len(rows)
    assert [r["line"] for r in rows] == list(range(1, 531))
    (broken,) = [r for r in rows if r["error"]]
    assert (77, "line-77") == (broken["line"], broken["id"]) and broken["error"].startswith("not JSON")
    assert [{"line": 77, "id": "line-77", "error": broken["error"]}] == summary.invalid_rows
    good = [r for r in rows if not r["error"]]
    assert good == _expected(catalog)
    assert not (tmp_path / f"scores{suffix}.parts").exists()  # kept only until the job is done


def test_a_job_killed_halfway_finishes_without_scoring_its_finished_partitions_again(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path / "catalog.jsonl", 6000)
    out = tmp_path / "scores.parquet"
    parts = tmp_path / "scores.parquet.parts"
    command = [sys.executable, "-m", "earmark", "score", str(BUNDLED_RULES), "--catalog", str(catalog)]
    command += ["--out", str(out), "--workers", "1", "--partition-rows", "200", "--quiet"]
    first = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert wait_for(lambda: len(list(parts.glob("part-*.parquet"))) >= 3, 120), first.communicate(
            timeout=5
        )
    finally:  # the job and its worker processes at once, as a crash or an OOM kill would
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(30)
    assert wait_for(lambda: not _group_alive(first.pid), 30)  # the workers too, not only the parent
    done = sorted(parts.glob("part-*.parquet"))
    assert 3 <= len(done) < 30 and not out.exists()
    # Mark a finished partition: if the rerun scored it again, the mark would be gone.
    marked = pq.read_table(done[0])
    marked = marked.set_column(
        marked.schema.get_field_index("label"), "label", pa.array(["kept"] * len(marked))
    )
    pq.write_table(marked, done[0])
    time.sleep(0.01)
    second = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    assert f"{len(done)} of 30 partitions were already done" in second.stdout, second.stdout
    rows = pq.read_table(out).to_pylist()
    assert 6000 == len(rows) and [r["line"] for r in rows] == list(range(1, 6001))
    assert ["kept"] * 200 == [r["label"] for r in rows[:200]]
    assert rows[200:] == _expected(catalog)[200:]


def test_a_different_job_over_the_same_output_refuses_to_resume(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path / "catalog.jsonl", 50)
    parts = tmp_path / "scores.parquet.parts"
    parts.mkdir()
    (parts / "job.json").write_text(json.dumps({"catalog": "elsewhere"}))
    with pytest.raises(JobMismatch, match="holds partitions of another job"):
        run_job(catalog, tmp_path / "scores.parquet", BUNDLED_RULES, workers=1, progress=False)


def test_a_parquet_catalog_with_a_specs_struct_scores_as_its_json_lines_do(tmp_path: Path) -> None:
    """Parquet in: an `id` column and `specs` as the struct Arrow's JSON reader makes."""
    catalog = _catalog(tmp_path / "catalog.jsonl", 300)
    as_parquet = tmp_path / "catalog.parquet"
    pq.write_table(pa_json.read_json(catalog), as_parquet)
    run_job(
        as_parquet,
        tmp_path / "from-parquet.parquet",
        BUNDLED_RULES,
        workers=1,
        partition_rows=128,
        progress=False,
    )
    run_job(
        catalog, tmp_path / "from-lines.parquet", BUNDLED_RULES, workers=1, partition_rows=128, progress=False
    )
    assert pq.read_table(tmp_path / "from-lines.parquet").equals(
        pq.read_table(tmp_path / "from-parquet.parquet")
    )


def test_the_command_refuses_a_pack_that_is_not_the_pinned_version(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path / "catalog.jsonl", 10)
    command = [sys.executable, "-m", "earmark", "score", str(BUNDLED_RULES), "--catalog", str(catalog)]
    command += ["--out", str(tmp_path / "scores.parquet"), "--pin", "audio-000000000000"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert 1 == done.returncode
    assert (
        "the job is pinned to audio-000000000000, but" in done.stderr and "nothing was scored" in done.stderr
    )
    assert not (tmp_path / "scores.parquet").exists()
