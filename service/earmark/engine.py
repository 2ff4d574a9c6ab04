"""The only module that touches durable_rules: compile a pack, then ask which rules fire.

How the engine is driven, and why (each point is a measured fact from the durable_rules
notes, shared/notes/durable-rules.md):

- The raw C API, never `engine.Host` or `durable.lang`: Host's background threads crash
  under concurrent requests, and the raw path is about 4x cheaper.
- A pack becomes one ruleset, compiled once. A request asserts one fact (the product and
  the shopper) and reads back the names of the rules that fired. Facts, not events: an
  event is consumed by the first rule that fires.
- A sentinel rule matches every product fact, so every sid fires at least once
  (`delete_state` on a sid where nothing fired frees uninitialised pointers) and a product
  that matches no pack rule is not an exception.
- Sids come from a bounded pool and are reused, cleaned by retracting the fact (cheaper than
  `delete_state`; 19-24 µs against 34 µs). Each sid is used by one thread at a time, the
  number alive stays far below the engine's 1,024 per ruleset, and the pool never hands
  out two sids whose 32-bit FNV-1a hashes collide (the engine tells sids apart by hash).
- `$nex` alone also matches the engine's own state fact and loops forever (#302), so a
  rule that tests for a missing attribute is anchored on a marker every product carries.
- A rule fires once for each `$or` branch that matches, so fired names are de-duplicated.
- `not` is pushed down to the attributes. A test on a missing attribute is false, so the
  negation of a test is "the opposite test, or the attribute is missing".
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
from typing import Any

import durable_rules_engine

from earmark.errors import EngineFailure
from earmark.rulepack.model import AllOf, AnyOf, Attribute, AttributeTest, Condition, Not, Pack, Rule

SENTINEL = "seen"
MARK_FIELD, MARK = "t", "product"
MAX_LIVE_SIDS = 512  # the engine's table holds 1,024 per ruleset; the 1,025th crashes
_ruleset_counter = itertools.count(1)

_NUMBER_OP = {"at_least": "$gte", "at_most": "$lte", "more_than": "$gt", "less_than": "$lt"}
_NUMBER_OP_NEGATED = {"at_least": "$lt", "at_most": "$gt", "more_than": "$lte", "less_than": "$gte"}


def field_name(attribute: Attribute) -> str:
    """The fact field an attribute is stored in. The prefixes keep spec and shopper names
    apart and can never collide with the engine's own `sid` and `id` or the marker."""
    return f"{attribute.side}_{attribute.name}"


