"""`earmark replay` (authoring/replay.py): logged decisions against a candidate pack. The
whole path, from a server's log under load to the report, is tests/e2e/test_decision_replay.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from earmark.authoring.replay import read_decisions, render, replay
from earmark.cli import main
from earmark.evaluation.evaluator import Evaluator

BOOM = {"form_factor": "over_ear", "mic": "boom"}


def _logged(evaluator: Evaluator, decision_id: str, specs: dict[str, Any], **changes: Any) -> str:
    """A decision-log line as the server writes it, for the verdict `evaluator` gives,
    with `changes` made to what was logged (as if an older pack had answered)."""
    verdict = evaluator.verdict_for(decision_id, specs, {"uses": ["meetings"]})
    line: dict[str, Any] = {
        "decision_id": decision_id,
        "pack": {"version": "audio-older", "digest": "0" * 64},
        "input": {
            "product": {"id": decision_id, "specs": specs},
            "shopper": {"uses": ["meetings"]},
            "locale": None,
        },
        "masked": [],
        "verdict": {
            "category": verdict.category,
            "scores": {s.use_case.id: s.value for s in verdict.scores},
            "fit": verdict.fit.value if verdict.fit else None,
        },
        "rules_fired": [r.id for r in verdict.fired],
    }
    for key, value in changes.items():
        if key == "meetings":
            line["verdict"]["scores"]["meetings"] = value
        else:
            line[key] = value
    return json.dumps(line)


def test_only_the_decisions_whose_verdict_differs_are_named(evaluator: Evaluator) -> None:
    lines = [
        _logged(evaluator, "same", BOOM),
        _logged(evaluator, "moved", BOOM, meetings=1),
    ]
    report = replay(evaluator, read_decisions(lines))
    assert report.decisions == 2 and report.unchanged == 1
    (change,) = report.changed
    assert change.decision_id == "moved"
    current = next(s.value for s in evaluator.verdict_for("x", BOOM).scores if s.use_case.id == "meetings")
    assert change.what == (f"meetings 1 -> {current}",)
    assert "1 would change, 1 would not, 0 would be refused" in render(report)


def test_a_masked_shopper_leaves_fit_out_of_the_comparison(evaluator: Evaluator) -> None:
    line = json.loads(_logged(evaluator, "masked", BOOM))
    line["verdict"]["fit"] = 3  # what the masked budget gave, which replay can't know
    line["masked"] = ["/shopper/budget_usd"]
    report = replay(evaluator, read_decisions([json.dumps(line)]))
    assert report.unchanged == 1 and report.masked == 1
    line["masked"] = []
    assert replay(evaluator, read_decisions([json.dumps(line)])).changed[0].what[0].startswith("fit 3 -> ")


def test_an_input_the_candidate_refuses_is_reported_not_fatal(evaluator: Evaluator) -> None:
    lines = [
        _logged(
            evaluator,
            "gone",
            BOOM,
            input={"product": {"id": "gone", "specs": {"form_factor": "on_the_moon"}}},
        ),
        _logged(evaluator, "ok", BOOM),
    ]
    report = replay(evaluator, read_decisions(lines))
    assert [r["decision_id"] for r in report.refused] == ["gone"]
    assert "on_the_moon" in report.refused[0]["error"]


def test_a_line_that_is_not_a_decision_is_named() -> None:
    with pytest.raises(ValueError, match="line 2: not a decision-log line"):
        list(read_decisions(["", '{"id": "p1", "specs": {}}']))
    with pytest.raises(ValueError, match="line 1: not JSON"):
        list(read_decisions(["{"]))


def test_the_command_exits_1_on_change_only_when_asked(evaluator: Evaluator, tmp_path: Any) -> None:
    from earmark.config import BUNDLED_RULES

    log = tmp_path / "decisions.jsonl"
    log.write_text(_logged(evaluator, "moved", BOOM, meetings=1) + "\n")
    runner = CliRunner()
    plain = runner.invoke(main, ["replay", str(log), "--pack", str(BUNDLED_RULES)])
    assert plain.exit_code == 0 and "moved (moved): meetings 1 -> " in plain.output
    strict = runner.invoke(main, ["replay", str(log), "--pack", str(BUNDLED_RULES), "--fail-on-change"])
    assert strict.exit_code == 1
