"""The JSON Schemas editors complete from: up to date, named by every shipped file, valid
for every file the loader accepts, and carrying the pack's own vocabulary, checked with
a real JSON Schema validator (jsonschema, draft 2020-12)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from ruamel.yaml import YAML

from earmark.authoring.schemas import MODELINE, schema_for_file, stale_schemas
from earmark.cli import main
from earmark.config import BUNDLED_RULES

from helpers import ROOT

PACKS = [BUNDLED_RULES, ROOT / "docs" / "examples" / "pack"]


def _validator(pack: Path, schema_file: str) -> Draft202012Validator:
    schema = json.loads((pack / schema_file).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)  # a broken schema would accept anything
    return Draft202012Validator(schema)


def _errors(pack: Path, path: Path, schema_file: str | None = None) -> list[tuple[str, str]]:
    """(path inside the file, message) of every schema error of `path`, a file of `pack`."""
    data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    name = schema_file or schema_for_file(pack, path).removeprefix("../")
    # best_match picks, inside an "any of these shapes", the shape the author meant, as an
    # editor does when it underlines a mistake.
    found = [best_match([e]) for e in _validator(pack, name).iter_errors(data)]
    return sorted(("/".join(str(p) for p in e.absolute_path), e.message) for e in found)


def _pack_files(pack: Path) -> list[Path]:
    return sorted(p for p in pack.rglob("*.yaml"))


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize("pack", PACKS, ids=lambda p: p.name)
def test_the_shipped_schemas_match_their_pack(pack: Path) -> None:
    assert [] == stale_schemas(pack), "run `make schemas`"


@pytest.mark.parametrize("pack", PACKS, ids=lambda p: p.name)
def test_every_shipped_file_names_its_schema_and_passes_it(pack: Path) -> None:
    files = _pack_files(pack)
    assert len(files) >= 3
    for path in files:
        head = path.read_text(encoding="utf-8").splitlines()[:2]
        assert f"{MODELINE}{schema_for_file(pack, path)}" in head, path
        assert (path.parent / schema_for_file(pack, path)).is_file()
        assert [] == _errors(pack, path), path


def test_the_guides_examples_that_load_into_the_audio_pack_pass_its_schemas() -> None:
    # Files the loader accepts must not be underlined: these use every kind of condition.
    examples = ROOT / "docs" / "examples"
    assert [] == _errors(BUNDLED_RULES, examples / "conditions.yaml", "schemas/rules.schema.json")
    assert [] == _errors(BUNDLED_RULES, examples / "effects.yaml", "schemas/rules.schema.json")
    assert [] == _errors(BUNDLED_RULES, examples / "cases.yaml", "schemas/examples.schema.json")


def test_a_broken_copy_fails_at_the_path_of_each_mistake(pack_copy: Path) -> None:
    rules, cases = pack_copy / "talking.yaml", pack_copy / "examples" / "talking.yaml"
    _edit(rules, "      mic: [boom,", "      micc: [boom,")  # rule 0: a misspelt attribute
    _edit(rules, "scores: {meetings: 8,", "scores: {meeting: 8,")  # rule 1: a misspelt use case
    _edit(rules, "        de: ein Mikrofon, das", "        fr: ein Mikrofon, das")  # rule 1: no French
    _edit(rules, "mic: {is_not: none}", "mic: {is_not: nothing}")  # rule 1: no such value
    _edit(cases, "      mic: boom\n", "      mic: bom\n")  # case 0: a misspelt value

    assert [
        ("rules/0/when", "Additional properties are not allowed ('micc' was unexpected)"),
        ("rules/1/then/say", "Additional properties are not allowed ('fr' was unexpected)"),
        ("rules/1/then/scores", "Additional properties are not allowed ('meeting' was unexpected)"),
        ("rules/1/when/mic/is_not", _not_one_of("nothing", pack_copy, "mic")),
    ] == _errors(pack_copy, rules)
    assert [("examples/0/product/mic", _not_one_of("bom", pack_copy, "mic"))] == _errors(pack_copy, cases)


def _not_one_of(value: str, pack: Path, attribute: str) -> str:
    declared = YAML(typ="safe", pure=True).load((pack / "pack.yaml").read_text())["specs"][attribute][
        "values"
    ]
    return f"{value!r} is not one of {declared!r}"


def test_the_schemas_follow_what_pack_yaml_declares(pack_copy: Path) -> None:
    _edit(
        pack_copy / "pack.yaml",
        "specs:\n",
        "specs:\n  water_resistance:\n    type: enum\n    values: [IPX4, IPX5, IPX6, IPX7, IPX8]\n",
    )
    runner = CliRunner()
    stale = runner.invoke(main, ["check", "--strict", str(pack_copy)])
    assert 1 == stale.exit_code
    assert "warning[stale-schema]" in stale.output and "run `earmark schemas" in stale.output
    assert 1 == runner.invoke(main, ["schemas", "--check", str(pack_copy)]).exit_code

    assert 0 == runner.invoke(main, ["schemas", str(pack_copy)]).exit_code
    assert 0 == runner.invoke(main, ["schemas", "--check", str(pack_copy)]).exit_code
    rule: dict[str, Any] = {"rules": [_rule({"water_resistance": "IPX7"})]}
    validator = _validator(pack_copy, "schemas/rules.schema.json")
    assert [] == list(validator.iter_errors(rule))
    wrong = [_rule({"water_resistance": "IPX9"}), _rule({"water_resistence": "IPX7"})]
    assert 2 == len(list(validator.iter_errors({"rules": wrong})))


def _rule(when: dict[str, Any]) -> dict[str, Any]:
    return {"id": "x", "description": "d", "when": when, "then": {"scores": {"commute": 5}}}


def test_schemas_are_made_from_pack_yaml_alone_so_broken_rules_still_get_help(pack_copy: Path) -> None:
    (pack_copy / "zz.yaml").write_text("rules:\n  - id: x\n    when: {mic: laser}\n", encoding="utf-8")
    assert 1 == CliRunner().invoke(main, ["check", str(pack_copy)]).exit_code
    assert [] == stale_schemas(pack_copy)
