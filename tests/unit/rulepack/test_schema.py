"""The shape of each file (rulepack/schema.py): unknown and missing keys, and values of
the wrong kind, each at its line with the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from pack_problems import assert_reported_at, mistake_ids

SHAPE_MISTAKES = [
    # (file body, line, code, words in the message)
    (
        "rules:\n  - id: x\n    description: d\n    wen: {mic: boom}\n    then: {fit: 1}\n",
        4,
        "unknown-key",
        "did you mean 'when'",
    ),
    ("rules:\n  - id: x\n    description: d\n    when: {mic: boom}\n", 2, "missing-key", "'then'"),
    (
        'rules:\n  - id: x\n    description: d\n    when: {mic: boom}\n    then: {fit: "5"}\n',
        5,
        "bad-value",
        "fit",
    ),
    # Issue 24: a key written one level left of the block it belongs to is an indentation
    # slip, and is called one (it was "unknown key 'de'; expected one of: category, ...").
    (
        "rules:\n  - id: x\n    description: d\n    when: {mic: boom}\n    then:\n      fit: 1\n"
        "      say:\n        en: a boom mic\n      de: ein Bügelmikrofon\n",
        9,
        "unknown-key",
        "'de' is indented too little: it belongs under 'say:' just above; move it right so that it "
        "lines up with 'en'",
    ),
    (
        "rules:\n  - id: x\n    description: d\n    when: {mic: boom}\n    then:\n      fit: 1\n"
        "    say: a boom mic\n",
        7,
        "unknown-key",
        "'say' is indented too little: it belongs under 'then:' just above; move it right so that it "
        "lines up with 'fit'",
    ),
]


@pytest.mark.parametrize(("body", "line", "code", "words"), SHAPE_MISTAKES, ids=mistake_ids(SHAPE_MISTAKES))
def test_each_shape_mistake_is_reported_at_its_line(
    pack_copy: Path, body: str, line: int, code: str, words: str
) -> None:
    assert_reported_at(pack_copy, body, line, code, words)
