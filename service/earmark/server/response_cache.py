"""Answers kept as the bytes that were sent: a storefront asks about the same product with
the same request again and again (the same listing page, the same bestsellers), and
answering it again cost decoding, validating, a verdict-cache lookup, filling and
serializing the verdict; kept, it costs a dictionary lookup.

For Evaluate the key is the request message's bytes exactly as they arrived: everything
that decides the answer (product, specs, shopper, locale, trace, strict, read mask) is in
them, and a request spelled differently is only a miss. For a batch's product it is the
page's bytes without its products (shopper, locale, trace, strict, read mask) beside the
product's own: each item is kept as its BatchItem's bytes, and a page is answered by
splicing them (`spliced_items`). The two kinds of key (bytes, and a pair) never meet.

One cache per evaluator, so a reload starts empty and no answer of an old pack is ever
sent. What the metrics count for an answer (the rules that fired, the undeclared names)
is kept with it, so a hit counts the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from earmark.evaluation.memo import Bounded


@dataclass(frozen=True, slots=True)
class Answered:
    data: bytes  # the serialized response
    fired: tuple[str, ...]  # rule ids, for earmark_rule_hits_total
    undeclared: tuple[tuple[str, str], ...]  # (section, name), for the undeclared-attribute counter


# At most EARMARK_CACHE_ENTRIES answers, least recently used out, keyed by request bytes
# (Evaluate) or by (page bytes, product bytes) (a batch's product).
ResponseCache = Bounded[Answered]

ITEMS_TAG = b"\x0a"  # EvaluateBatchResponse.items: field 1, length-delimited


def spliced_items(items: list[bytes]) -> bytes:
    """An EvaluateBatchResponse's bytes from its serialized BatchItems, in order: a
    repeated message field is each element's tag, length and bytes, one after another."""
    return b"".join([part for item in items for part in (ITEMS_TAG, varint(len(item)), item)])


def varint(number: int) -> bytes:
    """Protobuf's base-128 varint: seven bits a byte, low bits first, high bit set on all
    but the last."""
    out = bytearray()
    while number > 0x7F:
        out.append((number & 0x7F) | 0x80)
        number >>= 7
    out.append(number)
    return bytes(out)


class Raw:
    """A request as the interceptor decoded it, with the bytes it was decoded from."""

    __slots__ = ("data", "message")

    def __init__(self, message: object, data: bytes) -> None:
        self.message = message
        self.data = data
