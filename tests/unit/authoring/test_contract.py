"""`earmark diff` reports what a change does to the contract storefronts rely on, before
the catalog impact, and `--fail-on breaking` stops a publish step on it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from earmark.authoring.contract import contract_changes
from earmark.cli import main
from earmark.config import BUNDLED_RULES
from earmark.rulepack.loader import load_pack

from helpers import EXAMPLES

PRICE = "  price_usd:\n    type: number\n    min: 0\n"
WATER = """  water_resistance:
    type: enum
    values: [ipx4, ipx5, ipx6, ipx7, ipx8]
    description: The IP rating against water.
"""


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_a_new_enum_attribute_is_compatible_and_says_what_a_catalog_may_still_break(
    pack_copy: Path,
) -> None:
    """Issue 23: declaring an attribute breaks no request by itself; a catalog that already
    sends other values is the evidence, which `earmark diff --catalog` weighs
    (test_values_as_written.py)."""
    _edit(pack_copy / "pack.yaml", "  price_usd:\n", WATER + "  price_usd:\n")
    changes = contract_changes(load_pack(BUNDLED_RULES), load_pack(pack_copy))
    assert [("specs.water_resistance", False)] == [(c.subject, c.breaking) for c in changes]
    assert "only a request already sending it with other values would now be refused" in changes[0].change
    assert "enum of ipx4, ipx5, ipx6, ipx7, ipx8" in changes[0].change


def test_removed_values_and_narrowed_ranges_are_breaking_added_values_are_not(
    pack_copy: Path, tmp_path: Path
) -> None:
    mic = "    values: [none, integrated, inline, boom, detachable_boom, retractable_boom]"
    _edit(pack_copy / "pack.yaml", mic, mic.replace("]", ", throat]"))
    new = tmp_path / "new"
    shutil.copytree(BUNDLED_RULES, new)
    _edit(new / "pack.yaml", mic, mic.replace("]", ", bone_conduction]"))
    _edit(new / "pack.yaml", PRICE, PRICE + "    max: 300\n")
    changes = {
        (c.subject, c.change.split(";")[0], c.breaking)
        for c in contract_changes(load_pack(pack_copy), load_pack(new))
    }
    assert {
        ("specs.mic", "values removed: throat", True),
        ("specs.mic", "values added: bone_conduction", False),
        ("specs.price_usd", "range narrowed from 0..any to 0..300", True),
    } == changes


def test_diff_lists_the_contract_first_counts_refused_products_and_can_fail_on_it(pack_copy: Path) -> None:
    _edit(
        pack_copy / "pack.yaml",
        "  price_usd:\n    type: number\n    min: 0\n",
        "  price_usd:\n    type: number\n    min: 0\n    max: 300\n",
    )
    args = ["diff", str(BUNDLED_RULES), str(pack_copy), "--catalog", str(EXAMPLES / "catalog.jsonl")]
    text = CliRunner().invoke(main, args)
    assert 0 == text.exit_code, text.output  # without --fail-on, a report only
    lines = text.output.splitlines()
    assert "contract: 1 changes, 1 breaking" == lines[0]
    assert lines[1].startswith("  BREAKING: specs.price_usd: range narrowed")
    expensive = [
        json.loads(line) for line in (EXAMPLES / "catalog.jsonl").read_text().splitlines() if line.strip()
    ]
    over = [p["id"] for p in expensive if p["specs"].get("price_usd", 0) > 300]
    assert over, "the sample catalog has products over $300"
    assert f"refused by the new pack, accepted by the old: {len(over)} products" in text.output
    assert any(over[0] in line and "specs.price_usd" in line for line in lines)  # named, with why
    failing = CliRunner().invoke(main, [*args, "--fail-on", "breaking"])
    assert 1 == failing.exit_code
    same = CliRunner().invoke(main, ["diff", str(BUNDLED_RULES), str(BUNDLED_RULES), "--fail-on", "breaking"])
    assert 0 == same.exit_code and "contract: 0 changes, 0 breaking" in same.output
