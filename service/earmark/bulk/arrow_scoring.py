"""Scoring a batch of products given as an Arrow table, the one function every bulk engine
runs: the local job (local_job.py), Ray Data's map_batches and Spark's mapInArrow each hand
it a batch and get a batch back.

A product is checked and evaluated exactly as `Evaluate` does it (Evaluator.subject_for,
then the same verdict), so a row here says what the service would answer. A product the
pack refuses comes back as a row with its error, never dropped: a nightly feed that
silently loses rows is worse than one that says which rows it could not score.

Input columns:
- `id` (string): the product id;
- `specs` (struct or map: Parquet and Arrow readers give a struct) or `specs_json` (a JSON
  object as text: exact for catalogs whose specs mix types under one name);
- `line` (integer, optional): where the product was in its file, reported with errors;
- `input_error` (string, optional): why a reader could not make a product of that row
  (a line that is not JSON); the row comes back with that error.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from earmark.errors import EarmarkError
from earmark.evaluation.evaluator import Evaluator
from earmark.evaluation.request_notes import RequestNotes
from earmark.evaluation.verdict import Verdict
from earmark.rulepack.model import Pack


class WrongPack(Exception):
    """Raised when a job pinned to one published version finds another pack."""


def output_schema(pack: Pack, *, explanations: bool) -> pa.Schema:
    """The columns a scored batch has: one score per use case, in the pack's order."""
    fields = [
        pa.field("id", pa.string()),
        pa.field("line", pa.int64()),
        pa.field("category", pa.string()),
        pa.field("label", pa.string()),
        *[pa.field(f"score_{u.id}", pa.int16()) for u in pack.use_cases],
    ]
    if explanations:
        fields.append(pa.field("explanation", pa.string()))
        fields += [pa.field(f"why_{u.id}", pa.string()) for u in pack.use_cases]
    fields += [
        pa.field("warnings", pa.list_(pa.string())),
        pa.field("error", pa.string()),
        pa.field("pack_version", pa.string()),
        pa.field("pack_digest", pa.string()),
    ]
    return pa.schema(fields)


@dataclass
class ArrowScorer:
    """One compiled pack, scoring batches. Build it once per process or actor: compiling
    the pack is the expensive part."""

    evaluator: Evaluator
    locale: str | None = None
    explanations: bool = False

    @classmethod
    def from_directory(
        cls, pack: Path, *, locale: str | None = None, explanations: bool = False, pin: str | None = None
    ) -> ArrowScorer:
        evaluator = Evaluator.from_directory(pack)
        if pin and pin not in (evaluator.pack.version, evaluator.pack.digest):
            found = evaluator.pack.version
            evaluator.close()
            raise WrongPack(f"the job is pinned to {pin}, but {pack} holds {found}; nothing was scored")
        return cls(evaluator, locale, explanations)

    @property
    def schema(self) -> pa.Schema:
        return output_schema(self.evaluator.pack, explanations=self.explanations)

    def score(self, batch: pa.Table | pa.RecordBatch) -> pa.Table:
        ids = batch.column("id").to_pylist()
        lines = batch.column("line").to_pylist() if "line" in batch.schema.names else [None] * len(ids)
        specs = _specs_of(batch)
        if "input_error" in batch.schema.names:  # rows a reader could not make a product of
            for i, problem in enumerate(batch.column("input_error").to_pylist()):
                if problem is not None:
                    specs[i] = problem
        columns: dict[str, list[Any]] = {name: [] for name in self.schema.names}
        pack = self.evaluator.pack
        for product_id, line, product_specs in zip(ids, lines, specs, strict=True):
            self._row(columns, str(product_id) if product_id is not None else "", line, product_specs, pack)
        return pa.table(columns, schema=self.schema)

    def _row(
        self, columns: dict[str, list[Any]], product_id: str, line: int | None, specs: Any, pack: Pack
    ) -> None:
        notes = RequestNotes(self.evaluator.validator, strict=False)
        verdict: Verdict | None = None
        error = None
        if isinstance(specs, str):  # a specs_json cell that is not an object
            error = specs
        else:
            try:
                subject = self.evaluator.subject_for(product_id, specs, locale=self.locale, notes=notes)
                verdict = self.evaluator.evaluate(subject, words=self.explanations)
            except EarmarkError as exc:
                error = exc.message
        columns["id"].append(product_id)
        columns["line"].append(line)
        columns["category"].append(verdict.category if verdict else None)
        columns["label"].append(verdict.label if verdict else None)
        by_use_case = {s.use_case.id: s for s in verdict.scores} if verdict else {}
        for use_case in pack.use_cases:
            score = by_use_case.get(use_case.id)
            columns[f"score_{use_case.id}"].append(score.value if score else None)
        if self.explanations:
            columns["explanation"].append(verdict.explanation if verdict else None)
            for use_case in pack.use_cases:
                score = by_use_case.get(use_case.id)
                columns[f"why_{use_case.id}"].append(score.explanation if score else None)
        columns["warnings"].append(list(notes.warnings))
        columns["error"].append(error)
        columns["pack_version"].append(pack.version)
        columns["pack_digest"].append(pack.digest)

    def close(self) -> None:
        self.evaluator.close()


def products_from_lines(lines: Sequence[str | bytes], numbers: Sequence[int] | None = None) -> pa.Table:
    """JSON Lines, one `{"id": ..., "specs": {...}}` each, as the table `score` takes: a
    line that is not a product still makes a row, whose `input_error` says why. Text
    readers (Ray's read_text, Spark's read.text) hand lines over without their numbers."""
    columns: dict[str, list[Any]] = {"id": [], "specs_json": [], "line": [], "input_error": []}
    for i, raw in enumerate(lines):
        number = numbers[i] if numbers is not None else None
        fallback = f"line-{number}" if number is not None else f"row-{i}"
        problem: str | None = None
        try:
            item = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            item, problem = None, f"not JSON ({exc})"
        if problem is None and not (isinstance(item, dict) and isinstance(item.get("specs", {}), dict)):
            item, problem = None, 'not a product: expected {"id": ..., "specs": {...}}'
        columns["id"].append(str(item.get("id", fallback)) if item is not None else fallback)
        columns["specs_json"].append(
            orjson.dumps(item.get("specs", {})).decode() if item is not None else None
        )
        columns["line"].append(number)
        columns["input_error"].append(problem)
    return pa.table(
        columns,
        schema=pa.schema(
            [
                ("id", pa.string()),
                ("specs_json", pa.string()),
                ("line", pa.int64()),
                ("input_error", pa.string()),
            ]
        ),
    )


def _specs_of(batch: pa.Table | pa.RecordBatch) -> list[dict[str, Any] | str]:
    """Each row's specs as a dict, or a string saying why the row has none. A struct's
    null field is a spec the listing leaves out, as an absent key is in JSON."""
    names = batch.schema.names
    if "specs_json" in names:
        found: list[dict[str, Any] | str] = []
        for text in batch.column("specs_json").to_pylist():
            try:
                value = json.loads(text) if text is not None else {}  # None: input_error says why
            except ValueError as exc:
                found.append(f"specs_json is not JSON: {exc}")
                continue
            found.append(value if isinstance(value, dict) else "specs_json is not a JSON object")
        return found
    if "specs" not in names:
        raise ValueError(
            "a batch needs a 'specs' column (a struct or map) or a 'specs_json' column (JSON text)"
        )
    rows = batch.column("specs").to_pylist()
    return [
        {k: v for k, v in (row.items() if isinstance(row, dict) else row or []) if v is not None}
        for row in rows
    ]
