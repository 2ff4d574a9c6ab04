"""`earmark score` on one machine: a catalog (JSON Lines or Parquet) cut into partitions,
scored on every usable core, each partition kept as a Parquet file as soon as it is done,
so a job that is stopped halfway starts again where it stopped.

The cores are used through the standard library's process pool, each process compiling the
pack once (durable_rules holds the GIL: threads add nothing). Past one machine the same
ArrowScorer runs under Ray Data or Spark (ray_job.py, spark_job.py); this module is what a
single machine needs, not a scheduler of its own.

A job's partitions live in OUT.parts/ beside the output, with job.json saying what they
were scored from: the catalog (path, size, change time), the partition size, the pack's
digest, the locale and whether words were asked for. A rerun with the same job resumes;
with anything else it refuses, rather than mix two jobs' rows in one output.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from tqdm import tqdm

from earmark.bulk.arrow_scoring import ArrowScorer, products_from_lines

MAX_INVALID_SHOWN = 20


@dataclass(frozen=True)
class JobSpec:
    catalog: str
    catalog_bytes: int
    catalog_mtime_ns: int
    partition_rows: int
    pack_digest: str
    locale: str | None
    explanations: bool


@dataclass
class Summary:
    products: int = 0
    invalid: int = 0
    invalid_rows: list[dict[str, Any]] = field(default_factory=list)  # the first few: line, id, error
    partitions: int = 0
    resumed_partitions: int = 0  # done by an earlier run, not scored again
    seconds: float = 0.0
    pack_version: str = ""

    @property
    def per_second(self) -> float:
        return self.products / self.seconds if self.seconds else 0.0


class JobMismatch(Exception):
    """Raised when OUT.parts/ holds partitions of a different job."""


def run_job(
    catalog: Path,
    out: Path,
    pack: Path,
    *,
    workers: int,
    partition_rows: int = 10_000,
    locale: str | None = None,
    explanations: bool = False,
    pin: str | None = None,
    progress: bool = True,
) -> Summary:
    started = time.monotonic()
    probe = ArrowScorer.from_directory(pack, locale=locale, explanations=explanations, pin=pin)
    try:
        version, digest, schema = probe.evaluator.pack.version, probe.evaluator.pack.digest, probe.schema
    finally:
        probe.close()
    status = catalog.stat()
    spec = JobSpec(
        str(catalog.resolve()),
        status.st_size,
        status.st_mtime_ns,
        partition_rows,
        digest,
        locale,
        explanations,
    )
    parts = _parts_folder(out, spec)
    total = _count_rows(catalog)
    count = -(-total // partition_rows) if total else 0
    done = {i for i in range(count) if _part(parts, i).exists()}
    summary = Summary(partitions=count, resumed_partitions=len(done), pack_version=version)
    bar = tqdm(total=total, unit=" products", disable=not progress, smoothing=0.1, dynamic_ncols=True)
    bar.update(sum(min(partition_rows, total - i * partition_rows) for i in done))
    with ProcessPoolExecutor(
        max_workers=workers, initializer=_start_worker, initargs=(str(pack), locale, explanations, pin)
    ) as pool:
        pending: set[Future[int]] = set()
        for index, table in _partitions(catalog, partition_rows):
            if index in done:
                continue
            pending.add(pool.submit(_score_partition, index, table, str(_part(parts, index))))
            if len(pending) >= workers * 2:  # bounded: the catalog is read as fast as it is scored
                pending = _collect(pending, bar, FIRST_COMPLETED)
        _collect(pending, bar, None)
    bar.close()
    _combine(parts, count, out, schema, summary)
    shutil.rmtree(parts)
    summary.seconds = time.monotonic() - started
    return summary


# ---- partitions --------------------------------------------------------------------------


def _parts_folder(out: Path, spec: JobSpec) -> Path:
    parts = out.with_name(out.name + ".parts")
    recorded = parts / "job.json"
    if recorded.exists():
        if json.loads(recorded.read_text()) != asdict(spec):
            raise JobMismatch(
                f"{parts} holds partitions of another job (another catalog, pack or setting); "
                "remove it to start over"
            )
        return parts
    parts.mkdir(parents=True, exist_ok=True)
    recorded.write_text(json.dumps(asdict(spec), indent=1))
    return parts


def _part(parts: Path, index: int) -> Path:
    return parts / f"part-{index:06d}.parquet"


def _count_rows(catalog: Path) -> int:
    if catalog.suffix == ".parquet":
        return int(pq.ParquetFile(catalog).metadata.num_rows)
    with catalog.open("rb") as data:
        return sum(1 for line in data if line.strip())


def _partitions(catalog: Path, rows: int) -> Iterator[tuple[int, pa.Table]]:
    """The catalog in tables of `rows` products: id, specs_json and line. A JSON Lines line
    that is not a product still makes a row, whose specs say why (an error row)."""
    if catalog.suffix == ".parquet":
        line = 1
        for index, batch in enumerate(pq.ParquetFile(catalog).iter_batches(batch_size=rows)):
            table = pa.Table.from_batches([batch])
            table = table.append_column("line", pa.array(range(line, line + len(table)), pa.int64()))
            line += len(table)
            yield index, table
        return
    lines: list[bytes] = []
    numbers: list[int] = []
    index = 0
    with catalog.open("rb") as data:
        for number, raw in enumerate(data, start=1):
            if not raw.strip():
                continue
            lines.append(raw)
            numbers.append(number)
            if len(lines) == rows:
                yield index, products_from_lines(lines, numbers)
                lines, numbers, index = [], [], index + 1
    if lines:
        yield index, products_from_lines(lines, numbers)


# ---- the worker processes ----------------------------------------------------------------

# One compiled pack per worker process: built by the pool's initializer, used by every
# partition that process scores. It is that process's live pack, and nothing else's.
_scorer: ArrowScorer | None = None


def _start_worker(pack: str, locale: str | None, explanations: bool, pin: str | None) -> None:
    global _scorer
    _scorer = ArrowScorer.from_directory(Path(pack), locale=locale, explanations=explanations, pin=pin)


def _score_partition(index: int, table: pa.Table, path: str) -> int:
    """Score one partition and keep it (written aside, then renamed: a part file that
    exists is whole). Returns its size."""
    assert _scorer is not None
    scored = _scorer.score(table)
    staged = f"{path}.{os.getpid()}.tmp"
    pq.write_table(scored, staged)
    os.replace(staged, path)
    return len(table)


def _collect(pending: set[Future[int]], bar: tqdm[Any], until: str | None) -> set[Future[int]]:
    finished, still = wait(pending, return_when=until or "ALL_COMPLETED")
    for future in finished:
        bar.update(future.result())
    return still


# ---- the output --------------------------------------------------------------------------


def _combine(parts: Path, count: int, out: Path, schema: pa.Schema, summary: Summary) -> None:
    """The partitions in catalog order, as one Parquet or JSON Lines file (by OUT's
    suffix), written aside and renamed: OUT is either whole or absent. The invalid rows
    are counted here, from every partition, those an earlier run scored included."""
    staged = out.with_name(out.name + ".tmp")
    parquet = out.suffix == ".parquet"
    with ExitStack() as files:
        writer = files.enter_context(pq.ParquetWriter(staged, schema)) if parquet else None
        lines = None if parquet else files.enter_context(staged.open("wb"))
        for index in range(count):
            table = pq.read_table(_part(parts, index), schema=schema)
            summary.products += len(table)
            errors = table.filter(pc.is_valid(table.column("error"))).select(["line", "id", "error"])
            summary.invalid += len(errors)
            room = max(0, MAX_INVALID_SHOWN - len(summary.invalid_rows))
            summary.invalid_rows += errors.slice(0, room).to_pylist()
            if writer is not None:
                writer.write_table(table)
            else:
                assert lines is not None
                for row in table.to_pylist():
                    lines.write(orjson.dumps(row) + b"\n")
    os.replace(staged, out)
