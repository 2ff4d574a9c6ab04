"""A pack folder's files as a load reads them: the bytes kept are the bytes checked, and a
folder replaced while it is read is read again instead of loading as a mix of two."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from earmark.errors import PackError
from earmark.rulepack import files
from earmark.rulepack.loader import load_pack


def _variant(pack: Path, where: Path, mark: str) -> Path:
    """A copy of `pack` whose manifest and one rule file both differ from it."""
    shutil.copytree(pack, where)
    for name in ("pack.yaml", "talking.yaml"):
        with (where / name).open("a") as file:
            file.write(f"\n# {mark}\n")
    return where


def test_the_pack_keeps_the_bytes_of_every_file_it_read(pack_copy: Path) -> None:
    pack = load_pack(pack_copy)
    on_disk = {p.relative_to(pack_copy).as_posix(): p.read_bytes() for p in files.pack_file_paths(pack_copy)}
    assert on_disk == dict(pack.files)


def test_a_folder_swapped_while_it_is_read_loads_as_one_version(
    pack_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A publish that exchanges the folder after the manifest was read, before the rule
    files: the load must give the new version whole, not the old manifest with new rules."""
    new = _variant(pack_copy, tmp_path / "new", "published second")
    expected = load_pack(new)
    read = files.PackFiles.read
    swapped = []

    def read_then_swap(self: files.PackFiles, path: Path) -> object:
        source = read(self, path)
        if not swapped:
            swapped.append(path)
            for name in ("pack.yaml", "talking.yaml"):  # each in one step, as an editor saves
                os.replace(new / name, pack_copy / name)
        return source

    monkeypatch.setattr(files.PackFiles, "read", read_then_swap)
    loaded = load_pack(pack_copy)
    assert (expected.version, dict(expected.files)) == (loaded.version, dict(loaded.files))


def test_a_folder_that_never_holds_still_is_refused_in_plain_words(
    pack_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    read = files.PackFiles.read
    saves = iter(range(1_000))

    def read_then_touch(self: files.PackFiles, path: Path) -> object:
        source = read(self, path)
        (pack_copy / "talking.yaml").write_text(
            (pack_copy / "talking.yaml").read_text() + f"# {next(saves)}\n"
        )
        return source

    monkeypatch.setattr(files.PackFiles, "read", read_then_touch)
    with pytest.raises(PackError) as caught:
        load_pack(pack_copy)
    assert ["changed-while-read"] == [p.code for p in caught.value.problems]
    assert "kept changing while they were read" in str(caught.value)
