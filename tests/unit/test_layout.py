"""Where a newcomer looks for a module's tests: tests/unit/<layer>/test_<module>.py.

Held for the layers whose modules are units of their own (the rule-pack language,
evaluation, authoring, bulk scoring). The server and Studio are tested by what a client meets, through
a real channel or page (test_limits.py, test_hostile_clients.py, ...), so a file of a
module's name is not always where their tests live."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import ROOT

SOURCE = ROOT / "service" / "earmark"
MIRRORED = ("rulepack", "evaluation", "authoring", "bulk")


def _missing(layer: str, source: Path, tests: Path) -> list[str]:
    modules = sorted(p.stem for p in (source / layer).glob("*.py") if p.stem != "__init__")
    return [
        f"tests/unit/{layer}/test_{m}.py" for m in modules if not (tests / layer / f"test_{m}.py").exists()
    ]


@pytest.mark.parametrize("layer", MIRRORED)
def test_every_module_has_a_test_file_of_its_name(layer: str) -> None:
    assert [] == _missing(layer, SOURCE, ROOT / "tests" / "unit")


def test_a_module_without_one_is_named(tmp_path: Path) -> None:
    (tmp_path / "source" / "rulepack").mkdir(parents=True)
    (tmp_path / "tests" / "rulepack").mkdir(parents=True)
    for name in ("__init__", "loader", "newcomer"):
        (tmp_path / "source" / "rulepack" / f"{name}.py").touch()
    (tmp_path / "tests" / "rulepack" / "test_loader.py").touch()
    assert ["tests/unit/rulepack/test_newcomer.py"] == _missing(
        "rulepack", tmp_path / "source", tmp_path / "tests"
    )
