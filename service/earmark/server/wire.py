"""The one place protobuf meets the domain: request Structs into plain values, and
verdicts and packs into earmark.v1 messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from google.protobuf import field_mask_pb2, struct_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from earmark.diagnostics import did_you_mean
from earmark.errors import InvalidArgument
from earmark.evaluation.evaluator import Evaluator
from earmark.evaluation.request_notes import RequestNotes
from earmark.evaluation.verdict import Contribution, Verdict
from earmark.rulepack.model import Attribute, AttrType
from earmark.server.reload import ReloadStatus
from earmark.v1 import earmark_pb2 as pb

_ATTR_TYPES = {
    AttrType.NUMBER: pb.Attribute.NUMBER,
    AttrType.BOOL: pb.Attribute.BOOL,
    AttrType.TEXT: pb.Attribute.TEXT,
    AttrType.ENUM: pb.Attribute.ENUM,
    AttrType.ENUM_LIST: pb.Attribute.ENUM_LIST,
    AttrType.TEXT_LIST: pb.Attribute.TEXT_LIST,
}


# How often reading a request's attributes checks that the caller still wants the answer:
# a 4 MB request carries over 100,000 of them.
CHECK_CALLER_EVERY = 1024


def struct_values(
    struct: struct_pb2.Struct,
    declared: frozenset[str],
    notes: RequestNotes | None = None,
    section: str = "specs",
) -> dict[str, Any]:
    """The declared attributes of a Struct as Python values; null counts as absent.

    They are looked up by name, and the other names are read only as far as they are
    checked for near misses (NAMES_LOOKED_AT), the rest counted: a 4 MB request carries
    100,000 names, and reading every one held a worker's GIL for ~50 ms."""
    fields = struct.fields
    if len(fields) <= len(declared):  # the usual request: read once, in its own order
        return _small_struct_values(fields, declared, notes, section)
    if notes is not None and len(fields) > CHECK_CALLER_EVERY:
        notes.still_wanted()  # a big request: not read at all for a caller who has gone
    out: dict[str, Any] = {}
    present = 0
    for name in declared:
        if name not in fields:
            continue
        present += 1
        _read(fields[name], name, out, notes, section)
    if notes is not None:
        undeclared = len(fields) - present
        for name in fields:  # in the request's order, stopping once no more are checked
            if undeclared == 0 or not notes.looking:
                break
            if name not in declared:
                notes.ignored(section, name)
                undeclared -= 1
        notes.not_looked_at += undeclared
        notes.finish()
    return out


def _small_struct_values(
    fields: Any, declared: frozenset[str], notes: RequestNotes | None, section: str
) -> dict[str, Any]:
    """struct_values for a Struct with no more names than the pack declares: one pass over
    its names costs less than looking up each declared one (14 µs a product, with its
    notes, where the lookups took 21)."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name in declared:
            _read(value, name, out, notes, section)
        elif notes is not None:
            notes.ignored(section, name)
    if notes is not None:
        notes.finish()
    return out


def _read(
    value: struct_pb2.Value, name: str, out: dict[str, Any], notes: RequestNotes | None, section: str
) -> None:
    """A declared attribute's value into `out`; null counts as absent."""
    kind = value.WhichOneof("kind")
    if kind is None:
        if notes is not None:
            notes.no_kind(section, name)
    elif kind != "null_value":
        out[name] = _python(value)


def _python(value: struct_pb2.Value) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "number_value":
        return value.number_value
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "list_value":
        return [_python(v) for v in value.list_value.values]
    if kind == "struct_value":
        return {k: _python(v) for k, v in value.struct_value.fields.items()}
    return None


