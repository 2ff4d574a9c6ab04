"""The Earmark gRPC service: validate, evaluate, shape. Errors are raised, and the
interceptor turns them into statuses."""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
import structlog

from earmark.errors import (
    INTERNAL,
    CallCancelled,
    DeadlineExceeded,
    EarmarkError,
    InvalidArgument,
    public_error,
)
from earmark.evaluation.evaluator import Evaluator
from earmark.evaluation.request_notes import RequestNotes
from earmark.evaluation.validation import Subject
from earmark.evaluation.verdict import Verdict
from earmark.server.decision_log import DECISION_ID_KEY, Decision, DecisionLog, new_decision_id
from earmark.server.interceptors import REQUEST_ID_KEY
from earmark.server.live import LivePack
from earmark.server.metrics import Metrics
from earmark.server.reload import ReloadStatus
from earmark.server.response_cache import Answered, Raw, ResponseCache, spliced_items
from earmark.server.verdict_bytes import VerdictBytes
from earmark.server.wire import (
    describe_message,
    error_message,
    fill_verdict,
    read_mask,
    struct_values,
    verdict_message,
)
from earmark.tracing import annotate, current_trace_id, span, tracing_on
from earmark.v1 import earmark_pb2 as pb
from earmark.v1 import earmark_pb2_grpc

log = structlog.get_logger("earmark.rpc")
NO_DEADLINE = 1e9  # seconds; beyond this a call is taken to have set no deadline
MAX_KEPT_REQUEST_BYTES = 8 * 1024  # a product with its specs and shopper is about 300 bytes
CHECK_CLIENT_EVERY = 20  # products between checks that a batch's client is still there


