"""A pack folder's files as a load reads them (rulepack/files.py): only plain files inside
the folder, each refused by its path when it is not one; the version from the bytes alone;
the bytes kept are the bytes checked; and a folder replaced while it is read is read again
instead of loading as a mix of two."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest

from earmark.config import BUNDLED_RULES
from earmark.errors import PackError
from earmark.rulepack import files
from earmark.rulepack.loader import load_pack
from earmark.rulepack.source import MAX_FILE_BYTES

from helpers import rss_bytes
from pack_problems import only_problem, refusal


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


def _parsed_files(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files ruamel is asked to parse during the test (the costly step)."""
    parsed: list[str] = []
    parse = files.parse_yaml

    def counting(raw: bytes, display_path: str) -> object:
        parsed.append(Path(display_path).name)
        return parse(raw, display_path)

    monkeypatch.setattr(files, "parse_yaml", counting)
    return parsed


def test_too_many_rules_are_refused_by_their_count_before_any_rule_file_is_parsed(
    pack_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Was: 10,000 rules were parsed and measured (49 s, 237 MB) before being refused."""
    for part in range(3):
        rules = "".join(
            f"  - id: zz-{part}-{i}\n    description: d\n    when: {{weight_g: {{at_least: {i}}}}}\n"
            "    then: {scores: {music: 1}}\n"
            for i in range(400)
        )
        (pack_copy / f"zz-{part}.yaml").write_text("rules:\n" + rules)
    parsed = _parsed_files(monkeypatch)
    with pytest.raises(PackError) as caught:
        load_pack(pack_copy)
    problems = [str(p) for p in caught.value.problems]
    # The 1,001st rule: the bundled pack's own rules come first in name order.
    assert 1 == len(problems) and "error[too-many-rules]" in problems[0], problems
    assert re.search(r"the pack has 1\d{3} rules", problems[0]) and "at most 1000" in problems[0]
    assert ["pack.yaml"] == parsed  # the manifest only: no rule file was parsed


def test_a_file_of_one_repeated_key_is_refused_without_being_parsed(
    pack_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Was: 20 s and 307 MB to report one duplicate key in a 1 MB file."""
    (pack_copy / "zz-pasted.yaml").write_text("rules: []\n" + "key: 1\n" * 140_000)
    parsed = _parsed_files(monkeypatch)
    with pytest.raises(PackError) as caught:
        load_pack(pack_copy)
    problems = [p for p in caught.value.problems if p.location.path.endswith("zz-pasted.yaml")]
    assert ["too-big"] == [p.code for p in problems]
    assert "more than 50,000 values" in problems[0].message
    assert "zz-pasted.yaml" not in parsed


def test_version_depends_on_content_only(pack_copy: Path, tmp_path: Path) -> None:
    first = load_pack(pack_copy).version
    assert first == load_pack(pack_copy).version
    other = tmp_path / "elsewhere"
    pack_copy.rename(other)
    assert first == load_pack(other).version  # same files elsewhere: same version
    talking = other / "talking.yaml"
    talking.write_text(talking.read_text().replace("meetings: 22", "meetings: 23"))
    assert first != load_pack(other).version


def test_a_missing_manifest_is_reported(pack_copy: Path) -> None:
    (pack_copy / "pack.yaml").unlink()
    assert "error[no-manifest]" in only_problem(pack_copy, "pack.yaml")


def test_a_symlink_out_of_the_pack_is_refused(pack_copy: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("rules: []\n")
    (pack_copy / "sneaky.yaml").symlink_to(outside)
    assert "error[outside-pack]" in only_problem(pack_copy, "sneaky.yaml")


def test_a_fifo_in_the_pack_is_refused_without_blocking(pack_copy: Path) -> None:
    os.mkfifo(pack_copy / "zz.yaml")  # nobody writes to it: opening it to read used to block
    started = time.monotonic()
    problems = refusal(pack_copy)
    assert time.monotonic() - started < 5
    assert [("unreadable", "not a regular file")] == [(p.code, p.message[:18]) for p in problems]


def test_a_huge_sparse_file_is_refused_before_it_is_read(pack_copy: Path) -> None:
    """A 2 GB sparse file took 28 s and 6 GB of memory to be refused as too big."""
    with open(pack_copy / "zz-huge.yaml", "wb") as huge:
        huge.truncate(2 * 1024**3)
    before = rss_bytes()
    started = time.monotonic()
    problems = refusal(pack_copy)
    assert time.monotonic() - started < 5
    assert rss_bytes() - before < 50 * 1024**2
    assert [("too-big", f"file is over {MAX_FILE_BYTES} bytes")] == [(p.code, p.message) for p in problems]


def test_link_loops_and_dangling_links_are_problems_with_their_path(pack_copy: Path) -> None:
    (pack_copy / "zz-loop.yaml").symlink_to(pack_copy / "zz-loop2.yaml")
    (pack_copy / "zz-loop2.yaml").symlink_to(pack_copy / "zz-loop.yaml")
    (pack_copy / "zz-gone.yaml").symlink_to(pack_copy / "nothing-here.yaml")
    found = {Path(p.path).name: p.message for p in refusal(pack_copy)}
    assert {"zz-loop.yaml", "zz-loop2.yaml", "zz-gone.yaml"} == set(found)
    assert "loop" in found["zz-loop.yaml"] and "does not exist" in found["zz-gone.yaml"]


def test_a_newline_in_a_file_name_cannot_forge_a_problem_line(pack_copy: Path) -> None:
    name = "zz.yaml\npack.yaml:1:1: error[fake]: x.yaml"
    (pack_copy / name).write_text("rules: [\n")
    problems = refusal(pack_copy)
    assert 1 == len(problems)
    assert 1 == len(str(problems[0]).splitlines())


def test_a_flat_pack_as_a_configmap_mounts_it_loads_with_the_same_version(tmp_path: Path) -> None:
    """A ConfigMap holds no folders: examples/x.yaml arrives as examples--x.yaml."""
    flat = tmp_path / "flat"
    flat.mkdir()
    for path in BUNDLED_RULES.glob("*.yaml"):
        shutil.copy(path, flat / path.name)
    for path in (BUNDLED_RULES / "examples").glob("*.yaml"):
        shutil.copy(path, flat / f"examples--{path.name}")
    nested, mounted = load_pack(BUNDLED_RULES), load_pack(flat)
    assert mounted.version == nested.version
    assert len(mounted.examples) == len(nested.examples) > 0
    assert len(mounted.rules) == len(nested.rules)
    assert dict(mounted.files).keys() == dict(nested.files).keys()  # named as in the folder
