"""1. The engine: µs per product from the request's Struct to a filled Verdict message,
against raw durable_rules asserting the same product JSON into the same compiled ruleset
and reading back what fired; the same asking for scores only (read_mask); and each stage
of the request path on its own. Every verdict is composed (the composition memo off), and
the memo's hit is timed beside the composition it saves."""

from __future__ import annotations

import time
from collections.abc import Callable

import durable_rules_engine
import structlog
from common import ROUNDS, SCORES_ONLY, SERVER_LOG, catalog
from google.protobuf import field_mask_pb2, struct_pb2
from targets import judge

from earmark.config import DEFAULT_MEMO_ENTRIES
from earmark.evaluation.evaluator import Evaluator
from earmark.evaluation.validation import Subject
from earmark.evaluation.verdict import Composer
from earmark.logs import configure_logging
from earmark.server.metrics import Metrics
from earmark.server.wire import fill_verdict, read_mask, struct_values
from earmark.v1 import earmark_pb2 as pb


def report(evaluator: Evaluator) -> list[str]:
    engine = engine_bench(evaluator)
    lines: list[str] = []
    ratio = engine["earmark_us"] / engine["raw_us"]
    lines.append(
        f"engine   raw durable_rules {engine['raw_us']:6.1f} µs/product   earmark validate+evaluate+compose {engine['earmark_us']:6.1f} µs/product   ratio {ratio:4.2f}x"
    )
    struct_ratio = engine["struct_us"] / engine["raw_us"]
    lines.append(
        f"         from the request's Struct to a filled Verdict {engine['struct_us']:6.1f} µs/product   ratio {struct_ratio:4.2f}x   {judge('struct_vs_raw_engine', struct_ratio)}"
    )
    lines.append(
        f"         the same, scores only (read_mask)          {engine['scores_us']:6.1f} µs/product   ratio {engine['scores_us'] / engine['raw_us']:4.2f}x"
    )
    lines.append(
        "stages   µs/product: "
        + "   ".join(
            f"{name} {engine[key]:5.1f}"
            for name, key in (
                ("decode", "decode_us"),
                ("validate", "validate_us"),
                ("engine", "engine_us"),
                ("compose", "compose_us"),
                ("a memo hit instead", "compose_hit_us"),
                ("compose scores only", "compose_scores_us"),
                ("fill", "fill_us"),
                ("serialize", "serialize_us"),
                ("per-RPC log line", "log_us"),
                ("metrics", "metrics_us"),
            )
        )
    )
    return lines


def engine_bench(evaluator: Evaluator) -> dict[str, float]:
    evaluator.keep_composed(0)  # the same few products again and again: all would be hits
    try:
        return _engine_bench(evaluator)
    finally:
        evaluator.keep_composed(DEFAULT_MEMO_ENTRIES)


