"""Scoring a catalog on Ray Data, for catalogs past one machine. The same code runs in
local mode (the tests, `make bench`) and on a cluster (`ray.init(address=...)` first).

Each actor of map_batches builds one ArrowScorer, so the pack is compiled once per actor,
not per batch. On a two-core machine an actor must ask for less than one CPU: with the
default of one, the actors and Ray's read tasks wait on each other for ever (measured
here: "3/2 CPU" and no progress).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from earmark.bulk.arrow_scoring import ArrowScorer, products_from_lines


class ScoreLines:
    """The callable class Ray builds once per actor: a batch of JSON Lines (Ray's
    read_text gives them in a `text` column) in, a batch of scores out."""

    def __init__(self, pack: str, locale: str | None, explanations: bool, pin: str | None) -> None:
        self.scorer = ArrowScorer.from_directory(
            Path(pack), locale=locale, explanations=explanations, pin=pin
        )

    def __call__(self, batch: pa.Table) -> pa.Table:
        return self.scorer.score(products_from_lines(batch.column("text").to_pylist()))


def score_with_ray(
    catalog: str,
    out: str,
    pack: Path,
    *,
    actors: int,
    cpus_per_actor: float = 0.5,
    batch_rows: int = 10_000,
    locale: str | None = None,
    explanations: bool = False,
    pin: str | None = None,
) -> Any:
    """Score JSON Lines at `catalog` (a file, a folder or a URL Ray reads) into Parquet
    files under `out`, on the Ray cluster this process is connected to (a local one if
    none). Returns the dataset Ray wrote, for a caller that wants to count it."""
    import ray

    ArrowScorer.from_directory(pack, pin=pin).close()  # a wrong pin fails here, before the cluster works
    dataset = ray.data.read_text(catalog, drop_empty_lines=True).map_batches(
        ScoreLines,
        fn_constructor_kwargs={"pack": str(pack), "locale": locale, "explanations": explanations, "pin": pin},
        batch_format="pyarrow",
        batch_size=batch_rows,
        concurrency=actors,
        num_cpus=cpus_per_actor,
    )
    dataset.write_parquet(out)
    return dataset