class CompiledRules:
    """One pack compiled into one durable_rules ruleset. Safe to share between threads."""

    def __init__(self, pack: Pack) -> None:
        self.pack = pack
        self._spec_fields = {a.name: field_name(a) for a in pack.specs}
        self._shopper_fields = {a.name: field_name(a) for a in pack.shopper}
        self._rules_by_engine_name: dict[str, Rule] = {}
        definition: dict[str, Any] = {SENTINEL: {"all": [{"m": {MARK_FIELD: MARK}}]}}
        for rule in pack.rules:
            name = f"r{rule.index}"
            self._rules_by_engine_name[name] = rule
            definition[name] = {"all": [{"m": translate(rule.condition)}]}
        self._name = f"{pack.name}_{next(_ruleset_counter)}"
        try:
            self._handle = durable_rules_engine.create_ruleset(self._name, json.dumps(definition))
        except Exception as exc:  # the engine reports limits and bad input as bare errors
            raise EngineFailure(f"durable_rules refused the ruleset: {exc}") from exc
        self._sids = _SidPool()
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def handle(self) -> int:
        """The engine's ruleset handle (the benchmark drives it raw, as a baseline)."""
        return self._handle

    def encode_fact(self, specs: dict[str, Any], shopper: dict[str, Any] | None, sid: str) -> str:
        """The JSON fact for a validated product and shopper on session `sid`."""
        fact: dict[str, Any] = {MARK_FIELD: MARK, "id": "p", "sid": sid}
        fields = self._spec_fields
        for name, value in specs.items():
            fact[fields[name]] = value
        if shopper:
            fields = self._shopper_fields
            for name, value in shopper.items():
                fact[fields[name]] = value
        return json.dumps(fact)

    def fired(self, specs: dict[str, Any], shopper: dict[str, Any] | None) -> list[Rule]:
        """The pack rules that fire for this product and shopper, in pack order."""
        if self._closed:  # the C side has freed the ruleset: touching it would crash
            raise EngineFailure(f"ruleset {self._name} is closed")
        sid = self._sids.take()
        fact_json = self.encode_fact(specs, shopper, sid)
        handle = self._handle
        names: list[str] = []
        try:
            _, state = durable_rules_engine.assert_fact(handle, fact_json)
            result = durable_rules_engine.start_action_for_state(handle, state)
            while result:
                message = result[1] if isinstance(result, tuple) else result
                # The message is {"<rule name>":{"m":...}}; the name is all we need, and
                # slicing it out is far cheaper than parsing the whole fact back.
                names.append(message[2 : message.index('"', 2)])
                result = durable_rules_engine.complete_and_start_action(handle, state)
            durable_rules_engine.retract_fact(handle, fact_json)
        except Exception as exc:
            self._sids.discard(sid, fired=bool(names), delete=self._delete_state)
            raise EngineFailure(f"durable_rules failed on sid {sid}: {exc}") from exc
        self._sids.give(sid)
        if SENTINEL not in names:
            raise EngineFailure("durable_rules did not fire the sentinel rule")
        by_name = self._rules_by_engine_name
        # A rule fires once per `$or` branch that matches (a product with both bluetooth and
        # a dongle matches `contains_any` twice), but it must count once.
        rules = [by_name[n] for n in set(names) if n != SENTINEL]
        rules.sort(key=_rule_index)
        return rules

    def _delete_state(self, sid: str) -> None:
        durable_rules_engine.delete_state(self._handle, sid)

    def close(self) -> None:
        """Free the ruleset. Call only once no request is using it: deleting a ruleset with
        live sids leaks about 5 MB, so every pooled sid is deleted first."""
        if self._closed:
            return
        self._closed = True
        for sid in self._sids.drain():
            # A state the engine already dropped has nothing left to free.
            with contextlib.suppress(Exception):
                self._delete_state(sid)
        durable_rules_engine.delete_ruleset(self._handle)


def _rule_index(rule: Rule) -> int:
    return rule.index


class _SidPool:
    """Session ids for one ruleset: reused, bounded, and hash-distinct."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._free: list[str] = []
        self._hashes: set[int] = set()  # of every sid alive in the engine
        self._counter = itertools.count(1)

    def take(self) -> str:
        with self._lock:
            if self._free:
                return self._free.pop()
            if len(self._hashes) >= MAX_LIVE_SIDS:
                raise EngineFailure(f"more than {MAX_LIVE_SIDS} evaluations in flight")
            while True:
                sid = str(next(self._counter))
                sid_hash = fnv1a_32(sid)
                if sid_hash not in self._hashes:
                    self._hashes.add(sid_hash)
                    return sid

    def give(self, sid: str) -> None:
        with self._lock:
            self._free.append(sid)

    def discard(self, sid: str, *, fired: bool, delete: Any) -> None:
        """Forget a sid whose state is unknown after a failure. Its state is deleted only if
        a rule fired on it; otherwise it stays quarantined (deleting would crash)."""
        if not fired:
            return
        try:
            delete(sid)
        except Exception:
            return
        with self._lock:
            self._hashes.discard(fnv1a_32(sid))

    def drain(self) -> list[str]:
        with self._lock:
            sids, self._free = self._free, []
            self._hashes.clear()
            return sids


def fnv1a_32(text: str) -> int:
    """The hash durable_rules uses for sids (src/rules/state.c, fnv1Hash32)."""
    value = 0x811C9DC5
    for byte in text.encode():
        value = ((value ^ byte) * 16777619) & 0xFFFFFFFF
    return value


# ---- translating conditions into durable_rules' JSON ---------------------------------------


def translate(condition: Condition) -> dict[str, Any]:
    """The durable_rules pattern for a rule's condition."""
    pattern = _translate(condition, negate=False)
    if '"$nex"' in json.dumps(pattern):
        pattern = {"$and": [{MARK_FIELD: MARK}, pattern]}
    return pattern


