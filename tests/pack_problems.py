"""Breaking a copy of a pack and reading back what the loader refused it with.

Shared by the rulepack tests, one file per module: each writes the mistake its module
catches and checks where and how it is reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from earmark.diagnostics import Problem
from earmark.errors import PackError
from earmark.rulepack.loader import load_pack


def add_rule_file(pack: Path, body: str, name: str = "zz-test.yaml") -> str:
    (pack / name).write_text(body)
    return name


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} is not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def refusal(pack: Path) -> list[Problem]:
    """Every problem the load of `pack` is refused with; the load must be refused."""
    with pytest.raises(PackError) as caught:
        load_pack(pack)
    return list(caught.value.problems)


def only_problem(pack: Path, name: str) -> str:
    """The one problem the load is refused with, which must be in the file `name`."""
    problems = [str(p) for p in refusal(pack)]
    assert 1 == len(problems), problems
    assert problems[0].startswith(str(pack / name)) or f"/{name}:" in problems[0]
    return problems[0]


def assert_reported_at(pack: Path, body: str, line: int, code: str, words: str) -> None:
    """`body`, as a new rule file, is refused with one problem at `line` with `code`."""
    name = add_rule_file(pack, body)
    problem = only_problem(pack, name)
    assert f"{name}:{line}:" in problem
    assert f"error[{code}]" in problem
    assert words in problem


def mistake_ids(mistakes: list[tuple[str, int, str, str]]) -> list[str]:
    """Test ids for a list of (body, line, code, words): the code, numbered."""
    return [f"{code}-{i}" for i, (_, _, code, _) in enumerate(mistakes)]
