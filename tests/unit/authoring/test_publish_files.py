"""How `earmark publish` replaces the live files: in one step, for a directory and for a
symlinked layout, and never when the pack would be refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from earmark.authoring.publish import PublishRefused, publish
from earmark.config import BUNDLED_RULES
from earmark.errors import PackError

from helpers import set_boom_meetings


def _copies(tmp_path: Path) -> tuple[Path, Path]:
    live, work = tmp_path / "live", tmp_path / "work"
    shutil.copytree(BUNDLED_RULES, live)
    shutil.copytree(BUNDLED_RULES, work)
    return live, work


def test_a_live_directory_is_exchanged_and_keeps_its_identity_path(tmp_path: Path) -> None:
    live, work = _copies(tmp_path)
    set_boom_meetings(work, 28)
    done = publish(work, live)
    assert done.previous is not None and done.previous != done.version
    assert (work / "talking.yaml").read_text() == (live / "talking.yaml").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live", "work"]  # nothing left behind


def test_a_symlinked_live_pack_gets_a_new_link(tmp_path: Path) -> None:
    original, work = _copies(tmp_path)
    link = tmp_path / "rules"
    link.symlink_to(original.name)
    set_boom_meetings(work, 28)
    publish(work, link)
    assert link.is_symlink() and link.resolve() != original.resolve()
    assert (work / "talking.yaml").read_text() == (link / "talking.yaml").read_text()
    assert (BUNDLED_RULES / "talking.yaml").read_text() == (original / "talking.yaml").read_text()
    set_boom_meetings(work, 29)
    publish(work, link)  # the copy the first publish made is removed once replaced
    assert 1 == len(list(tmp_path.glob(".rules-publishing-*")))


def test_a_pack_that_would_be_refused_writes_nothing(tmp_path: Path) -> None:
    live, work = _copies(tmp_path)
    (work / "zz.yaml").write_text(
        "rules:\n  - id: x\n    description: d\n    when: {mic: laser}\n    then: {fit: 1}\n"
    )
    with pytest.raises(PackError):
        publish(work, live)
    assert not (live / "zz.yaml").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live", "work"]


def test_a_breaking_change_is_refused_unless_allowed(tmp_path: Path) -> None:
    live, work = _copies(tmp_path)
    price = "  price_usd:\n    type: number\n    min: 0\n"
    text = (work / "pack.yaml").read_text()
    assert price in text
    (work / "pack.yaml").write_text(text.replace(price, price + "    max: 2000\n", 1))
    with pytest.raises(PublishRefused) as refused:
        publish(work, live)
    assert "BREAKING: specs.price_usd: range narrowed" in str(refused.value)
    assert "--allow-breaking" in str(refused.value)
    assert (BUNDLED_RULES / "pack.yaml").read_text() == (live / "pack.yaml").read_text()
    done = publish(work, live, allow_breaking=True)
    assert [("specs.price_usd", True)] == [(c.subject, c.breaking) for c in done.contract]
    assert (work / "pack.yaml").read_text() == (live / "pack.yaml").read_text()
