"""The Makefile's promise that `make test` and `make run` work on a fresh machine, checked
with `make -n -B` against a virtualenv that does not exist yet: every tool a target needs is
built before the target uses it. A prerequisite named through a variable defined further
down the Makefile expands to nothing, and only a machine that already has the tool hides
it (CI once failed that way, with helm missing)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from helpers import ROOT


def _planned(target: str, tmp_path: Path) -> list[str]:
    """The commands `make TARGET` would run on a fresh machine: a virtualenv that does not
    exist yet, and every other file taken as out of date (-B), whatever this machine has
    already built."""
    done = subprocess.run(
        ["make", "-n", "-B", "--no-print-directory", target, f"VENV={tmp_path / 'fresh-venv'}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.splitlines()


def _first(lines: list[str], needle: str) -> int:
    found = [n for n, line in enumerate(lines) if needle in line]
    assert found, f"{needle!r} is not among the planned commands:\n" + "\n".join(lines)
    return found[0]


@pytest.mark.parametrize("target", ["test", "test-fast", "manifests"])
def test_the_targets_that_render_the_chart_fetch_helm_first(target: str, tmp_path: Path) -> None:
    planned = _planned(target, tmp_path)
    fetched = _first(planned, "scripts/ensure-helm.sh")
    first_use = _first(planned, "python -m pytest" if target != "manifests" else "make-manifests.py")
    assert fetched < first_use


@pytest.mark.parametrize("target", ["test", "test-fast"])
def test_the_tests_get_every_tool_they_run(target: str, tmp_path: Path) -> None:
    planned = _planned(target, tmp_path)
    first_test = _first(planned, "python -m pytest")
    for setup in (
        "pip install",
        "cd frontend && npm ci",
        "cd tools && npm ci",
        "scripts/ensure-debian-tools.sh",
    ):
        assert _first(planned, setup) < first_test, setup


def test_run_installs_before_it_serves(tmp_path: Path) -> None:
    planned = _planned("run", tmp_path)
    assert _first(planned, "pip install") < _first(planned, "earmark serve")
