"""Diagnostics: where something is written, what is wrong there, and how a message
quotes a value. A rule pack's problems, a request's refusals and a setting's errors are
all worded through here, so every message reads alike and stays short.

    Location        a file as its author names it, a line and a column
    Problem         one thing wrong at a Location, an error or a warning, with its code
    Findings        the problems one stage of loading has found
    summarise       problems as a bounded text, for logs and DescribeRules
    shown, clip     a value quoted short, on one line
    did_you_mean    the suggestion every "unknown X" message makes

It imports nothing of Earmark, so that every layer can use it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

# ---- what messages quote ------------------------------------------------------------------

MAX_SHOWN = 60  # characters of a value quoted in a message
MAX_MESSAGE = 300  # characters of one problem's message: a value can be megabytes long
MAX_SHOWN_NUMBER = 1e17  # past this an integral float is shown as 1e+308, not 309 digits


def shown(value: object) -> str:
    """A value as a message quotes it: short, on one line, and never megabytes long."""
    if isinstance(value, float) and value.is_integer() and abs(value) < MAX_SHOWN_NUMBER:
        return str(int(value))
    if isinstance(value, float):
        # repr: the shortest text that is this number. `:g` showed 1000000000000002 as
        # 1e+15, which reads as within a limit of 1000000000000000 that it is over.
        return repr(value)
    return clip(repr(value), MAX_SHOWN)


def clip(text: str, limit: int = MAX_MESSAGE) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def did_you_mean(word: str, choices: Iterable[str], *, otherwise: str = "", quote: str = "'") -> str:
    """ " (did you mean 'x'?)" for the closest of `choices`, else `otherwise`. Every
    "unknown X" message, in rule files and in settings, suggests through this."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {quote}{close[0]}{quote}?)" if close else otherwise


def printable_path(path: str) -> str:
    """A path as a problem line shows it: quoted and escaped if it holds a newline or other
    control character, so that a file name can never forge a line of its own."""
    return path if path.isprintable() else repr(path)


# ---- problems with a rule pack ------------------------------------------------------------

Severity = Literal["error", "warning"]

# Every code a Problem may carry, each with a section of its own in docs/rules.md (a test
# holds the two together). A Problem with any other code is a bug, refused when it is made.
PROBLEM_CODES = frozenset(
    {
        "bad-condition",
        "bad-expectation",
        "bad-number",
        "bad-placeholder",
        "bad-range",
        "bad-reference",
        "bad-value",
        "category-conflict",
        "changed-while-read",
        "checked-in-part",
        "duplicate-case-id",
        "duplicate-id",
        "duplicate-rule-id",
        "empty-condition",
        "encoding",
        "engine-refused",
        "example-failed",
        "fragment-too-long",
        "missing-default-text",
        "missing-key",
        "missing-translation",
        "never-fires",
        "no-effect",
        "no-manifest",
        "no-pack",
        "outside-pack",
        "rule-too-complex",
        "stale-schema",
        "too-big",
        "too-many-alternatives",
        "too-many-attributes",
        "too-many-identical-rules",
        "too-many-matches",
        "too-many-rules",
        "type-mismatch",
        "unexercised-rule",
        "unknown-attribute",
        "unknown-case",
        "unknown-category",
        "unknown-key",
        "unknown-locale",
        "unknown-operator",
        "unknown-placeholder",
        "unknown-rule",
        "unknown-use-case",
        "unknown-value",
        "unreadable",
        "unscored-use-case",
        "value-too-long",
        "yaml-alias",
        "yaml-syntax",
        "yaml-tag",
    }
)


@dataclass(frozen=True, order=True)
class Location:
    """Where something is written: a file as the author names it, a line and a column."""

    path: str
    line: int = 1
    column: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", printable_path(self.path))

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a rule pack, located for the person who edits it. An error
    stops the pack from loading; a warning is shown and fails only `earmark check --strict`.
    The message is clipped here, whoever built the problem."""

    location: Location
    code: str
    message: str
    severity: Severity = "error"

    def __post_init__(self) -> None:
        if self.code not in PROBLEM_CODES:
            raise ValueError(
                f"{self.code!r} is not in diagnostics.PROBLEM_CODES; add it there and to docs/rules.md"
            )
        object.__setattr__(self, "message", clip(" ".join(self.message.split())))

    @property
    def path(self) -> str:
        return self.location.path

    @property
    def line(self) -> int:
        return self.location.line

    @property
    def column(self) -> int:
        return self.location.column

    def __str__(self) -> str:
        where = self.location
        return f"{where.path}:{where.line}:{where.column}: {self.severity}[{self.code}]: {self.message}"


@dataclass
class Findings:
    """The problems one stage of loading has found: the one way to record one."""

    problems: list[Problem] = field(default_factory=list)

    def error(self, location: Location, code: str, message: str) -> None:
        self.problems.append(Problem(location, code, message))

    def warning(self, location: Location, code: str, message: str) -> None:
        self.problems.append(Problem(location, code, message, "warning"))

    def add(self, problems: Iterable[Problem]) -> None:
        self.problems.extend(problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True while no error has been recorded (warnings don't count)."""
        return not any(p.severity == "error" for p in self.problems)


MAX_REPORTED_PROBLEMS = 20  # in one log line, or DescribeRules' last_reload_error


def summarise(problems: list[Problem], most: int = MAX_REPORTED_PROBLEMS) -> str:
    """The problems one per line, at most `most` of them: a bounded text for logs and
    DescribeRules (each line is itself clipped)."""
    lines = [str(p) for p in problems[:most]]
    if len(problems) > most:
        lines.append(f"... and {len(problems) - most} more problems")
    return "\n".join(lines)
