"""Translatable texts (rulepack/texts.py): which placeholders a text may use, how long a
fragment may be, and one text per declared locale."""

from __future__ import annotations

from pathlib import Path

import pytest

from earmark.rulepack.loader import load_pack

from pack_problems import add_rule_file, assert_reported_at, mistake_ids, refusal

TEXT_MISTAKES = [
    # (file body, line, code, words in the message)
    (
        "rules:\n  - id: x\n    description: d\n    when: {mic: boom}\n    then:\n      fit: 1\n      say: a {batery_hours}-hour battery\n",
        7,
        "unknown-placeholder",
        "{batery_hours}",
    ),
    (
        "rules:\n  - id: x\n    description: d\n    when: {mic: boom}\n    then:\n      fit: 1\n      say: "
        + "very " * 30
        + "long\n",
        7,
        "fragment-too-long",
        "widget allows 90",
    ),
]


@pytest.mark.parametrize(("body", "line", "code", "words"), TEXT_MISTAKES, ids=mistake_ids(TEXT_MISTAKES))
def test_each_text_mistake_is_reported_at_its_line(
    pack_copy: Path, body: str, line: int, code: str, words: str
) -> None:
    assert_reported_at(pack_copy, body, line, code, words)


def test_an_unknown_locale_and_a_missing_default_text_are_errors(pack_copy: Path) -> None:
    name = add_rule_file(
        pack_copy,
        "rules:\n  - id: x\n    description: d\n    when: {mic: boom}\n    then:\n      fit: 1\n      say:\n        en: hi\n        fr: salut\n"
        "  - id: y\n    description: d\n    when: {mic: boom}\n    then:\n      fit: 1\n      say: {de: hallo}\n",
    )
    problems = [str(p) for p in refusal(pack_copy)]
    assert 2 == len(problems), problems
    assert f"{name}:9:" in problems[0] and "error[unknown-locale]" in problems[0] and "'fr'" in problems[0]
    assert (
        f"{name}:15:" in problems[1]
        and "error[missing-default-text]" in problems[1]
        and "'en'" in problems[1]
    )


def test_a_text_without_a_translation_is_a_warning(pack_copy: Path) -> None:
    name = add_rule_file(
        pack_copy,
        "rules:\n  - id: x\n    description: d\n    when: {mic: boom}\n    then:\n      fit: 1\n      say: english only\n",
    )
    pack = load_pack(pack_copy)
    warnings = [str(w) for w in pack.warnings]
    assert 1 == len(warnings), warnings
    assert (
        f"{name}:7:" in warnings[0]
        and "warning[missing-translation]" in warnings[0]
        and "no 'de' text" in warnings[0]
    )
