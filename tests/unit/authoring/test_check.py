"""`earmark check`'s warnings beyond the loader's (authoring/check.py): a rule no example
case makes fire, and schema files out of date with pack.yaml, at their file and line."""

from __future__ import annotations

from pathlib import Path

from earmark.authoring.check import pack_warnings
from earmark.config import BUNDLED_RULES
from earmark.evaluation.evaluator import Evaluator

from helpers import probe_rule
from pack_problems import edit


def test_the_bundled_pack_has_nothing_to_warn_about(evaluator: Evaluator) -> None:
    assert [] == pack_warnings(evaluator, BUNDLED_RULES)


def test_a_rule_no_case_makes_fire_is_named_at_its_line(pack_copy: Path) -> None:
    (pack_copy / "zz.yaml").write_text("rules:\n" + probe_rule("zz-untested", "weight_g: {at_least: 500}"))
    warnings = pack_warnings(Evaluator.from_directory(pack_copy), pack_copy)
    assert [("zz.yaml", 2, "unexercised-rule")] == [(Path(w.path).name, w.line, w.code) for w in warnings]
    assert "no example case makes 'zz-untested' fire" == warnings[0].message


def test_schemas_out_of_date_with_pack_yaml_are_each_named(pack_copy: Path) -> None:
    edit(
        pack_copy / "pack.yaml",
        "specs:\n",
        "specs:\n  water_resistance:\n    type: enum\n    values: [IPX4]\n",
    )
    warnings = pack_warnings(Evaluator.from_directory(pack_copy), pack_copy)
    stale = sorted(Path(w.path).name for w in warnings if w.code == "stale-schema")
    assert ["examples.schema.json", "rules.schema.json"] == stale  # the two that list the specs
    assert all("run `earmark schemas" in w.message for w in warnings if w.code == "stale-schema")
