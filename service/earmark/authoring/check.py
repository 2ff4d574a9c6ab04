"""`earmark check`: every warning about a pack that loads, beyond the loader's own: rules
no example case makes fire, and schema files out of date with pack.yaml."""

from __future__ import annotations

from pathlib import Path

from earmark.authoring.schemas import stale_schemas
from earmark.diagnostics import Location, Problem
from earmark.evaluation.evaluator import Evaluator
from earmark.evaluation.examples import run_examples, unexercised_rules
from earmark.rulepack.files import display_path
from earmark.rulepack.json_schema import SCHEMA_DIR


def pack_warnings(evaluator: Evaluator, pack_dir: Path) -> list[Problem]:
    """The loader's warnings, a warning per rule no example case exercises, and one per
    stale schema file, sorted by file and line."""
    unexercised = [
        Problem(rule.location, "unexercised-rule", f"no example case makes '{rule.id}' fire", "warning")
        for rule in unexercised_rules(evaluator, run_examples(evaluator))
    ]
    return sorted([*evaluator.pack.warnings, *unexercised, *stale_schema_warnings(pack_dir)])


def stale_schema_warnings(pack_dir: Path) -> list[Problem]:
    """A warning per schema file that no longer matches pack.yaml (when the pack has them)."""
    if not (pack_dir / SCHEMA_DIR).is_dir():
        return []
    return [
        Problem(
            Location(display_path(pack_dir / name)),
            "stale-schema",
            f"out of date with pack.yaml, so editors complete old names; run `earmark schemas {pack_dir}`",
            "warning",
        )
        for name in stale_schemas(pack_dir)
    ]