def _translate(condition: Condition, *, negate: bool) -> dict[str, Any]:
    if isinstance(condition, Not):
        return _translate(condition.child, negate=not negate)
    if isinstance(condition, AllOf | AnyOf):
        parts = [_translate(c, negate=negate) for c in condition.children]
        conjunctive = isinstance(condition, AllOf) != negate  # De Morgan
        return _and(parts) if conjunctive else _or(parts)
    return _test(condition, negate=negate)


def _test(test: AttributeTest, *, negate: bool) -> dict[str, Any]:
    f = field_name(test.attribute)
    op, value = test.op, test.value
    missing = {"$nex": {f: 1}}
    if op in ("present", "missing"):
        present = (op == "present") != negate
        return {"$ex": {f: 1}} if present else missing
    if isinstance(value, Attribute):  # compared with another attribute
        g = field_name(value)
        ref = {"$m": g}
        positive_op = {"is": None, "is_not": "$neq", **_NUMBER_OP}[op]
        if not negate:
            compare = {f: ref} if positive_op is None else {positive_op: {f: ref}}
            return _and([{"$ex": {f: 1}}, {"$ex": {g: 1}}, compare])
        negative_op = {"is": "$neq", "is_not": None, **_NUMBER_OP_NEGATED}[op]
        compare = {f: ref} if negative_op is None else {negative_op: {f: ref}}
        return _or([compare, missing, {"$nex": {g: 1}}])
    if op == "is":
        return _or([{"$neq": {f: value}}, missing]) if negate else {f: value}
    if op == "is_not":
        return _or([{f: value}, missing]) if negate else {"$neq": {f: value}}
    if op == "one_of":
        if negate:
            return _or([_and([{"$neq": {f: v}} for v in value]), missing])
        return _or([{f: v} for v in value])
    if op == "none_of":
        if negate:
            return _or([*({f: v} for v in value), missing])
        return _and([{"$neq": {f: v}} for v in value])
    if op in _NUMBER_OP:
        if negate:
            return _or([{_NUMBER_OP_NEGATED[op]: {f: value}}, missing])
        return {_NUMBER_OP[op]: {f: value}}
    if op == "between":
        low, high = value
        if negate:
            return _or([{"$lt": {f: low}}, {"$gt": {f: high}}, missing])
        return _and([{"$gte": {f: low}}, {"$lte": {f: high}}])
    # Lists: contains, contains_any, contains_all. Empty lists never reach the engine (the
    # validator drops them), so "missing" also covers "contains nothing".
    items = (value,) if op == "contains" else value
    if not negate:
        has = [{"$iany": {f: {"$i": v}}} for v in items]
        return _and(has) if op == "contains_all" else _or(has)
    if op == "contains_all":  # lacks at least one of them
        return _or([*({"$iall": {f: {"$neq": {"$i": v}}}} for v in items), missing])
    lacks_all = _and([{"$neq": {"$i": v}} for v in items])
    return _or([{"$iall": {f: lacks_all}}, missing])


def _and(parts: list[dict[str, Any]]) -> dict[str, Any]:
    return parts[0] if len(parts) == 1 else {"$and": parts}


def _or(parts: list[dict[str, Any]]) -> dict[str, Any]:
    return parts[0] if len(parts) == 1 else {"$or": parts}
