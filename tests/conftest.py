"""Shared fixtures: the bundled pack, a copy to break, and a real server on a free port."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from earmark.config import BUNDLED_RULES
from earmark.evaluation.evaluator import Evaluator
from earmark.server.live import LivePack

from helpers import RunningServer, serving


@pytest.fixture(autouse=True)
def _logging_left_as_found() -> Iterator[None]:
    """A test that configures structlog (test_logs.py) must not hand its level on to the
    tests after it in the same process: capture_logs sees nothing that a logger set to
    warning has already dropped, so a test of info lines failed or passed by the order
    pytest-xdist happened to run them in."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


@pytest.fixture(scope="session")
def evaluator() -> Evaluator:
    """The bundled audio pack, loaded and compiled once for the whole run."""
    return Evaluator.from_directory(BUNDLED_RULES)


@pytest.fixture
def pack_copy(tmp_path: Path) -> Path:
    """A private copy of the bundled pack that a test may edit or break."""
    target = tmp_path / "audio"
    shutil.copytree(BUNDLED_RULES, target)
    return target


@pytest.fixture(scope="module")
def running(evaluator: Evaluator) -> Iterator[RunningServer]:
    """A real Earmark server over the bundled pack, with a real channel to it."""
    with serving(LivePack(evaluator), max_batch_size=50) as server:
        yield server
