"""Versions kept whole and made live in one step (authoring/releases.py), on real
folders: the live path a link to a kept version, a flip per release, old versions pruned
but never the live one. tests/unit/authoring/test_publish.py drives it through publish."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from earmark.authoring import releases
from earmark.authoring.releases import Releases, point, read_pack_files
from earmark.errors import PublishRefused

FIRST = {"pack.yaml": b"name: first\n", "examples/a.yaml": b"examples: []\n"}
SECOND = {"pack.yaml": b"name: second\n"}


def _contents(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_release_makes_the_live_path_a_link_to_the_kept_version(tmp_path: Path) -> None:
    live = tmp_path / "rules"
    store = Releases(live)
    kept = store.release(FIRST, "v1")
    assert live.is_symlink() and kept == store.live_version_folder()
    assert FIRST == _contents(live.resolve())
    store.release(SECOND, "v2")
    assert SECOND == _contents(live.resolve())
    assert FIRST == _contents(kept)  # the earlier version stays, to go back to


def test_the_same_version_released_twice_is_kept_once(tmp_path: Path) -> None:
    store = Releases(tmp_path / "rules")
    assert store.release(FIRST, "v1") == store.release(FIRST, "v1")
    assert ["v1"] == sorted(p.name for p in store.store.iterdir())


def test_a_first_release_over_a_real_folder_swaps_it_in_one_step(tmp_path: Path) -> None:
    live = tmp_path / "rules"
    live.mkdir()
    (live / "pack.yaml").write_bytes(b"name: by hand\n")
    Releases(live).release(FIRST, "v1")
    assert live.is_symlink() and FIRST == _contents(live.resolve())
    assert [] == [p for p in tmp_path.iterdir() if p.name.endswith(".link")]  # nothing left over


def test_old_versions_are_pruned_but_never_the_live_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(releases, "KEEP_VERSIONS", 2)
    store = Releases(tmp_path / "rules")
    live_one = store.release(FIRST, "v-live")
    for i in range(3):
        with store.staged({"pack.yaml": f"n: {i}\n".encode()}) as staged:
            kept = store.keep(staged, f"v{i}")
        os.utime(kept, (i + 1, i + 1))  # v0 the oldest of these three
    os.utime(live_one, (0, 0))  # the live one is the oldest of all
    store.prune()
    assert {"v-live", "v2", "v1"} == {p.name for p in store.store.iterdir() if not p.name.startswith(".")}


def test_a_live_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    live = tmp_path / "rules"
    live.write_text("not a folder")
    target = tmp_path / "target"
    target.mkdir()
    with pytest.raises(PublishRefused, match="is not a folder"):
        point(live, target)


def test_only_plain_files_are_read_for_a_release(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "pack.yaml").write_text("name: x\n")
    assert {"pack.yaml": b"name: x\n"} == read_pack_files(pack)
    (pack / "talking.yaml").symlink_to("/etc/hostname")
    with pytest.raises(PublishRefused, match=r"talking\.yaml is a link"):
        read_pack_files(pack)
