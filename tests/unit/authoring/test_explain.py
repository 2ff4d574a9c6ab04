"""`earmark explain`: the deciding rules and each score as a waterfall, as text and as JSON."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from ruamel.yaml import YAML

from earmark.cli import main

from helpers import EXAMPLES, written_pack


def test_explain_shows_the_deciding_rule_and_each_waterfall() -> None:
    result = CliRunner().invoke(
        main,
        ["explain", str(EXAMPLES / "arctis-nova-7.yaml"), "--shopper", str(EXAMPLES / "shopper-gamer.json")],
    )
    assert 0 == result.exit_code, result.output
    assert result.output.startswith("arctis-nova-7: headset — Wireless gaming headset")
    assert "category from boom-mic-makes-a-headset (rules/audio/category.yaml:" in result.output
    assert "Gaming with friends: " in result.output and "  +33  boom-mic-for-talking" in result.output
    assert "Fit for this shopper: " in result.output and "mean of gaming_social, gaming_solo" in result.output


def test_explain_as_json_adds_up(tmp_path: Path) -> None:
    # A gaming headset with a shopper, and an office headset strong enough for meetings to
    # pass the soft ceiling.
    office = tmp_path / "evolve2-55.json"
    office.write_text(json.dumps(_catalog_product("jabra-evolve2-55")))
    for product, shopper in (
        (EXAMPLES / "arctis-nova-7.yaml", EXAMPLES / "shopper-gamer.json"),
        (office, None),
    ):
        args = ["explain", str(product), "--format", "json"]
        result = CliRunner().invoke(main, args + (["--shopper", str(shopper)] if shopper else []))
        assert 0 == result.exit_code, result.output
        data = json.loads(result.output)
        assert "headset" == data["category"]["id"]
        _assert_waterfalls_add_up(data, YAML(typ="safe", pure=True).load(product.read_text()))
    assert any(s["total"] > s["score"] for s in data["scores"])  # the office headset passes it


def _catalog_product(product_id: str) -> dict:
    lines = (EXAMPLES / "catalog.jsonl").read_text().splitlines()
    return next(p for p in map(json.loads, filter(None, lines)) if p["id"] == product_id)


def _assert_waterfalls_add_up(data: dict, written_product: dict) -> None:
    """Each waterfall lists, in pack order, every fired rule that moves it, with the amount
    its rule file gives, and adds up to its raw total."""
    defaults, amounts = written_pack(written_product.get("specs", written_product))
    for part in [*data["scores"], *([data["fit"]] if data.get("fit") else [])]:
        target = part.get("use_case", "fit")
        written = [
            (rule_id, amounts[rule_id][target]) for rule_id in data["fired"] if target in amounts[rule_id]
        ]
        assert written == [(step["rule"], step["amount"]) for step in part["steps"]], target
        start = defaults[target][0] if target != "fit" else part["start"]
        assert start + sum(amount for _, amount in written) == part["total"], target
        # Then one step to the score shown: the floor, or the soft ceiling's easing.
        low, soft = part["clamped_to"][0], part["soft_ceiling_from"]
        if part["total"] <= soft:
            assert max(low, part["total"]) == part["score"], target
            assert ("floor" if part["total"] < low else "") == part["adjusted_by"], target
        else:
            assert soft < part["score"] <= part["total"], target
            eased = part["score"] < part["total"]  # just past the start, rounding can leave it equal
            assert (f"eased to {part['score']}: above {soft}" in part["adjustment"]) == eased, target
            assert ("soft ceiling" if eased else "") == part["adjusted_by"], target


def test_explain_reports_a_bad_product_and_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"mic": "boom_arm"}')
    result = CliRunner().invoke(main, ["explain", str(bad)])
    assert 1 == result.exit_code and "specs.mic='boom_arm'" in result.output
    listing = tmp_path / "list.yaml"
    listing.write_text("- mic: boom\n")
    assert 2 == CliRunner().invoke(main, ["explain", str(listing)]).exit_code


def test_check_shows_missing_translations_and_explain_speaks_german(pack_copy: Path) -> None:
    (pack_copy / "zz.yaml").write_text(
        "rules:\n  - id: lonely\n    description: d\n    when: {weight_g: {at_least: 9000}}\n    then: {fit: 1, say: english only}\n"
    )
    result = CliRunner().invoke(main, ["check", "--strict", str(pack_copy)])
    assert 1 == result.exit_code
    assert "zz.yaml:5:" in result.output and "warning[missing-translation]" in result.output
    german = CliRunner().invoke(main, ["explain", str(EXAMPLES / "arctis-nova-7.yaml"), "--locale", "de-AT"])
    assert 0 == german.exit_code, german.output
    assert "Kabelloses Gaming-Headset" in german.output and "Spielen mit Freunden: " in german.output


def test_explain_takes_the_pack_as_its_argument_like_every_command(pack_copy: Path) -> None:
    talking = pack_copy / "talking.yaml"
    talking.write_text(
        talking.read_text().replace("en: a boom mic right at your mouth", "en: a mic on an arm", 1)
    )
    product = str(EXAMPLES / "arctis-nova-7.yaml")
    by_argument = CliRunner().invoke(main, ["explain", product, str(pack_copy)])
    assert 0 == by_argument.exit_code, by_argument.output
    assert "a mic on an arm" in by_argument.output
    assert (
        by_argument.output == CliRunner().invoke(main, ["explain", product, "--rules", str(pack_copy)]).output
    )
    assert "a mic on an arm" not in CliRunner().invoke(main, ["explain", product]).output
