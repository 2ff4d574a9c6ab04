"""Everything in this folder runs real processes, load or long runs: marked slow here,
once, so that `pytest -m "not slow"` (`make test-fast`) leaves the whole folder out."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.slow)
