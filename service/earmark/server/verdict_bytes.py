"""Verdict messages kept as bytes, all but their product id, for verdicts that are copies
of one another.

A catalog's new products mostly compose from the composition memo (evaluation/verdict.py):
their verdict is the memo's under another product id, sharing every other field's object.
Filling a Verdict message and serializing it cost about 5 µs of a batch product's 100
(`make profile`); for such a copy, the id's few bytes are put before the bytes kept.

Protobuf writes a message's fields in field-number order, and one field's bytes don't
depend on another's: a Verdict is product_id (1), then the fields 2 to 7 a verdict fills,
then trace (8) and warnings (9). So the bytes made here are, byte for byte, what filling
the message and SerializeToString make (test_verdict_bytes and test_caches_change_nothing
compare them). Traced answers are filled whole: their trace is the product's own.

One instance per evaluator, as for the response cache, so a reload starts it empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from earmark.evaluation.memo import Bounded
from earmark.evaluation.verdict import Verdict
from earmark.server.response_cache import varint
from earmark.server.wire import ReadMask, fill_verdict
from earmark.v1 import earmark_pb2 as pb

PRODUCT_ID_TAG = b"\x0a"  # Verdict.product_id and BatchItem.product_id: field 1, length-delimited
BATCH_VERDICT_TAG = b"\x12"  # BatchItem.verdict: field 2
RESPONSE_VERDICT_TAG = b"\x0a"  # EvaluateResponse.verdict: field 1


@dataclass(frozen=True, slots=True)
class _Kept:
    # Held, so that the id of its scores (the key) is not reused by another tuple while
    # this entry lives.
    verdict: Verdict
    rest: bytes  # the Verdict message's bytes without product_id, trace or warnings


class VerdictBytes:
    """At most `entries` verdicts' bytes, least recently used out (0: off, every verdict
    filled and serialized whole)."""

    def __init__(self, entries: int) -> None:
        self._kept: Bounded[_Kept] = Bounded(entries)

    def verdict(self, verdict: Verdict, mask: ReadMask, warnings: Sequence[str]) -> bytes:
        """The untraced Verdict message's bytes, with `warnings` (pass none where the mask
        leaves them out)."""
        if not self._kept.entries:  # off: made as protobuf makes them, what the tests compare with
            message = fill_verdict(pb.Verdict(), verdict, trace=False, mask=mask)
            message.warnings.extend(warnings)
            return message.SerializeToString()
        key = (id(verdict.scores), mask)
        kept = self._kept.get(key)
        if kept is None or not _copies(kept.verdict, verdict):
            message = fill_verdict(pb.Verdict(), verdict, trace=False, mask=mask)
            message.ClearField("product_id")
            kept = _Kept(verdict, message.SerializeToString())
            self._kept.put(key, kept)
        head = _string(PRODUCT_ID_TAG, verdict.product_id) if mask.wants("product_id") else b""
        tail = pb.Verdict(warnings=warnings).SerializeToString() if warnings else b""
        return head + kept.rest + tail

    def batch_item(self, product_id: str, verdict: Verdict, mask: ReadMask, warnings: Sequence[str]) -> bytes:
        """A BatchItem's bytes: the product's id, then its verdict."""
        data = self.verdict(verdict, mask, warnings)
        return _string(PRODUCT_ID_TAG, product_id) + BATCH_VERDICT_TAG + varint(len(data)) + data

    def response(self, verdict: Verdict, mask: ReadMask, warnings: Sequence[str]) -> bytes:
        """An EvaluateResponse's bytes."""
        data = self.verdict(verdict, mask, warnings)
        return RESPONSE_VERDICT_TAG + varint(len(data)) + data


def _copies(kept: Verdict, verdict: Verdict) -> bool:
    """Whether `verdict` is `kept` under another id: every field a message without a trace
    is filled from is the same object."""
    return (
        kept.scores is verdict.scores
        and kept.category is verdict.category
        and kept.label is verdict.label
        and kept.explanation is verdict.explanation
        and kept.fit is verdict.fit
        and kept.ruleset_version is verdict.ruleset_version
    )


def _string(tag: bytes, text: str) -> bytes:
    """A string field's bytes; proto3 writes nothing for an empty one."""
    if not text:
        return b""
    data = text.encode()
    return tag + varint(len(data)) + data
