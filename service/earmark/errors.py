"""Every error Earmark raises, each knowing the gRPC status it becomes.

    EarmarkError                  base; .status is the gRPC code a client sees
    ├── InvalidArgument           a request breaks the pack's vocabulary or a limit
    ├── PackUnavailable           no rule pack is live yet
    ├── DeadlineExceeded          a batch ran past its deadline
    ├── CallCancelled             a batch's client went away
    ├── Overloaded                past EARMARK_MAX_CONCURRENT_RPCS calls at once
    ├── ResponseTooLarge          a response over EARMARK_MAX_MESSAGE_BYTES
    ├── EngineFailure             durable_rules returned an error code (a bug, never input)
    └── PackError                 a rule pack cannot be loaded; carries every Problem
    ConfigError                   an EARMARK_* setting is invalid (exit 2, never a status)

The interceptor turns an EarmarkError into its status; anything else becomes INTERNAL.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc


class EarmarkError(Exception):
    """Base of every error that can reach a client."""

    status: grpc.StatusCode = grpc.StatusCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(EarmarkError):
    """Raised when a request names a wrong type, a value outside the declared set or range,
    a missing product, or a batch over the limit. The message names the field and the value."""

    status = grpc.StatusCode.INVALID_ARGUMENT


class PackUnavailable(EarmarkError):
    """Raised when a call arrives before any rule pack has been loaded."""

    status = grpc.StatusCode.UNAVAILABLE


class DeadlineExceeded(EarmarkError):
    """Raised when a call runs past its deadline: the client's, or the server's default
    for clients that set none. The message names which."""

    status = grpc.StatusCode.DEADLINE_EXCEEDED


class CallCancelled(EarmarkError):
    """Raised when a batch's client has gone away: the rest of the page is not worth a
    thread that other callers are waiting for."""

    status = grpc.StatusCode.CANCELLED


class Overloaded(EarmarkError):
    """Raised instead of queueing a call when the server already holds as many calls as
    EARMARK_MAX_CONCURRENT_RPCS allows. The message names the setting and its value."""

    status = grpc.StatusCode.RESOURCE_EXHAUSTED


class ResponseTooLarge(EarmarkError):
    """Raised when a response would exceed EARMARK_MAX_MESSAGE_BYTES (a batch of many
    products with traces, say). The message gives the size and the limit."""

    status = grpc.StatusCode.RESOURCE_EXHAUSTED


class EngineFailure(EarmarkError):
    """Raised when durable_rules returns an error code. Clients see INTERNAL with their
    request id; the raw engine code goes to the log only."""

    status = grpc.StatusCode.INTERNAL


MAX_SHOWN = 60  # characters of a value quoted in a message
MAX_MESSAGE = 300  # characters of one problem's message: a value can be megabytes long
MAX_SHOWN_NUMBER = 1e15  # past this an integral float is shown as 1e+308, not 309 digits


def shown(value: object) -> str:
    """A value as a message quotes it: short, on one line, and never megabytes long."""
    if isinstance(value, float) and value.is_integer() and abs(value) < MAX_SHOWN_NUMBER:
        return str(int(value))
    if isinstance(value, float):
        return f"{value:g}"
    return clip(repr(value), MAX_SHOWN)


def clip(text: str, limit: int = MAX_MESSAGE) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def printable_path(path: str) -> str:
    """A path as a problem line shows it: quoted and escaped if it holds a newline or other
    control character, so that a file name can never forge a line of its own."""
    return path if path.isprintable() else repr(path)


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a rule pack, located for the person who edits it. An error
    stops the pack from loading; a warning is shown and fails only `earmark check --strict`.
    The message is clipped and the path escaped here, whoever built the problem."""

    path: str
    line: int
    column: int
    code: str
    message: str
    severity: str = "error"

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", printable_path(self.path))
        object.__setattr__(self, "message", clip(" ".join(self.message.split())))

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.severity}[{self.code}]: {self.message}"


class PackError(EarmarkError):
    """Raised when a rule pack cannot be loaded or compiled. Carries every problem found,
    sorted by file and line, so an author can fix them all in one pass."""

    status = grpc.StatusCode.FAILED_PRECONDITION

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__(summarise(self.problems))


MAX_REPORTED_PROBLEMS = 20  # in one log line, or DescribeRules' last_reload_error


def summarise(problems: list[Problem], most: int = MAX_REPORTED_PROBLEMS) -> str:
    """The problems one per line, at most `most` of them: a bounded text for logs and
    DescribeRules (each line is itself clipped)."""
    lines = [str(p) for p in problems[:most]]
    if len(problems) > most:
        lines.append(f"... and {len(problems) - most} more problems")
    return "\n".join(lines)


class ConfigError(Exception):
    """Raised when an EARMARK_* environment variable is invalid. The message names it."""