class EarmarkServicer(earmark_pb2_grpc.EarmarkServicer):
    def __init__(
        self,
        live: LivePack,
        max_batch_size: int,
        default_deadline_seconds: float,
        metrics: Metrics,
        *,
        strict: bool = False,
        status: Callable[[], ReloadStatus] = ReloadStatus,
        response_entries: int = 0,
        verdict_bytes_entries: int = 0,
        decisions: DecisionLog | None = None,
    ) -> None:
        self._live = live
        self._decisions = decisions
        # What is kept as bytes, per evaluator, so that a reload drops it with the evaluator:
        # answers (EARMARK_CACHE_ENTRIES), and untraced verdicts, as many as the composition
        # memo keeps (EARMARK_MEMO_ENTRIES), so that a memo hit is not filled and serialized again.
        self._response_entries = response_entries
        self._verdict_bytes_entries = verdict_bytes_entries
        self._kept: weakref.WeakKeyDictionary[Evaluator, _KeptBytes] = weakref.WeakKeyDictionary()
        self._status = status  # the reloader's, read for DescribeRules
        self._strict = strict  # EARMARK_STRICT: every request as if it set strict
        self._metrics = metrics
        self._max_batch_size = max_batch_size
        self._default_deadline = default_deadline_seconds

    def Evaluate(self, request: Any, context: grpc.ServicerContext) -> bytes:
        started = time.perf_counter()
        raw = None
        if isinstance(request, Raw):  # decoded by the interceptor, which kept its bytes
            raw, request = request.data, request.message
        logged = self._decisions is not None and self._decisions.sampled()
        with self._live.use() as evaluator:  # one pack for the whole call
            # Only a listing page's small requests are kept: a 4 MB request as a key would
            # hold 4 MB per entry, and hashing it costs more than it saves.
            keep = raw is not None and len(raw) <= MAX_KEPT_REQUEST_BYTES
            responses = self._kept_for(evaluator).responses if keep else None
            # A logged decision needs the verdict itself, which kept bytes don't hold.
            if responses is not None and not logged:
                answered = responses.get(raw)
                if answered is not None:
                    _bind(evaluator, products=1, answered_from="response_cache")
                    self._metrics.count_cache_lookup(True)
                    self._metrics.count_undeclared(answered.undeclared)
                    self._metrics.products.inc()
                    self._metrics.rule_hits.add(answered.fired)
                    return answered.data
            data, verdict, notes, subject = self._evaluate(
                evaluator, request, self._caller_check(self._deadline(context), context)
            )
            if logged:
                decision_id = new_decision_id()
                self._log_decision(decision_id, evaluator, subject, verdict, started, context)
            if responses is None:
                return data
            fired = tuple(rule.id for rule in verdict.fired)
            responses.put(raw, Answered(data, fired, tuple(notes.undeclared)))
            return data

    def _log_decision(
        self,
        decision_id: str,
        evaluator: Evaluator,
        subject: Subject,
        verdict: Verdict,
        started: float,
        context: grpc.ServicerContext | None,
    ) -> None:
        """Hand the decision to the log; with a context, tell the client its id too."""
        assert self._decisions is not None
        request_id = structlog.contextvars.get_contextvars().get("request_id")
        self._decisions.offer(
            Decision(
                decision_id,
                request_id,
                current_trace_id(),
                time.time(),
                evaluator.pack,
                subject,
                verdict,
                time.perf_counter() - started,
            )
        )
        if context is not None:
            trailing = ((REQUEST_ID_KEY, request_id),) if request_id else ()
            context.set_trailing_metadata((*trailing, (DECISION_ID_KEY, decision_id)))

    def _kept_for(self, evaluator: Evaluator) -> _KeptBytes:
        found = self._kept.get(evaluator)
        if found is None:  # two threads may both make one: one is kept, the other forgotten
            responses = ResponseCache(self._response_entries) if self._response_entries else None
            found = self._kept.setdefault(
                evaluator, _KeptBytes(responses, VerdictBytes(self._verdict_bytes_entries))
            )
        return found

    def _evaluate(
        self, evaluator: Evaluator, request: pb.EvaluateRequest, still_wanted: Callable[[], None]
    ) -> tuple[bytes, Verdict, RequestNotes, Subject]:
        _bind(evaluator, products=1)
        if not request.HasField("product"):
            raise InvalidArgument("product is required")
        mask = read_mask(request.read_mask)
        notes = RequestNotes(
            evaluator.validator, strict=request.strict or self._strict, still_wanted=still_wanted
        )
        try:
            with span("validate"):
                shopper = _shopper(evaluator, request, notes)
                locale = evaluator.validator.locale(request.locale)
                subject = _subject(evaluator, request.product, shopper, locale, notes)
            verdict = evaluator.evaluate(subject, words=mask.words(request.trace))
        finally:
            self._metrics.count_undeclared(notes.undeclared)
        self._metrics.products.inc()
        self._metrics.rule_hits.add(rule.id for rule in verdict.fired)
        warnings = notes.warnings if mask.wants("warnings") else ()
        if not request.trace:
            data = self._kept_for(evaluator).verdicts.response(verdict, mask, warnings)
            return data, verdict, notes, subject
        message = verdict_message(verdict, trace=True, mask=mask)
        message.warnings.extend(warnings)
        return pb.EvaluateResponse(verdict=message).SerializeToString(), verdict, notes, subject

    def EvaluateBatch(self, request: pb.EvaluateBatchRequest, context: grpc.ServicerContext) -> bytes:
        with self._live.use() as evaluator:  # one pack for the whole page
            return self._evaluate_batch(evaluator, request, self._deadline(context), context)

    def _deadline(self, context: grpc.ServicerContext) -> tuple[float, str]:
        """When this call must be done by (monotonic), and whose deadline that is."""
        remaining = context.time_remaining()
        # grpcio reports a call without a deadline as ~9.2e18 seconds away (int64 max).
        if remaining is None or remaining > NO_DEADLINE:
            return (
                time.monotonic() + self._default_deadline,
                f"the server's default deadline of {self._default_deadline:g} s (EARMARK_DEFAULT_DEADLINE_SECONDS)",
            )
        return time.monotonic() + remaining, "the call's deadline"

    def _caller_check(self, deadline: tuple[float, str], context: grpc.ServicerContext) -> Callable[[], None]:
        """What reading a long request calls now and then: raises once the call is past
        its deadline or its client has gone, so that no one's CPU goes on an answer nobody
        will read (three 1 s calls once kept the server busy for 29 s each)."""
        ends_at, whose = deadline

        def still_wanted() -> None:
            if time.monotonic() > ends_at:
                raise DeadlineExceeded(f"stopped reading the request: past {whose}")
            if not context.is_active():
                raise CallCancelled("the client went away while its request was read")

        return still_wanted

    def _evaluate_batch(
        self,
        evaluator: Evaluator,
        request: pb.EvaluateBatchRequest,
        deadline: tuple[float, str],
        context: grpc.ServicerContext,
    ) -> bytes:
        """The page's answer as bytes: each item serialized on its own, so that one kept
        from an earlier page (response_cache.py) is spliced in as it is."""
        count = len(request.products)
        _bind(evaluator, products=count)
        if count > self._max_batch_size:
            raise InvalidArgument(
                f"products: {count} products is over the batch limit of {self._max_batch_size}"
            )
        strict = request.strict or self._strict
        still_wanted = self._caller_check(deadline, context)
        page_notes = RequestNotes(evaluator.validator, strict=strict, still_wanted=still_wanted)
        try:  # one shopper and locale for the page: checked once
            with span("validate", **{"earmark.part": "shopper"}):
                shopper = _shopper(evaluator, request, page_notes)
        finally:
            self._metrics.count_undeclared(page_notes.undeclared)
        locale = evaluator.validator.locale(request.locale)
        mask = read_mask(request.read_mask)
        words, warn = mask.words(request.trace), mask.wants("warnings")
        # A page is logged whole or not at all; its decisions need verdicts, not kept bytes.
        batch_id = new_decision_id() if self._decisions is not None and self._decisions.sampled() else None
        kept_bytes = self._kept_for(evaluator)
        responses = kept_bytes.responses if batch_id is None else None
        page = _page_key(request) if responses is not None else b""  # no key without a cache
        # As for Evaluate, only small keys are kept: a page with a huge shopper, or a huge
        # product, is answered but not kept.
        if len(page) > MAX_KEPT_REQUEST_BYTES:
            responses = None
        items: list[bytes] = []
        verdict_bytes = kept_bytes.verdicts
        failed = kept = 0
        fired: list[str] = []
        undeclared: list[tuple[str, str]] = []
        ends_at, whose = deadline
        for done, product in enumerate(request.products):
            if time.monotonic() > ends_at:  # a client without a deadline must not hold a thread forever
                raise DeadlineExceeded(f"stopped after {done} of {count} products: past {whose}")
            if done % CHECK_CLIENT_EVERY == 0 and not context.is_active():
                raise CallCancelled(f"the client went away after {done} of {count} products")
            kept_in, key = None, (page, b"")
            if responses is not None:
                key = (page, product.SerializeToString(deterministic=True))
                kept_in = responses if len(key[1]) <= MAX_KEPT_REQUEST_BYTES else None
            answered = kept_in.get(key) if kept_in is not None else None
            if answered is not None:
                kept += 1
                items.append(answered.data)
                fired.extend(answered.fired)
                undeclared.extend(answered.undeclared)
                continue
            started = time.perf_counter()
            # The shopper's warnings are the page's: every verdict carries them.
            notes = RequestNotes(
                evaluator.validator, strict=strict, warnings=page_notes.warnings, still_wanted=still_wanted
            )
            try:
                with span("validate"):
                    subject = _subject(evaluator, product, shopper, locale, notes)
                verdict = evaluator.evaluate(subject, words=words)
                warnings = notes.warnings if warn else ()
                if request.trace:
                    item = pb.BatchItem(product_id=product.id)
                    fill_verdict(item.verdict, verdict, trace=True, mask=mask)
                    item.verdict.warnings.extend(warnings)
                    data = item.SerializeToString()
                else:
                    data = verdict_bytes.batch_item(product.id, verdict, mask, warnings)
            except (DeadlineExceeded, CallCancelled):  # the whole call's, not this product's
                raise
            except Exception as exc:
                # A bad product gets an error in its own slot; the rest of the page goes on.
                # An error is never kept: its message may name this call's request id.
                failed += 1
                error = _batch_error(product.id, exc)
                items.append(pb.BatchItem(product_id=product.id, error=error).SerializeToString())
                undeclared.extend(notes.undeclared)
                continue
            if batch_id is not None:  # decision ids: the page's, then the product's place in it
                self._log_decision(f"{batch_id}-{done}", evaluator, subject, verdict, started, None)
            items.append(data)
            rule_ids = tuple(rule.id for rule in verdict.fired)
            fired.extend(rule_ids)
            undeclared.extend(notes.undeclared)
            if kept_in is not None:
                kept_in.put(key, Answered(data, rule_ids, tuple(notes.undeclared)))
        self._metrics.products.inc(count - failed)
        self._metrics.rule_hits.add(fired)
        self._metrics.count_undeclared(undeclared)
        if kept:
            self._metrics.count_cache_lookup(True, kept)
        structlog.contextvars.bind_contextvars(failed_products=failed, products_from_response_cache=kept)
        if batch_id is not None:
            request_id = structlog.contextvars.get_contextvars().get("request_id")
            trailing = ((REQUEST_ID_KEY, request_id),) if request_id else ()
            context.set_trailing_metadata((*trailing, (DECISION_ID_KEY, batch_id)))
        return spliced_items(items)

    def DescribeRules(
        self, request: pb.DescribeRulesRequest, context: grpc.ServicerContext
    ) -> pb.DescribeRulesResponse:
        evaluator = self._live.current()
        _bind(evaluator)
        return describe_message(evaluator, self._status(), self._max_batch_size)


