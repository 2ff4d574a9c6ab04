"""What a request carried that was ignored and may be a mistake, noted the same way
whichever way it came in: the server's gRPC requests (server/wire.py reads their Structs),
and the plain data of `earmark explain`, `rank`, `diff` and Studio (`plain_values`).

An attribute the pack doesn't declare is ignored, since catalogs carry many; one close to
a declared name is a warning ("did you mean 'mic'?"), and in strict mode an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from earmark.errors import InvalidArgument
from earmark.evaluation.validation import RequestValidator

# Undeclared names checked for near misses per request. A catalog sends a few hundred
# extra fields at most; the memo (validation.py) makes repeats cheap.
NAMES_LOOKED_AT = 512


class RequestNotes:
    """What one request carried that was ignored and may be a mistake: the warnings its
    verdict carries, and the undeclared names the metrics count. In strict mode each of
    these is INVALID_ARGUMENT instead."""

    def __init__(
        self,
        validator: RequestValidator,
        *,
        strict: bool,
        warnings: list[str] | None = None,
        still_wanted: Callable[[], None] = lambda: None,
    ) -> None:
        self.validator = validator
        # Raises DeadlineExceeded or CallCancelled once the caller has stopped waiting.
        self.still_wanted = still_wanted
        self.strict = strict
        self.warnings: list[str] = list(warnings or ())
        self.undeclared: list[tuple[str, str]] = []
        self.not_looked_at = 0  # undeclared names past NAMES_LOOKED_AT, counted only

    @property
    def looking(self) -> bool:
        """Whether the next undeclared name is still checked (strict mode checks them all)."""
        return self.strict or len(self.undeclared) < NAMES_LOOKED_AT

    def ignored(self, section: str, name: str) -> None:
        """An attribute the pack doesn't declare: ignored (catalogs carry many), but a
        near miss of a declared one is a warning. Past NAMES_LOOKED_AT of them, the rest
        are only counted: 100,000 invented names cost 11 s of CPU in one call."""
        if len(self.undeclared) >= NAMES_LOOKED_AT and not self.strict:
            self.not_looked_at += 1
            return
        self.undeclared.append((section, name))
        hint = self.validator.near_miss(section, name)
        if self.strict:
            raise InvalidArgument(f"{section}.{name}: not an attribute of this pack{hint} (strict mode)")
        if hint:
            self.warnings.append(f"{section}.{name} is not an attribute of this pack and was ignored{hint}")

    def finish(self) -> None:
        """Say how many undeclared names went unchecked, once the request is read."""
        if self.not_looked_at:
            self.warnings.append(
                f"{self.not_looked_at} more attributes this pack doesn't declare were ignored "
                f"without a check for near misses (only the first {NAMES_LOOKED_AT} are checked)"
            )
            self.not_looked_at = 0

    def no_kind(self, section: str, name: str) -> None:
        message = (
            f"{section}.{name} has no value: none of the google.protobuf.Value kinds is set "
            "(in JavaScript, write {stringValue: ...}, {numberValue: ...}, {boolValue: ...} or {listValue: ...})"
        )
        if self.strict:
            raise InvalidArgument(message)
        self.warnings.append(message + "; it was ignored")

    def nothing_sent(self, section: str) -> None:
        self.warnings.append(
            f"{section} carries no attributes, so nothing about the product could be judged "
            "(in JavaScript, a google.protobuf.Struct is written {fields: {mic: {stringValue: 'boom'}}})"
        )


def plain_values(
    values: Mapping[str, Any], declared: frozenset[str], notes: RequestNotes, section: str = "specs"
) -> dict[str, Any]:
    """The declared attributes of plain data (a catalog line, a file), None counting as
    absent, with the undeclared ones noted as a request's are."""
    out = {}
    for name, value in values.items():
        if name not in declared:
            notes.ignored(section, name)
        elif value is not None:
            out[name] = value
    notes.finish()
    return out