def _engine_bench(evaluator: Evaluator) -> dict[str, float]:
    products = catalog(evaluator)
    structs = []
    for specs in products:
        message = struct_pb2.Struct()
        message.update(specs)
        structs.append(message)
    rules = evaluator.rules
    handle = rules.handle  # the same compiled ruleset Earmark uses
    validator = evaluator.validator
    facts = [rules.encode_fact(validator.specs(specs), None, "bench") for specs in products]
    n = 20_000

    def raw() -> float:
        start = time.perf_counter()
        for i in range(n):
            fact = facts[i % len(facts)]
            _, state = durable_rules_engine.assert_fact(handle, fact)
            result = durable_rules_engine.start_action_for_state(handle, state)
            fired = []
            while result:
                message = result[1] if isinstance(result, tuple) else result
                fired.append(message[2 : message.index('"', 2)])
                result = durable_rules_engine.complete_and_start_action(handle, state)
            durable_rules_engine.retract_fact(handle, fact)
        return (time.perf_counter() - start) / n * 1e6

    def earmark() -> float:
        """Validate the decoded attributes, evaluate, compose the verdict."""
        start = time.perf_counter()
        for i in range(n):
            specs = validator.specs(decoded[i % len(decoded)])
            evaluator.evaluate(Subject("p", specs, None))
        return (time.perf_counter() - start) / n * 1e6

    def earmark_from_struct() -> float:
        """The whole path: from the request's protobuf Struct to a filled Verdict message."""
        start = time.perf_counter()
        for i in range(n):
            specs = validator.specs(struct_values(structs[i % len(structs)], validator.spec_names))
            fill_verdict(pb.Verdict(), evaluator.evaluate(Subject("p", specs, None)), trace=False)
        return (time.perf_counter() - start) / n * 1e6

    scores_mask = read_mask(field_mask_pb2.FieldMask(paths=SCORES_ONLY))

    def scores_only_from_struct() -> float:
        """From the Struct, composing no words (what read_mask = SCORES_ONLY asks for)."""
        start = time.perf_counter()
        for i in range(n):
            specs = validator.specs(struct_values(structs[i % len(structs)], validator.spec_names))
            verdict = evaluator.evaluate(Subject("p", specs, None), words=False)
            fill_verdict(pb.Verdict(), verdict, trace=False, mask=scores_mask)
        return (time.perf_counter() - start) / n * 1e6

    decoded = [dict(specs) for specs in products]
    raw(), earmark(), earmark_from_struct()  # warm up
    result = {"raw_us": 0.0, "earmark_us": 0.0, "struct_us": 0.0, "scores_us": 0.0}
    paths = (
        ("raw_us", raw),
        ("earmark_us", earmark),
        ("struct_us", earmark_from_struct),
        ("scores_us", scores_only_from_struct),
    )
    for _ in range(ROUNDS):  # interleaved, keeping each path's best
        for key, measure in paths:
            took = measure()
            result[key] = took if not result[key] else min(result[key], took)
    durable_rules_engine.delete_state(handle, "bench")
    result.update(stage_costs(evaluator, structs))
    return result


def stage_costs(evaluator: Evaluator, structs: list[struct_pb2.Struct]) -> dict[str, float]:
    """µs per product of each stage of the request path, each timed on its own over the
    same products (best of ROUNDS): where a gain or a loss is."""
    validator, rules, composer = (
        evaluator.validator,
        evaluator.rules,
        evaluator.composers[evaluator.pack.default_locale],
    )
    names = validator.spec_names
    decoded = [struct_values(s, names) for s in structs]
    specs = [validator.specs(d) for d in decoded]
    fired = [rules.fired(s, None) for s in specs]
    verdicts = [composer.compose("p", s, None, f) for s, f in zip(specs, fired, strict=True)]
    messages = [fill_verdict(pb.Verdict(), v, trace=False) for v in verdicts]
    remembering = Composer(evaluator.pack, evaluator.pack.default_locale)  # the memo on, filled
    for s, f in zip(specs, fired, strict=True):
        remembering.compose("p", s, None, f)
    count = len(structs)
    # What the interceptor adds to every call: its log line (JSON, as deployed) and metrics.
    configure_logging("info", "json", SERVER_LOG)
    rpc_log = structlog.get_logger("earmark.rpc")
    metrics = Metrics()
    method = "/earmark.v1.Earmark/Evaluate"
    line = {"method": method, "status": "OK", "outcome": "ok", "duration_ms": 0.321}

    def log_line(i: int) -> None:
        structlog.contextvars.bind_contextvars(request_id="0f3a9c2e")
        rpc_log.info("rpc", **line)
        structlog.contextvars.clear_contextvars()

    stages: dict[str, Callable[[int], object]] = {
        "decode_us": lambda i: struct_values(structs[i], names),
        "validate_us": lambda i: validator.specs(decoded[i]),
        "engine_us": lambda i: rules.fired(specs[i], None),
        "compose_us": lambda i: composer.compose("p", specs[i], None, fired[i]),
        "compose_hit_us": lambda i: remembering.compose("q", specs[i], None, fired[i]),
        "compose_scores_us": lambda i: composer.compose("p", specs[i], None, fired[i], words=False),
        "fill_us": lambda i: fill_verdict(pb.Verdict(), verdicts[i], trace=False),
        "serialize_us": lambda i: messages[i].SerializeToString(),
        "log_us": log_line,
        "metrics_us": lambda i: metrics.record_call(method, "OK", 0.000321),
    }
    n = 20_000
    best: dict[str, float] = {}
    for _ in range(ROUNDS):
        for key, stage in stages.items():
            start = time.perf_counter()
            for i in range(n):
                stage(i % count)
            took = (time.perf_counter() - start) / n * 1e6
            best[key] = min(best.get(key, took), took)
    return best
