"""`earmark diff`: what a rule change does to a catalog, before it is published."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from earmark.cli import main

from helpers import EXAMPLES


def test_diff_previews_category_changes_and_score_shifts(pack_copy: Path) -> None:
    category = pack_copy / "category.yaml"
    category.write_text(
        category.read_text().replace("      category: unclassified\n", "      category: headphones\n")
    )
    talking = pack_copy / "talking.yaml"
    talking.write_text(
        talking.read_text().replace(
            "scores: {meetings: 15, calls: 8, call_center: 10}",
            "scores: {meetings: 20, calls: 8, call_center: 10}",
        )
    )
    examples = pack_copy / "examples" / "listening.yaml"
    examples.write_text(examples.read_text().replace("category: unclassified", "category: headphones"))
    args = ["diff", "rules/audio", str(pack_copy), "--catalog", str(EXAMPLES / "catalog.jsonl")]
    text = CliRunner().invoke(main, args)
    assert 0 == text.exit_code, text.output
    assert "compared 205 products" in text.output
    assert (
        "listing-without-mic-info: unclassified -> headphones (decided by unknown-mic-leaves-it-unclassified)"
        in text.output
    )
    assert "certified-for-meetings +5" in text.output
    report = json.loads(CliRunner().invoke(main, [*args, "--format", "json"]).output)
    changed = {c["id"] for c in report["category_changes"]}
    assert {"listing-without-mic-info", "listing-nearly-empty"} == changed
    meetings = next(u for u in report["use_cases"] if u["use_case"] == "meetings")
    assert meetings["largest_increase"]["shift"] == 3  # +5 raw, eased: every certified product is past 80
    assert all(m["rules"] == ["certified-for-meetings +5"] for m in meetings["top_movers"])
    assert report["explanations_changed"] >= 2
    # Every certified product's raw total moved by 5; above the soft ceiling's start each
    # shows less than that.
    assert {"5": meetings["raw_changed"]} == meetings["histogram"]["raw"]
    assert meetings["changed"] == sum(meetings["histogram"]["shown"].values()) <= meetings["raw_changed"]
    assert all(int(shift) < 5 for shift in meetings["histogram"]["shown"])


def test_diff_names_a_bad_catalog_line(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.jsonl"
    catalog.write_text('{"id": "a", "specs": {}}\n{not json\n')
    result = CliRunner().invoke(main, ["diff", "rules/audio", "rules/audio", "--catalog", str(catalog)])
    assert 2 == result.exit_code
    assert "line 2: not JSON" in result.output


def test_a_shift_the_soft_ceiling_damps_is_reported_beside_the_raw_one(pack_copy: Path) -> None:
    """A +5 Teams bonus used to report 'meetings 1 changed', although 8 certified products
    moved and were then capped at 100. Now certified products sit above the soft ceiling's
    start: each moves by less than 5, and the report says how many were damped."""
    talking = pack_copy / "talking.yaml"
    talking.write_text(
        talking.read_text().replace(
            "scores: {meetings: 15, calls: 8, call_center: 10}",
            "scores: {meetings: 20, calls: 8, call_center: 10}",
        )
    )
    args = [
        "diff",
        "rules/audio",
        str(pack_copy),
        "--catalog",
        str(EXAMPLES / "catalog.jsonl"),
        "--format",
        "json",
    ]
    report = json.loads(CliRunner().invoke(main, args).output)
    meetings = next(u for u in report["use_cases"] if u["use_case"] == "meetings")
    damped, moved = meetings["hidden_by_clamp"], meetings["raw_changed"]
    assert damped == moved >= 20  # every certified product is past 80 for meetings
    assert all(0 < int(shift) < 5 for shift in meetings["histogram"]["shown"]), meetings["histogram"]
    assert 0 == meetings["at_ceiling"]  # none shows 100
    text = CliRunner().invoke(main, args[:-2]).output
    assert f"the floor or the soft ceiling damped {damped} shifts ({moved} products moved before it)" in text


def test_products_the_old_pack_refuses_make_the_preview_fail_unless_skipped(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.jsonl"
    catalog.write_text('{"id": "ok", "specs": {"mic": "boom"}}\n{"id": "bad", "specs": {"mic": "laser"}}\n')
    args = ["diff", "rules/audio", "rules/audio", "--catalog", str(catalog)]
    result = CliRunner().invoke(main, args)
    assert 1 == result.exit_code
    assert (
        "invalid products (skipped): 1" in result.output and "line 2 bad: specs.mic='laser'" in result.output
    )
    assert 0 == CliRunner().invoke(main, [*args, "--skip-invalid"]).exit_code
