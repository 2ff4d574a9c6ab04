"""The layering contract in pyproject.toml: it holds for the code as it is, and it breaks
when a module imports across the layers the wrong way."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports over a copy of the package at `tree`, with the project's contracts."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(ROOT / "pyproject.toml")],
        cwd=tree,
        env={"PYTHONPATH": str(tree / "service"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "service" / "earmark", tmp_path / "service" / "earmark")
    return tmp_path


def test_the_code_keeps_every_contract(tree: Path) -> None:
    result = _lint(tree)
    assert 0 == result.returncode, result.stdout + result.stderr
    assert "5 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "forbidden_import", "contract"),
    [
        ("rulepack/model.py", "import earmark.evaluation.engine", "The layers run one way"),
        ("evaluation/verdict.py", "import earmark.server.wire", "The layers run one way"),
        ("authoring/explain.py", "import earmark.cli", "The layers run one way"),
        ("server/servicer.py", "import earmark.studio.app", "The layers run one way"),
        ("evaluation/engine.py", "import grpc", "Only the server speaks gRPC and protobuf"),
        ("rulepack/schema.py", "from google.protobuf import struct_pb2", "Only the server speaks gRPC"),
        ("rulepack/source.py", "import earmark.config", "The rule-pack language imports nothing"),
        (
            "config.py",
            "import earmark.server.metrics",
            "Settings, logging, errors and diagnostics import no layer",
        ),
        ("diagnostics.py", "import earmark.errors", "The layers run one way"),
        ("authoring/check.py", "import click", "Only the commands use click"),
        ("studio/run.py", "import click", "Only the commands use click"),
        ("diagnostics.py", "import earmark.rulepack.model", "The layers run one way"),
    ],
)
def test_an_import_against_the_layers_breaks_the_contract(
    tree: Path, module: str, forbidden_import: str, contract: str
) -> None:
    path = tree / "service" / "earmark" / module
    path.write_text(path.read_text() + f"\n{forbidden_import}  # noqa\n")
    result = _lint(tree)
    assert 1 == result.returncode, result.stdout
    broken = [line for line in result.stdout.splitlines() if line.endswith("BROKEN")]
    assert any(line.startswith(contract) for line in broken), result.stdout
