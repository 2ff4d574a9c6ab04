"""Rule files written to hurt: alias bombs, pipes, huge and sparse files, link loops,
forged file names, megabyte values. Each is refused with its path, quickly, in bounded
memory, and never reaches a parser or the engine in a form that can hang it."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from earmark.errors import PackError, TooBigToSearch
from earmark.rulepack import analysis
from earmark.rulepack.loader import load_pack
from earmark.rulepack.model import Attribute, AttributeTest, AttrType
from earmark.rulepack.source import MAX_FILE_BYTES

from helpers import alias_bomb, rss_bytes


def _problems(pack: Path) -> list:
    with pytest.raises(PackError) as caught:
        load_pack(pack)
    return caught.value.problems


def test_an_alias_bomb_is_refused_at_once(pack_copy: Path) -> None:
    """9 levels of 9 aliases in about 500 bytes used to hang check, test and serve."""
    bomb = alias_bomb(9, 9)
    assert len(bomb) < 600
    (pack_copy / "zz-bomb.yaml").write_text(bomb)
    started = time.monotonic()
    problems = _problems(pack_copy)
    assert time.monotonic() - started < 5
    assert ["yaml-alias"] == [p.code for p in problems]
    assert problems[0].path.endswith("zz-bomb.yaml") and 1 == problems[0].line


def test_a_tag_on_a_key_is_refused_like_one_on_a_value(pack_copy: Path) -> None:
    (pack_copy / "zz-tag.yaml").write_text("rules:\n  - !foo id: x\n    description: d\n")
    problems = _problems(pack_copy)
    assert ["yaml-tag"] == [p.code for p in problems]
    assert 2 == problems[0].line


def test_a_fifo_in_the_pack_is_refused_without_blocking(pack_copy: Path) -> None:
    os.mkfifo(pack_copy / "zz.yaml")  # nobody writes to it: opening it to read used to block
    started = time.monotonic()
    problems = _problems(pack_copy)
    assert time.monotonic() - started < 5
    assert [("unreadable", "not a regular file")] == [(p.code, p.message[:18]) for p in problems]


def test_a_huge_sparse_file_is_refused_before_it_is_read(pack_copy: Path) -> None:
    """A 2 GB sparse file took 28 s and 6 GB of memory to be refused as too big."""
    with open(pack_copy / "zz-huge.yaml", "wb") as huge:
        huge.truncate(2 * 1024**3)
    before = rss_bytes()
    started = time.monotonic()
    problems = _problems(pack_copy)
    assert time.monotonic() - started < 5
    assert rss_bytes() - before < 50 * 1024**2
    assert [("too-big", f"file is over {MAX_FILE_BYTES} bytes")] == [(p.code, p.message) for p in problems]


def test_link_loops_and_dangling_links_are_problems_with_their_path(pack_copy: Path) -> None:
    (pack_copy / "zz-loop.yaml").symlink_to(pack_copy / "zz-loop2.yaml")
    (pack_copy / "zz-loop2.yaml").symlink_to(pack_copy / "zz-loop.yaml")
    (pack_copy / "zz-gone.yaml").symlink_to(pack_copy / "nothing-here.yaml")
    problems = _problems(pack_copy)
    found = {Path(p.path).name: p.message for p in problems}
    assert {"zz-loop.yaml", "zz-loop2.yaml", "zz-gone.yaml"} == set(found)
    assert "loop" in found["zz-loop.yaml"] and "does not exist" in found["zz-gone.yaml"]


def test_a_newline_in_a_file_name_cannot_forge_a_problem_line(pack_copy: Path) -> None:
    name = "zz.yaml\npack.yaml:1:1: error[fake]: x.yaml"
    (pack_copy / name).write_text("rules: [\n")
    problems = _problems(pack_copy)
    assert 1 == len(problems)
    assert 1 == len(str(problems[0]).splitlines())


def test_a_megabyte_value_is_clipped_in_the_problem(pack_copy: Path) -> None:
    """A 500 KB `say:` used to make a 500,000-character problem, log line and
    DescribeRules error."""
    text = "x" * 500_000
    (pack_copy / "zz-say.yaml").write_text(
        f"rules:\n  - id: zz-say\n    description: d\n    when: {{mic: boom}}\n    then:\n      fit: 1\n      say: {text}\n"
    )
    problems = _problems(pack_copy)
    assert problems
    assert all(len(str(p)) < 500 for p in problems), [len(str(p)) for p in problems]


def test_the_analysis_sizes_a_long_list_before_building_it() -> None:
    """`contains_any` of 22 items took 8 s and 1.5 GB building every subset; 600 hung."""
    tags = Attribute("codecs", "spec", AttrType.TEXT_LIST)
    for count in (22, 600):
        condition = AttributeTest(tags, "contains_any", tuple(f"c{i}" for i in range(count)))
        started = time.monotonic()
        with pytest.raises(TooBigToSearch):
            analysis.witness(condition)
        assert time.monotonic() - started < 1


def test_the_analyses_of_one_pack_share_a_bounded_budget() -> None:
    tags = Attribute("codecs", "spec", AttrType.TEXT_LIST)
    condition = AttributeTest(tags, "contains_any", tuple(f"c{i}" for i in range(15)))  # 65,535 subsets
    budget = analysis.Budget(100_000)
    assert analysis.witness(condition, budget) is not None
    with pytest.raises(TooBigToSearch):
        analysis.witness(condition, budget)
    assert budget.exhausted