@dataclass(frozen=True, slots=True)
class ReadMask:
    """The Verdict fields a caller asked for in `read_mask` (AIP-157 partial responses)."""

    fields: frozenset[str] | None = None  # top-level Verdict fields; None: every one
    scores: frozenset[str] | None = None  # UseCaseScore fields, when only some are asked for
    fit: frozenset[str] | None = None  # Fit fields, likewise

    def wants(self, name: str) -> bool:
        return self.fields is None or name in self.fields

    def words(self, trace: bool) -> bool:
        """Whether anything asked for needs fragments or sentences composed."""
        if self.fields is None:
            return True
        return (
            "explanation" in self.fields
            or (trace and "trace" in self.fields)
            or ("scores" in self.fields and (self.scores is None or "explanation" in self.scores))
            or ("fit" in self.fields and (self.fit is None or "explanation" in self.fit))
        )


FULL = ReadMask()
_VERDICT_FIELDS = tuple(f.name for f in pb.Verdict.DESCRIPTOR.fields)
_PARTS = {
    "scores": tuple(f.name for f in pb.UseCaseScore.DESCRIPTOR.fields),
    "fit": tuple(f.name for f in pb.Fit.DESCRIPTOR.fields),
}


def read_mask(mask: field_mask_pb2.FieldMask) -> ReadMask:
    """The mask a request sent, checked against Verdict's fields; InvalidArgument names a
    path that isn't one."""
    if not mask.paths:
        return FULL
    fields: set[str] = set()
    parts: dict[str, set[str]] = {"scores": set(), "fit": set()}
    whole: set[str] = set()
    for path in mask.paths:
        top, _, part = path.partition(".")
        if top not in _VERDICT_FIELDS:
            hint = did_you_mean(top, _VERDICT_FIELDS, otherwise=f"; fields: {', '.join(_VERDICT_FIELDS)}")
            raise InvalidArgument(f"read_mask.paths={path!r}: not a field of Verdict{hint}")
        fields.add(top)
        if not part:
            whole.add(top)
            continue
        allowed = _PARTS.get(top, ())
        if part not in allowed:
            known = f"; {top} has: {', '.join(allowed)}" if allowed else f"; {top} has no fields"
            raise InvalidArgument(
                f"read_mask.paths={path!r}: not a field of {top}{did_you_mean(part, allowed, otherwise=known)}"
            )
        parts[top].add(part)
    return ReadMask(
        frozenset(fields),
        None if "scores" in whole or not parts["scores"] else frozenset(parts["scores"]),
        None if "fit" in whole or not parts["fit"] else frozenset(parts["fit"]),
    )


def fill_verdict(message: pb.Verdict, verdict: Verdict, *, trace: bool, mask: ReadMask = FULL) -> pb.Verdict:
    """Write `verdict` into `message` in place (a batch fills its items without copies)."""
    if mask.fields is not None:
        return _fill_part(message, verdict, trace, mask)
    message.product_id = verdict.product_id
    message.category = verdict.category
    message.label = verdict.label
    add_score = message.scores.add
    for s in verdict.scores:
        add_score(use_case=s.use_case.id, title=s.title, score=s.value, explanation=s.explanation)
    message.explanation = verdict.explanation
    message.ruleset_version = verdict.ruleset_version
    if verdict.fit is not None:
        message.fit.score = verdict.fit.value
        message.fit.explanation = verdict.fit.explanation
    if trace:
        message.trace.extend(trace_hits(verdict))
    return message


def verdict_message(verdict: Verdict, *, trace: bool, mask: ReadMask = FULL) -> pb.Verdict:
    return fill_verdict(pb.Verdict(), verdict, trace=trace, mask=mask)


