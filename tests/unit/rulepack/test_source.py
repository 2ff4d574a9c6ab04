"""Reading rule files (rulepack/source.py): a file's parse is kept by its bytes, so a
reload after one edit parses only the edited file, and what is kept never leaks from one
file, or one version of a file, into another."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from earmark.errors import PackError
from earmark.rulepack import source
from earmark.rulepack.loader import load_pack

from helpers import set_boom_meetings


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The display paths of the files ruamel really parses, from an empty memo."""
    parsed: list[str] = []
    real = source._parse

    def counted(raw: bytes, display_path: str) -> Any:
        parsed.append(display_path)
        return real(raw, display_path)

    source._parse_kept.cache_clear()
    monkeypatch.setattr(source, "_parse", counted)
    yield parsed
    source._parse_kept.cache_clear()


def test_a_reload_after_one_edit_parses_only_the_edited_file(pack_copy: Path, parses: list[str]) -> None:
    first = load_pack(pack_copy)
    assert len(parses) > 10  # every file of the bundled pack, once
    parses.clear()
    assert first.version == load_pack(pack_copy).version
    assert [] == parses
    set_boom_meetings(pack_copy, 11)
    edited = load_pack(pack_copy)
    assert ["talking.yaml"] == [Path(p).name for p in parses]
    assert edited.version != first.version
    boom = next(rule for rule in edited.rules if rule.location.path.endswith("talking.yaml"))
    assert 11 == dict(boom.scores)["meetings"]


def test_the_same_bytes_in_two_files_are_blamed_on_each_file_by_its_own_name(
    pack_copy: Path, parses: list[str]
) -> None:
    broken = "rules:\n  - id: [unclosed\n"
    (pack_copy / "a-broken.yaml").write_text(broken)
    (pack_copy / "b-broken.yaml").write_text(broken)
    with pytest.raises(PackError) as caught:
        load_pack(pack_copy)
    blamed = sorted({Path(problem.location.path).name for problem in caught.value.problems})
    assert ["a-broken.yaml", "b-broken.yaml"] == blamed


def test_a_big_file_is_parsed_every_time_not_kept(pack_copy: Path, parses: list[str]) -> None:
    talking = pack_copy / "talking.yaml"
    talking.write_text(talking.read_text() + "#" * source.PARSE_MEMO_MAX_BYTES + "\n")
    load_pack(pack_copy)
    load_pack(pack_copy)
    assert 2 == parses.count(str(talking))
