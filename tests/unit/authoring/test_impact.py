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
    assert "compared 57 products" in text.output
    assert (
        "listing-without-mic-info: unclassified -> headphones (decided by unknown-mic-leaves-it-unclassified)"
        in text.output
    )
    assert "certified-for-meetings +5" in text.output
    report = json.loads(CliRunner().invoke(main, [*args, "--format", "json"]).output)
    changed = {c["id"] for c in report["category_changes"]}
    assert {"listing-without-mic-info", "listing-nearly-empty"} == changed
    meetings = next(u for u in report["use_cases"] if u["use_case"] == "meetings")
    assert meetings["largest_increase"]["shift"] == 5
    assert all(m["rules"] == ["certified-for-meetings +5"] for m in meetings["top_movers"])
    assert report["explanations_changed"] >= 2
    # Every certified product moved by 5 before the clamp; the clamp let fewer show it.
    assert {"5": meetings["raw_changed"]} == meetings["histogram"]["raw"]
    assert meetings["changed"] == sum(meetings["histogram"]["shown"].values()) < meetings["raw_changed"]


def test_diff_names_a_bad_catalog_line(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.jsonl"
    catalog.write_text('{"id": "a", "specs": {}}\n{not json\n')
    result = CliRunner().invoke(main, ["diff", "rules/audio", "rules/audio", "--catalog", str(catalog)])
    assert 2 == result.exit_code
    assert "line 2: not JSON" in result.output


def test_a_shift_the_clamp_hides_is_shown_with_how_many_sit_at_100(pack_copy: Path) -> None:
    """A +5 Teams bonus used to report 'meetings 1 changed', although 8 certified
    products moved and were then capped at 100."""
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
    assert (1, 9, 8) == (meetings["changed"], meetings["raw_changed"], meetings["hidden_by_clamp"])
    assert meetings["at_ceiling"] >= 8
    text = CliRunner().invoke(main, args[:-2]).output
    assert "the 0-100 clamp hid all or part of 8 shifts (9 products moved before it)" in text


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
