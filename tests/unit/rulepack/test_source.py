"""Reading rule files (rulepack/source.py): YAML that holds data only, refused at once
when it would build objects or explode; and a file's parse kept by its bytes, so a reload
after one edit parses only the edited file, and what is kept never leaks from one file,
or one version of a file, into another."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from earmark.errors import PackError
from earmark.rulepack import source
from earmark.rulepack.loader import load_pack

from helpers import alias_bomb, set_boom_meetings
from pack_problems import assert_reported_at, refusal


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


def test_a_syntax_error_is_reported_at_its_line(pack_copy: Path) -> None:
    assert_reported_at(pack_copy, "rules:\n  - id: x\n    description: [unclosed\n", 4, "yaml-syntax", "")


def test_a_tag_that_would_build_an_object_is_refused(pack_copy: Path) -> None:
    assert_reported_at(pack_copy, "rules: !!python/object/apply:os.system ['true']\n", 1, "yaml-tag", "tags")


def test_a_tag_on_a_key_is_refused_like_one_on_a_value(pack_copy: Path) -> None:
    (pack_copy / "zz-tag.yaml").write_text("rules:\n  - !foo id: x\n    description: d\n")
    problems = refusal(pack_copy)
    assert ["yaml-tag"] == [p.code for p in problems]
    assert 2 == problems[0].line


def test_an_alias_bomb_is_refused_at_once(pack_copy: Path) -> None:
    """9 levels of 9 aliases in about 500 bytes used to hang check, test and serve."""
    bomb = alias_bomb(9, 9)
    assert len(bomb) < 600
    (pack_copy / "zz-bomb.yaml").write_text(bomb)
    started = time.monotonic()
    problems = refusal(pack_copy)
    assert time.monotonic() - started < 5
    assert ["yaml-alias"] == [p.code for p in problems]
    assert problems[0].path.endswith("zz-bomb.yaml") and 1 == problems[0].line
