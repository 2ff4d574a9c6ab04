"""The one place protobuf meets the domain: request Structs into plain values, and
verdicts and packs into earmark.v1 messages."""

from __future__ import annotations

from typing import Any

from google.protobuf import struct_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from earmark.evaluation.evaluator import Evaluator
from earmark.evaluation.verdict import Contribution, Verdict
from earmark.rulepack.model import Attribute, AttrType
from earmark.server.live import ReloadStatus
from earmark.v1 import earmark_pb2 as pb

_ATTR_TYPES = {
    AttrType.NUMBER: pb.Attribute.NUMBER,
    AttrType.BOOL: pb.Attribute.BOOL,
    AttrType.TEXT: pb.Attribute.TEXT,
    AttrType.ENUM: pb.Attribute.ENUM,
    AttrType.ENUM_LIST: pb.Attribute.ENUM_LIST,
    AttrType.TEXT_LIST: pb.Attribute.TEXT_LIST,
}


def struct_values(struct: struct_pb2.Struct, declared: frozenset[str]) -> dict[str, Any]:
    """The declared attributes of a Struct as Python values. Undeclared ones are skipped
    unread (catalogs carry many); null, or a value with nothing set, counts as absent."""
    out = {}
    for name, value in struct.fields.items():
        if name in declared and value.WhichOneof("kind") not in (None, "null_value"):
            out[name] = _python(value)
    return out


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


def verdict_message(verdict: Verdict, *, trace: bool) -> pb.Verdict:
    return fill_verdict(pb.Verdict(), verdict, trace=trace)


def fill_verdict(message: pb.Verdict, verdict: Verdict, *, trace: bool) -> pb.Verdict:
    """Write `verdict` into `message` in place (a batch fills its items without copies)."""
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
