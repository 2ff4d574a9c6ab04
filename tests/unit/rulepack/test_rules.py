"""Rule files (rulepack/rules.py): what a rule's `then:` may do, checked against the
pack's vocabulary, and graded amounts named in plain words when they are wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import probe_rule
from pack_problems import add_rule_file, assert_reported_at, mistake_ids, refusal

EFFECT_MISTAKES = [
    # (file body, line, code, words in the message)
    (
        "rules:\n  - id: x\n    description: d\n    when: {mic: boom}\n    then:\n      scores: {musik: 5}\n",
        6,
        "unknown-use-case",
        "'musik'",
    ),
    (
        "rules:\n  - id: x\n    description: d\n    when: {mic: boom}\n    then:\n      category: speaker\n",
        6,
        "unknown-category",
        "'speaker'",
    ),
    (
        "rules:\n  - id: x\n    description: d\n    when: {mic: boom}\n    then: {priority: 3}\n",
        5,
        "no-effect",
        "changes nothing",
    ),
]


@pytest.mark.parametrize(("body", "line", "code", "words"), EFFECT_MISTAKES, ids=mistake_ids(EFFECT_MISTAKES))
def test_each_effect_mistake_is_reported_at_its_line(
    pack_copy: Path, body: str, line: int, code: str, words: str
) -> None:
    assert_reported_at(pack_copy, body, line, code, words)


@pytest.mark.parametrize(
    ("then", "code", "words"),
    [
        (
            "{scores: {music: 4}, graded: {by: wieght_g, from: 400, to: 40}}",
            "unknown-attribute",
            "did you mean 'weight_g'?",
        ),
        (
            "{scores: {music: 4}, graded: {by: mic, from: 1, to: 2}}",
            "unknown-attribute",
            "graded: takes one of",
        ),
        (
            "{scores: {music: 4}, graded: {by: weight_g, from: 40, to: 40}}",
            "bad-range",
            "from and to are both 40",
        ),
        (
            "{category: headset, graded: {by: weight_g, from: 400, to: 40}}",
            "no-effect",
            "scales scores or fit",
        ),
        ("{scores: {music: 4}, graded: {by: weight_g, to: 40}}", "missing-key", "from"),
        # Was accepted, and the rule then silently added nothing to any product.
        ("{scores: {music: 4}, graded: {by: weight_g, from: .nan, to: 40}}", "bad-value", "finite number"),
        ("{scores: {music: 4}, graded: {by: weight_g, from: 400, to: -.inf}}", "bad-value", "finite number"),
    ],
)
def test_a_mistaken_grade_is_named_in_plain_words(pack_copy: Path, then: str, code: str, words: str) -> None:
    name = add_rule_file(
        pack_copy, "rules:\n" + probe_rule("zz-graded", "weight_g: {present: true}", then), "zz-graded.yaml"
    )
    problems = [p for p in refusal(pack_copy) if p.location.path.endswith(name)]
    assert [code] == [p.code for p in problems], problems
    assert words in problems[0].message
