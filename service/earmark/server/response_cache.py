"""Answers kept as the bytes that were sent: a storefront asks about the same product with
the same request again and again (the same listing page, the same bestsellers), and
answering it again cost decoding, validating, a verdict-cache lookup, filling and
serializing the verdict; kept, it costs a dictionary lookup.

The key is the request message's bytes exactly as they arrived: everything that decides
the answer (product, specs, shopper, locale, trace, strict, read mask) is in them, and a
request spelled differently is only a miss. One cache per evaluator, so a reload starts
empty and no answer of an old pack is ever sent. What the metrics count for an answer
(the rules that fired, the undeclared names) is kept with it, so a hit counts the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from earmark.evaluation.memo import Bounded


@dataclass(frozen=True, slots=True)
class Answered:
    data: bytes  # the serialized response
    fired: tuple[str, ...]  # rule ids, for earmark_rule_hits_total
    undeclared: tuple[tuple[str, str], ...]  # (section, name), for the undeclared-attribute counter


# At most EARMARK_CACHE_ENTRIES answers, least recently used out, keyed by request bytes.
ResponseCache = Bounded[Answered]


class Raw:
    """A request as the interceptor decoded it, with the bytes it was decoded from."""

    __slots__ = ("data", "message")

    def __init__(self, message: object, data: bytes) -> None:
        self.message = message
        self.data = data