@dataclass(frozen=True, slots=True)
class _KeptBytes:
    """What the servicer keeps as bytes for one evaluator."""

    responses: ResponseCache | None  # None: the response cache is off
    verdicts: VerdictBytes


def _page_key(request: pb.EvaluateBatchRequest) -> bytes:
    """What, beside a product, decides its verdict on this page: every field of the
    request but the products (all of them, so that a field added later is never left out
    of the key)."""
    page = pb.EvaluateBatchRequest()
    for field, value in request.ListFields():
        if field.name == "products":
            continue
        if field.message_type is not None:
            getattr(page, field.name).CopyFrom(value)
        else:
            setattr(page, field.name, value)
    return page.SerializeToString(deterministic=True)


def _batch_error(product_id: str, exc: Exception) -> pb.Error:
    code, message = public_error(exc, structlog.contextvars.get_contextvars().get("request_id"))
    if code == INTERNAL:  # engine failures and bugs: in full in the log, the request id on the wire
        log.error(
            "product_failed",
            product_id=product_id,
            error=str(exc),
            exc_info=not isinstance(exc, EarmarkError),
        )
    return error_message(code, message)


def _shopper(evaluator: Evaluator, request: Any, notes: RequestNotes) -> dict[str, Any] | None:
    if not request.HasField("shopper"):
        return None
    values = struct_values(request.shopper, evaluator.validator.shopper_names, notes, "shopper")
    return evaluator.validator.shopper(values)


def _subject(
    evaluator: Evaluator,
    product: pb.Product,
    shopper: dict[str, Any] | None,
    locale: str | None,
    notes: RequestNotes,
) -> Subject:
    """One product validated, with what was ignored in it noted."""
    if not product.id:
        # A listing page matches verdicts to products by id; without one it can't.
        raise InvalidArgument("product.id='': every product needs an id, which its verdict carries back")
    if not product.specs.fields:
        notes.nothing_sent("specs")
    specs = struct_values(product.specs, evaluator.validator.spec_names, notes, "specs")
    return evaluator.validator.subject(product.id, specs, shopper, locale)


def _bind(evaluator: Evaluator, **fields: Any) -> None:
    """Add to the RPC's canonical log line (written by the interceptor)."""
    structlog.contextvars.bind_contextvars(ruleset_version=evaluator.pack.version, **fields)
    if tracing_on():  # every call comes here: the attributes are built only for a span
        annotate(
            **{"earmark.ruleset.version": evaluator.pack.version},
            **{f"earmark.{k}": v for k, v in fields.items()},
        )
