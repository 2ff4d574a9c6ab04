"""buf guards the contract (make test runs `buf lint` and `buf breaking` against the last
commit): here a renumbered field, a removed one and a badly named one must each fail it,
and the contract as it is must pass."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import ROOT

BUF = ROOT / "tools" / "node_modules" / ".bin" / "buf"
PROTO = "earmark/v1/earmark.proto"


def _buf(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert BUF.exists(), "run `make test` (it installs buf from tools/package-lock.json)"
    return subprocess.run(
        [str(BUF), *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "proto", tmp_path / "proto")
    shutil.copy(ROOT / "buf.yaml", tmp_path / "buf.yaml")
    return tmp_path


def _edit(copy: Path, old: str, new: str) -> None:
    path = copy / "proto" / PROTO
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_the_contract_passes_lint_and_is_not_broken_against_itself(copy: Path) -> None:
    linted = _buf("lint", cwd=copy)
    assert 0 == linted.returncode, linted.stdout + linted.stderr
    same = _buf("breaking", "proto", "--against", str(ROOT / "proto"), cwd=copy)
    assert 0 == same.returncode, same.stdout + same.stderr


@pytest.mark.parametrize(
    ("old", "new", "complaint"),
    [
        (
            "  string explanation = 5;\n  // Set only",
            "  string explanation = 10;\n  // Set only",
            'Previously present field "5" with name "explanation"',
        ),
        ("  repeated string warnings = 9;\n", "", 'Previously present field "9" with name "warnings"'),
        (
            "  bool strict = 5;\n  // Which Verdict",
            "  string strict = 5;\n  // Which Verdict",
            "type",
        ),
    ],
    ids=["renumbered", "removed", "retyped"],
)
def test_a_breaking_change_fails_buf_breaking(copy: Path, old: str, new: str, complaint: str) -> None:
    _edit(copy, old, new)
    broken = _buf("breaking", "proto", "--against", str(ROOT / "proto"), cwd=copy)
    assert 100 == broken.returncode, broken.stdout + broken.stderr
    assert complaint in broken.stdout


def test_a_badly_named_field_fails_buf_lint(copy: Path) -> None:
    _edit(copy, "  repeated string warnings = 9;", "  repeated string warningTexts = 9;")
    linted = _buf("lint", cwd=copy)
    assert 100 == linted.returncode
    assert "should be lower_snake_case" in linted.stdout
