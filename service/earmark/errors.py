"""Every error Earmark raises, each knowing the gRPC status it becomes.

    EarmarkError                  base; .status is the gRPC code a client sees
    ├── InvalidArgument           a request breaks the pack's vocabulary or a limit
    ├── PackUnavailable           no rule pack is live yet
    ├── DeadlineExceeded          a batch ran past its deadline
    ├── CallCancelled             a batch's client went away
    ├── Overloaded                past EARMARK_MAX_CONCURRENT_RPCS calls at once
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


class EngineFailure(EarmarkError):
    """Raised when durable_rules returns an error code. Clients see INTERNAL with their
    request id; the raw engine code goes to the log only."""

    status = grpc.StatusCode.INTERNAL


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a rule pack, located for the person who edits it. An error
    stops the pack from loading; a warning is shown and fails only `earmark check --strict`."""

    path: str
    line: int
    column: int
    code: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.severity}[{self.code}]: {self.message}"


class PackError(EarmarkError):
    """Raised when a rule pack cannot be loaded or compiled. Carries every problem found,
    sorted by file and line, so an author can fix them all in one pass."""

    status = grpc.StatusCode.FAILED_PRECONDITION

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ConfigError(Exception):
    """Raised when an EARMARK_* environment variable is invalid. The message names it."""
