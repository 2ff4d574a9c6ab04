"""The YAML parser's complaints, said in plain words with the fix, for people who have
never written YAML by hand before.

The parser reports what its grammar expected ("expected <block end>, but found
'<scalar>'"); an author needs to know what they typed wrong and what to type instead.
Each explanation looks at the line the parser stopped on, so that it can quote it and
say exactly which fix applies. An error none of these recognise keeps the parser's
words, cleaned of its jargon.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ruamel.yaml.error import MarkedYAMLError

_KEY_AND_VALUE = re.compile(r"^(\s*)(-\s+)?([^\s:#][^:#]*?):\s+(.*)$")


@dataclass(frozen=True)
class Explained:
    line: int  # 1-based
    column: int
    message: str


def explain(exc: MarkedYAMLError, text: str) -> Explained:
    """Where the mistake is and what to do about it."""
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line, mark.column) if mark else (0, 0)
    lines = text.splitlines()
    source_line = lines[line] if line < len(lines) else ""
    problem = str(exc.problem or "")
    for explainer in (_tab, _colon_in_text, _text_starting_with_brace, _indentation):
        found = explainer(exc, problem, lines, line, column, source_line)
        if found is not None:
            return found
    return Explained(line + 1, column + 1, _plain(" ".join(str(p) for p in (exc.context, exc.problem) if p)))


def _tab(
    exc: MarkedYAMLError, problem: str, lines: list[str], line: int, column: int, text: str
) -> Explained | None:
    if "'\\t'" not in problem:
        return None
    return Explained(
        line + 1,
        column + 1,
        "this line is indented with a tab; use spaces, not tabs (two per level, as in the lines around it)",
    )


def _colon_in_text(
    exc: MarkedYAMLError, problem: str, lines: list[str], line: int, column: int, text: str
) -> Explained | None:
    if "mapping values are not allowed" not in problem:
        return None
    written = _KEY_AND_VALUE.match(text)
    if written is None:
        return Explained(
            line + 1, column + 1, "a colon followed by a space starts a new key here; put the text in quotes"
        )
    key, value = written.group(3), written.group(4)
    quoted = value.replace('"', '\\"')
    return Explained(
        line + 1,
        written.start(4) + 1,  # where the text starts
        f"the text after '{key.strip()}:' holds a colon followed by a space, which YAML reads as the "
        f'start of another key; put the text in quotes: {key.strip()}: "{quoted}"',
    )


def _text_starting_with_brace(
    exc: MarkedYAMLError, problem: str, lines: list[str], line: int, column: int, text: str
) -> Explained | None:
    if "expected <block end>" not in problem and "expected ',' or '}'" not in problem:
        return None
    written = _KEY_AND_VALUE.match(text)
    if written is None or not written.group(4).startswith("{"):
        return None
    key, value = written.group(3).strip(), written.group(4)
    quoted = value.replace('"', '\\"')
    return Explained(
        line + 1,
        written.start(4) + 1,
        f"a text that starts with a {{placeholder}} must be in quotes, or YAML reads the braces as a "
        f'list of keys: {key}: "{quoted}"' + _also_dedented(lines, line, key),
    )


def _also_dedented(lines: list[str], line: int, key: str) -> str:
    """A second slip on the same line, said with the first: indented less than the
    `key: text` line just above it (a `de:` under its `en:`), which quoting alone won't
    fix (issue 24: following the quotes advice broke the rule)."""
    above = next(
        (text for text in reversed(lines[:line]) if text.strip() and not text.lstrip().startswith("#")), ""
    )
    where, there = _indent(lines[line]), _indent(above)
    if not above or there <= where or above.rstrip().endswith(":") or ":" not in above:
        return ""
    distance = there - where
    return (
        f"; it is also indented {where} spaces, but '{_key(above)}' just above is indented {there}: "
        f"if the two belong together, move '{key}' {distance} space{'s' if distance != 1 else ''} to the right"
    )


def _indentation(
    exc: MarkedYAMLError, problem: str, lines: list[str], line: int, column: int, text: str
) -> Explained | None:
    if "expected <block end>" not in problem or exc.context_mark is None:
        return None
    where = _indent(text)
    # The keys written above, back to the start of the block the parser was reading, with
    # their columns: the line meant to line up with one of them, most likely the nearest
    # in column (the line just above wins a tie: one usually continues a list of keys).
    above = [
        (number, _indent(lines[number]))
        for number in range(exc.context_mark.line, line)
        if lines[number].strip() and not lines[number].lstrip().startswith("#")
    ]
    if not above:
        return None
    previous = above[-1][1]
    target = min({c for _, c in above}, key=lambda c: (abs(c - where), c != previous))
    if target == where:
        return None  # lined up: something else is wrong, and the parser's words will do
    sibling_line = max(number for number, c in above if c == target)
    sibling = _key(lines[sibling_line])
    this = _key(text) or "this line"
    distance = abs(target - where)
    return Explained(
        line + 1,
        where + 1,
        f"'{this}' is indented {where} spaces, but '{sibling}' on line {sibling_line + 1} is indented "
        f"{target}; move '{this}' {distance} space{'s' if distance != 1 else ''} to the "
        f"{'right' if where < target else 'left'} so that the two line up",
    )


def _indent(text: str) -> int:
    """Where a line's content starts (a list item's dash counts as indentation)."""
    stripped = text.lstrip(" ")
    if stripped.startswith("- "):
        return len(text) - len(stripped[2:].lstrip(" "))
    return len(text) - len(stripped)


def _key(text: str) -> str:
    return text.strip().lstrip("- ").split(":", 1)[0].strip()


_JARGON = (
    ("<block end>", "the end of the block"),
    ("<block mapping start>", "a new key"),
    ("<scalar>", "a value"),
    ("<stream end>", "the end of the file"),
    ("while parsing a block mapping ", ""),
    ("while scanning a simple key ", ""),
    ("while scanning for the next token ", ""),
)


def _plain(message: str) -> str:
    for jargon, words in _JARGON:
        message = message.replace(jargon, words)
    return message
