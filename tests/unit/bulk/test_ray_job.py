"""Ray's side of bulk scoring (bulk/ray_job.py), without a cluster: the callable class
each actor builds scores Ray's text batches as the scorer does, and a wrong pin stops the
job before Ray does any work. The real local-mode run is tests/e2e/test_bulk_engines.py."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pytest

from earmark.bulk.arrow_scoring import ArrowScorer, WrongPack, products_from_lines
from earmark.bulk.ray_job import ScoreLines, score_with_ray
from earmark.config import BUNDLED_RULES

from helpers import EXAMPLES


def test_an_actor_scores_a_batch_of_text_lines_as_the_scorer_does() -> None:
    lines = [*(EXAMPLES / "catalog.jsonl").read_text().splitlines()[:40], "{not json"]
    actor = ScoreLines(str(BUNDLED_RULES), None, False, None)
    scorer = ArrowScorer.from_directory(BUNDLED_RULES)
    try:
        scored = actor(pa.table({"text": lines}))
        assert scorer.score(products_from_lines(lines)).equals(scored)
        assert 41 == len(scored) and scored.column("error").to_pylist()[-1].startswith("not JSON")
    finally:
        actor.scorer.close()
        scorer.close()


def test_a_wrong_pin_stops_the_job_before_ray_reads_anything(tmp_path: Path) -> None:
    with pytest.raises(WrongPack, match=re.escape("pinned to audio-000000000000")):
        score_with_ray("/nonexistent", str(tmp_path), BUNDLED_RULES, actors=1, pin="audio-000000000000")
