"""The engine-neutral scorer (bulk/arrow_scoring.py): a batch as an Arrow table gets, row
for row, what Evaluate answers over a real channel; a product the pack refuses, or a row
that is not a product, comes back with its error; a job pinned to another pack refuses."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.json as pa_json
import pytest

from earmark.bulk.arrow_scoring import ArrowScorer, WrongPack, products_from_lines
from earmark.config import BUNDLED_RULES
from earmark.evaluation.catalog import read_catalog
from earmark.evaluation.evaluator import Evaluator
from earmark.server.live import LivePack
from earmark.v1 import earmark_pb2 as pb

from helpers import EXAMPLES, product, serving

CATALOG = EXAMPLES / "catalog.jsonl"


def _catalog_table() -> pa.Table:
    with CATALOG.open() as lines:
        products = list(read_catalog(lines))
    return pa.table(
        {
            "id": [p.id for p in products],
            "specs_json": [json.dumps(p.specs) for p in products],
            "line": [p.line for p in products],
        }
    )


@pytest.fixture(scope="module")
def scorer() -> ArrowScorer:
    return ArrowScorer.from_directory(BUNDLED_RULES, locale="de", explanations=True)


def test_every_row_is_what_evaluate_answers_over_a_real_channel(
    evaluator: Evaluator, scorer: ArrowScorer
) -> None:
    scored = scorer.score(_catalog_table()).to_pylist()
    with CATALOG.open() as lines:
        products = list(read_catalog(lines))
    with serving(LivePack(evaluator)) as server:
        for row, item in zip(scored, products, strict=True):
            answer = server.stub.Evaluate(
                pb.EvaluateRequest(product=product(item.id, item.specs), locale="de")
            )
            verdict = answer.verdict
            assert (row["id"], row["category"], row["label"]) == (item.id, verdict.category, verdict.label)
            assert {s.use_case: s.score for s in verdict.scores} == {
                u.id: row[f"score_{u.id}"] for u in evaluator.pack.use_cases
            }
            assert verdict.explanation == row["explanation"]
            assert {s.use_case: s.explanation for s in verdict.scores} == {
                u.id: row[f"why_{u.id}"] for u in evaluator.pack.use_cases
            }
            assert list(verdict.warnings) == row["warnings"]
            assert (verdict.ruleset_version, None) == (row["pack_version"], row["error"])
    assert len(scored) == len(products) > 200


def test_specs_as_a_struct_column_score_as_specs_as_json_do(scorer: ArrowScorer) -> None:
    """What Arrow's and Ray's JSON readers give: one struct, null where a listing leaves
    a spec out."""
    as_struct = pa_json.read_json(CATALOG)
    by_json = scorer.score(_catalog_table()).drop_columns(["line"])
    assert by_json.equals(scorer.score(as_struct).drop_columns(["line"]))


def test_a_refused_product_and_a_row_that_is_not_one_come_back_with_their_errors(scorer: ArrowScorer) -> None:
    batch = pa.table(
        {
            "id": ["ok", "refused", "broken"],
            "specs_json": ['{"mic": "boom"}', '{"mic": "boom_arm"}', None],
            "line": [1, 2, 3],
            "input_error": [None, None, "not JSON (unexpected character)"],
        }
    )
    rows = scorer.score(batch).to_pylist()
    assert [1, 2, 3] == [r["line"] for r in rows]  # none dropped, in order
    assert (None, "headset") == (rows[0]["error"], rows[0]["category"])
    assert re.search(r"specs\.mic.*boom_arm", rows[1]["error"] or ""), rows[1]["error"]
    assert (None, None) == (rows[1]["category"], rows[1]["score_music"])
    assert "not JSON (unexpected character)" == rows[2]["error"]
    assert all(r["pack_version"].startswith("audio-") for r in rows)


def test_a_job_pinned_to_another_version_refuses_to_start(pack_copy: Path) -> None:
    scorer = ArrowScorer.from_directory(pack_copy)
    version, digest = scorer.evaluator.pack.version, scorer.evaluator.pack.digest
    scorer.close()
    assert version == f"audio-{digest[:12]}"
    ArrowScorer.from_directory(pack_copy, pin=digest).close()  # the full digest pins as well
    with pytest.raises(
        WrongPack, match=re.escape(f"pinned to audio-000000000000, but {pack_copy} holds {version}")
    ):
        ArrowScorer.from_directory(pack_copy, pin="audio-000000000000")


def test_lines_that_are_not_products_become_rows_that_say_why(scorer: ArrowScorer) -> None:
    lines = ['{"id": "a", "specs": {"mic": "boom"}}', "null", "{oops", '{"id": "b", "specs": [1]}', '["x"]']
    rows = scorer.score(products_from_lines(lines, [1, 2, 3, 4, 5])).to_pylist()
    assert [("a", None)] == [(r["id"], r["error"]) for r in rows if not r["error"]]
    assert ["line-2", "line-3", "line-4", "line-5"] == [r["id"] for r in rows if r["error"]]
    assert rows[2]["error"].startswith("not JSON")
    assert all("not a product" in rows[i]["error"] for i in (1, 3, 4))