def _fill_part(message: pb.Verdict, verdict: Verdict, trace: bool, mask: ReadMask) -> pb.Verdict:
    fields = mask.fields or frozenset()
    for name in ("product_id", "category", "label", "explanation", "ruleset_version"):
        if name in fields:
            setattr(message, name, getattr(verdict, name))
    if "scores" in fields:
        wanted = mask.scores or frozenset(_PARTS["scores"])
        for s in verdict.scores:
            values = {
                "use_case": s.use_case.id,
                "title": s.title,
                "score": s.value,
                "explanation": s.explanation,
            }
            message.scores.add(**{k: v for k, v in values.items() if k in wanted})
    if "fit" in fields and verdict.fit is not None:
        wanted = mask.fit or frozenset(_PARTS["fit"])
        if "score" in wanted:
            message.fit.score = verdict.fit.value
        if "explanation" in wanted:
            message.fit.explanation = verdict.fit.explanation
    if trace and "trace" in fields:
        message.trace.extend(trace_hits(verdict))
    return message


def trace_hits(verdict: Verdict) -> list[pb.RuleHit]:
    """Every effect of every rule that fired, in pack order: its category and label, then
    what it added to each score (from Verdict.contributions, as explain and diff use)."""
    added: dict[str, list[Contribution]] = {}
    for contribution in verdict.contributions():
        added.setdefault(contribution.rule.id, []).append(contribution)
    hits = []
    for rule in verdict.fired:
        fragment = verdict.fragments.get(rule.id, "")
        if rule.category is not None:
            decided = " (decided)" if rule is verdict.category_rule else " (outranked)"
            hits.append(
                pb.RuleHit(
                    rule_id=rule.id,
                    effect=f"category {rule.category}, priority {rule.priority}{decided}",
                    fragment=fragment,
                )
            )
        if rule.label is not None:
            used = " (used)" if rule is verdict.label_rule else " (outranked)"
            hits.append(
                pb.RuleHit(
                    rule_id=rule.id,
                    effect=f"label {rule.label.default.source!r}, priority {rule.priority}{used}",
                    fragment=fragment,
                )
            )
        for contribution in added.get(rule.id, ()):
            hits.append(
                pb.RuleHit(
                    rule_id=rule.id,
                    effect=f"{contribution.target} {contribution.amount:+d}",
                    use_case=contribution.target,
                    amount=contribution.amount,
                    fragment=fragment,
                )
            )
    return hits


def describe_message(
    evaluator: Evaluator, status: ReloadStatus, max_batch_size: int
) -> pb.DescribeRulesResponse:
    pack = evaluator.pack
    loaded_at = Timestamp()
    loaded_at.FromDatetime(evaluator.loaded_at)
    message = pb.DescribeRulesResponse(
        ruleset_version=pack.version,
        pack=pack.name,
        categories=[pb.Category(id=c.id, title=c.title.text(pack.default_locale)) for c in pack.categories],
        use_cases=[pb.UseCase(id=u.id, title=u.title.text(pack.default_locale)) for u in pack.use_cases],
        locales=list(pack.locales),
        specs=[_attribute(a) for a in pack.specs],
        shopper=[_attribute(a) for a in pack.shopper],
        rule_count=len(pack.rules),
        loaded_at=loaded_at,
        max_batch_size=max_batch_size,
        last_reload_error=status.last_reload_error,
        reloads_succeeded=status.reloads_succeeded,
        reloads_failed=status.reloads_failed,
    )
    if status.last_reload_at is not None:
        message.last_reload_at.FromDatetime(status.last_reload_at)
    message.watching = status.watching
    message.watch_problem = status.watch_problem
    if status.watch_stopped_at is not None:
        message.watch_stopped_at.FromDatetime(status.watch_stopped_at)
    message.contract_changes.extend(status.contract_changes)
    return message


def _attribute(attribute: Attribute) -> pb.Attribute:
    message = pb.Attribute(
        name=attribute.name,
        type=_ATTR_TYPES[attribute.type],
        description=attribute.description,
        allowed_values=list(attribute.values),
    )
    if attribute.minimum is not None:
        message.minimum = attribute.minimum
    if attribute.maximum is not None:
        message.maximum = attribute.maximum
    return message


def error_message(code: str, message: str) -> pb.Error:
    return pb.Error(code=code, message=message)
