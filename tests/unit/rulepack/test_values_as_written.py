"""Enum values as catalogs write them: declared as "IPX4", matched however a request or a
rule spells it, and shown in explanations as declared. The water_resistance task from
docs/rules.md, carried out on a copy of the pack."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from earmark.cli import main
from earmark.config import BUNDLED_RULES
from earmark.errors import InvalidArgument
from earmark.evaluation.evaluator import Evaluator

WATER = """  water_resistance:
    type: enum
    values: [IPX4, IPX5, IPX6, IPX7, IPX8]
    description: The IP rating against water, as the catalog gives it.
"""
RULE = """
  - id: rain-proof
    description: Rated against water jets or more, it survives a rainy walk to the station.
    when:
      water_resistance: {one_of: [ipx5, IPX6, IPX 7, IPX8]}
    then:
      scores: {commute: 5}
      say:
        en: "{water_resistance} water resistance"
        de: "Wasserschutz nach {water_resistance}"
"""
CASE = """
  - name: Rain-proof on-ears
    product:
      form_factor: on_ear
      water_resistance: ipx7
    expect:
      fired: [rain-proof]
      explanation_has: [IPX7 water resistance]
"""


def _water_pack(pack: Path) -> None:
    manifest = pack / "pack.yaml"
    text = manifest.read_text()
    assert "  price_usd:\n" in text
    manifest.write_text(text.replace("  price_usd:\n", WATER + "  price_usd:\n", 1))
    (pack / "weather.yaml").write_text("rules:" + RULE)
    (pack / "examples" / "weather.yaml").write_text("examples:" + CASE)


def test_values_are_matched_however_written_and_shown_as_declared(pack_copy: Path) -> None:
    _water_pack(pack_copy)
    evaluator = Evaluator.from_directory(pack_copy)
    # On-ears: no stronger reason for commuting crowds this one out of the sentence.
    for written in ("IPX7", "ipx7", "ipx 7", "Ipx-7"):
        verdict = evaluator.verdict_for("p", {"form_factor": "on_ear", "water_resistance": written})
        assert "rain-proof" in [r.id for r in verdict.fired], written
        commute = next(s for s in verdict.scores if s.use_case.id == "commute")
        assert "IPX7 water resistance" in commute.explanation and "ipx7" not in commute.explanation
    assert "rain-proof" not in [r.id for r in evaluator.verdict_for("p", {"water_resistance": "IPX4"}).fired]
    with pytest.raises(InvalidArgument) as refused:
        evaluator.verdict_for("p", {"water_resistance": "IPX9"})
    assert "specs.water_resistance='IPX9': Input should be 'IPX4', 'IPX5', 'IPX6', 'IPX7' or 'IPX8'" == (
        refused.value.message
    )
    assert 0 == CliRunner().invoke(main, ["test", str(pack_copy)]).exit_code


def test_a_new_attribute_is_compatible_unless_the_catalog_already_sends_values_it_refuses(
    pack_copy: Path, tmp_path: Path
) -> None:
    """Issue 23: adding attributes is not a breaking change by itself. A catalog that
    already sends the name with a value the declaration refuses is the evidence that it
    would break, and --fail-on breaking fails on it."""
    _water_pack(pack_copy)
    diff = CliRunner().invoke(main, ["diff", str(BUNDLED_RULES), str(pack_copy), "--fail-on", "breaking"])
    assert 0 == diff.exit_code, diff.output
    assert (
        "compatible: specs.water_resistance: declared as enum of IPX4, IPX5, IPX6, IPX7, IPX8" in diff.output
    )
    catalog = tmp_path / "catalog.jsonl"
    catalog.write_text(
        '{"id": "sends-ipx7", "specs": {"form_factor": "in_ear", "water_resistance": "IPX7"}}\n'
        '{"id": "sends-ip67", "specs": {"form_factor": "in_ear", "water_resistance": "IP67"}}\n'
    )
    checked = [str(BUNDLED_RULES), str(pack_copy), "--catalog", str(catalog), "--fail-on", "breaking"]
    diff = CliRunner().invoke(main, ["diff", *checked, "--format", "json"])
    assert 1 == diff.exit_code, diff.output
    assert ["sends-ip67"] == [p["id"] for p in json.loads(diff.output)["newly_refused"]]


CODEC_RULE = """
  - id: names-its-codecs
    description: Say which codecs a lossless-capable product has, as the catalog writes them.
    when:
      codecs: {contains: ldac}
    then:
      scores: {music: 1}
      say:
        en: "support for {codecs}"
"""


def test_text_is_matched_ignoring_case_and_shown_as_the_catalog_wrote_it(pack_copy: Path) -> None:
    (pack_copy / "zz-codecs.yaml").write_text("rules:" + CODEC_RULE)
    evaluator = Evaluator.from_directory(pack_copy)
    verdict = evaluator.verdict_for("p", {"codecs": [" LDAC", "aptX Adaptive", "AAC"]})
    assert "names-its-codecs" in [r.id for r in verdict.fired]
    music = next(s for s in verdict.scores if s.use_case.id == "music")
    assert "support for LDAC, aptX Adaptive and AAC" in music.explanation, music.explanation
