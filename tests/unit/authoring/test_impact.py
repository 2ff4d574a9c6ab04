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
            "scores: {meetings: 11, calls: 6, call_center: 7}",
            "scores: {meetings: 16, calls: 6, call_center: 7}",
        )
    )
    examples = pack_copy / "examples" / "listening.yaml"
    examples.write_text(examples.read_text().replace("category: unclassified", "category: headphones"))
    args = ["diff", "rules/audio", str(pack_copy), "--catalog", str(EXAMPLES / "catalog.jsonl")]
    text = CliRunner().invoke(main, args)
    assert 0 == text.exit_code, text.output
    assert "compared 233 products" in text.output
    assert (
        "listing-without-mic-info: unclassified -> headphones (decided by unknown-mic-leaves-it-unclassified)"
        in text.output
    )
    assert "certified-for-meetings +5" in text.output
    report = json.loads(CliRunner().invoke(main, [*args, "--format", "json"]).output)
    changed = {c["id"] for c in report["category_changes"]}
    assert {
        "listing-without-mic-info",
        "listing-nearly-empty",
        "sleep-buds-no-mic-field",
        "usb-headset-no-mic-field",
    } == changed
    # Where the catalog leaves the new pack guessing (issue 23).
    gaps = {gap["attribute"]: gap["missing"] for gap in report["missing_data"]}
    assert gaps["mic"] >= 2 and gaps["weight_g"] >= 10
    assert "missing data: attributes the rules read that products don't list" in text.output
    meetings = next(u for u in report["use_cases"] if u["use_case"] == "meetings")
    assert meetings["largest_increase"]["shift"] == 5  # below the soft ceiling, +5 raw shows in full
    assert all(m["rules"] == ["certified-for-meetings +5"] for m in meetings["top_movers"])
    assert report["explanations_changed"] >= 2
    # Every certified product's raw total moved by 5; those that end above the soft
    # ceiling's start show less than that.
    assert {"5": meetings["raw_changed"]} == meetings["histogram"]["raw"]
    assert meetings["changed"] == sum(meetings["histogram"]["shown"].values()) <= meetings["raw_changed"]
    assert "5" in meetings["histogram"]["shown"] and any(int(s) < 5 for s in meetings["histogram"]["shown"])


def test_diff_names_a_bad_catalog_line(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.jsonl"
    catalog.write_text('{"id": "a", "specs": {}}\n{not json\n')
    result = CliRunner().invoke(main, ["diff", "rules/audio", "rules/audio", "--catalog", str(catalog)])
    assert 2 == result.exit_code
    assert "line 2: not JSON" in result.output


def test_a_shift_the_soft_ceiling_damps_is_reported_beside_the_raw_one(pack_copy: Path) -> None:
    """A +5 Teams bonus used to report 'meetings 1 changed', although 8 certified products
    moved and were then capped at 100. Now the strongest certified products end above the
    soft ceiling's start: each of those moves by less than 5, and the report says how many
    were damped."""
    talking = pack_copy / "talking.yaml"
    talking.write_text(
        talking.read_text().replace(
            "scores: {meetings: 11, calls: 6, call_center: 7}",
            "scores: {meetings: 16, calls: 6, call_center: 7}",
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
    assert 0 < damped < moved  # the best office headsets pass 90 for meetings; the rest do not
    shifts = meetings["histogram"]["shown"]
    assert (
        all(0 < int(shift) <= 5 for shift in shifts)
        and sum(n for shift, n in shifts.items() if int(shift) < 5) == damped
    ), shifts
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


NEW_USE_CASE = """  - id: studio_recording
    title: {en: Studio recording, de: Studioaufnahme}
    phrase: {en: studio recording, de: Studioaufnahmen}
    default: 30
"""
NEW_RULE = """
  - id: closed-for-the-studio
    description: Closed cups keep the click track out of the microphone.
    when:
      back: closed
    then:
      scores: {studio_recording: 40}
      say:
        en: closed cups that keep the click track out of the mic
        de: geschlossene Muscheln, die den Klick vom Mikrofon fernhalten
"""


def test_a_new_use_case_shows_its_scores_by_band_and_its_best_and_worst_products(pack_copy: Path) -> None:
    """Issue 24: a new use case's preview said only "new: every verdict gains this score"."""
    manifest = pack_copy / "pack.yaml"
    manifest.write_text(manifest.read_text().replace("\nspecs:\n", "\n" + NEW_USE_CASE + "\nspecs:\n", 1))
    (pack_copy / "studio.yaml").write_text("rules:" + NEW_RULE)
    args = ["diff", "rules/audio", str(pack_copy), "--catalog", str(EXAMPLES / "catalog.jsonl")]
    report = json.loads(CliRunner().invoke(main, [*args, "--format", "json"]).output)
    (added,) = report["new_use_cases"]
    assert "studio_recording" == added["use_case"]
    assert [80, 60, 35, 0] == [band["from"] for band in added["bands"]]
    assert report["products"] == sum(band["products"] for band in added["bands"])
    closed = {
        json.loads(line)["id"]
        for line in (EXAMPLES / "catalog.jsonl").read_text().splitlines()
        if '"back": "closed"' in line
    }
    assert all(p["id"] in closed and p["score"] == 70 for p in added["best"])  # 30 + 40
    assert all(p["id"] not in closed and p["score"] == 30 for p in added["worst"])
    text = CliRunner().invoke(main, args).output
    assert "studio_recording new: every verdict gains this score; products by band: 80+ 0, 60+" in text
    assert "      best: " in text and "      worst: " in text
