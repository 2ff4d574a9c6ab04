"""Every exception Earmark raises, and the one mapping to a status. (Where a problem sits
and how a message quotes a value are in diagnostics.py.)

    EarmarkError                  base of what a client can meet; .status names its gRPC code
    ├── InvalidArgument           a request breaks the pack's vocabulary or a limit
    ├── PackUnavailable           no rule pack is live yet
    ├── DeadlineExceeded          a call ran past its deadline
    ├── CallCancelled             a batch's client went away
    ├── Overloaded                past EARMARK_MAX_CONCURRENT_RPCS calls, or queued too long
    ├── ResponseTooLarge          a response over EARMARK_MAX_MESSAGE_BYTES
    └── EngineFailure             durable_rules returned an error code (a bug, never input)
    PackError                     a rule pack cannot be loaded; carries every Problem
    TemplateSyntaxError           a text's {placeholders} are malformed (becomes a Problem)
    TooBigToSearch                a static analysis gave up on a condition (never reported)
    ListenFailed                  the server cannot bind its address (exit 1)
    AdmissionUnsupported          grpcio lacks the internals admission relies on (exit 1)
    PublishRefused                a publish would break clients, or can't be written whole
    ConfigError                   an EARMARK_* setting is invalid (exit 2)
    FileRefused                   Studio was asked for a file it must not read or write (403)
    BodyTooLarge                  a request to Studio over its body limit (413)

`public_error` is the one place an exception becomes what a client is told: the gRPC
interceptor uses it for calls, the batch loop for each item. This module imports nothing
of Earmark but diagnostics, and not grpc either, so that the rule-pack and evaluation layers, which raise
these errors, stay free of the transport; statuses are named by their gRPC code name.
"""

from __future__ import annotations

from typing import Any

from earmark.diagnostics import Problem, summarise

INTERNAL = "INTERNAL"


class EarmarkError(Exception):
    """Base of every error that can reach a client."""

    status: str = INTERNAL  # a grpc.StatusCode name

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(EarmarkError):
    """Raised when a request names a wrong type, a value outside the declared set or range,
    a missing product, or a batch over the limit. The message names the field and the value."""

    status = "INVALID_ARGUMENT"


class PackUnavailable(EarmarkError):
    """Raised when a call arrives before any rule pack has been loaded."""

    status = "UNAVAILABLE"


class DeadlineExceeded(EarmarkError):
    """Raised when a call runs past its deadline: the client's, or the server's default
    for clients that set none. The message names which."""

    status = "DEADLINE_EXCEEDED"


class CallCancelled(EarmarkError):
    """Raised when a batch's client has gone away: the rest of the page is not worth a
    thread that other callers are waiting for."""

    status = "CANCELLED"


class Overloaded(EarmarkError):
    """Raised for a call that found the server holding EARMARK_MAX_CONCURRENT_RPCS calls,
    or waited EARMARK_MAX_QUEUE_SECONDS for a thread. The message names the setting."""

    status = "RESOURCE_EXHAUSTED"


class ResponseTooLarge(EarmarkError):
    """Raised when a response would exceed EARMARK_MAX_MESSAGE_BYTES (a batch of many
    products with traces, say). The message gives the size and the limit."""

    status = "RESOURCE_EXHAUSTED"


class EngineFailure(EarmarkError):
    """Raised when durable_rules returns an error code. Clients see INTERNAL with their
    request id; the raw engine code goes to the log only."""

    status = INTERNAL


def public_error(exc: BaseException, request_id: str | None) -> tuple[str, str]:
    """The gRPC code name and message a client is given for `exc`. An internal failure,
    expected (EngineFailure) or not (a bug), is never described: the client gets its
    request id, and the caller logs the rest."""
    if isinstance(exc, EarmarkError) and exc.status != INTERNAL:
        return exc.status, exc.message
    return INTERNAL, f"internal error (request id {request_id})"


class PackError(Exception):
    """Raised when a rule pack cannot be loaded or compiled. Carries every problem found,
    sorted by file and line, so an author can fix them all in one pass. It never reaches a
    client: a pack that fails keeps the previous one live."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__(summarise(self.problems))

    def report(self, pack_dir: str) -> str:
        """What `earmark check` and `earmark serve` print for it, alike: a heading, then
        every problem on a line of its own."""
        count = len(self.problems)
        heading = f"the rule pack in {pack_dir} has {count} problem{'s' if count != 1 else ''}:"
        return "\n".join([heading, *(f"  {problem}" for problem in self.problems)])


class TemplateSyntaxError(ValueError):
    """Raised for a text whose braces don't pair up, or that uses format tricks; the loader
    turns it into a bad-placeholder problem at the text's line."""


class TooBigToSearch(Exception):
    """Raised when a condition has too many combinations for a static analysis to try;
    the analysis then reports nothing rather than guess."""


class ListenFailed(Exception):
    """Raised when the server cannot bind an address it was given. The message names the
    address and why."""


class AdmissionUnsupported(Exception):
    """Raised when the installed grpcio lacks the internals server/admission.py relies on;
    the server refuses to start rather than serve without its limits. The message names
    the grpcio version and what changed."""


class PublishRefused(Exception):
    """Raised when a pack passed its checks but the live folder cannot, or should not, be
    replaced by it: it would break requests that work today, its folder holds links or
    special files, or its files cannot be written (a full disk). The message says why in
    one plain line, and nothing is left half-written."""


class BreakingPublish(PublishRefused):
    """A publish refused only because it would break requests that work today. `changes`
    are the breaking contract changes, so that Studio can list them in plain words and ask
    the person to confirm, where the command line asks for --allow-breaking."""

    def __init__(self, message: str, changes: tuple[Any, ...]) -> None:
        super().__init__(message)
        self.changes = changes


class ConfigError(Exception):
    """Raised when an EARMARK_* (or OTEL_*) environment variable is invalid. The message names it."""


class FileRefused(Exception):
    """Raised when Studio is asked for a file it must not read or write: outside the pack,
    not a .yaml file, a link, or too big. The message says why; Studio answers 403."""


class FormRefused(Exception):
    """Raised when a Studio form can't be turned into YAML: a field is empty or not a
    number, an id is taken, or the file it edits doesn't parse. The message names the
    field in plain words; the form is shown again with it."""


class BodyTooLarge(Exception):
    """Raised for a request to Studio whose body passes its limit; Studio answers 413."""
