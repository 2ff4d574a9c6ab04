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
  `delete_state`; 19-24 µs against 34 µs). A sid whose evaluation failed is healed and
  reused, so failures can never use the pool up. Each sid is used by one thread at a time, the
  number alive stays far below the engine's 1,024 per ruleset, and the pool never hands
  out two sids whose 32-bit FNV-1a hashes collide (the engine tells sids apart by hash).
- Conditions become patterns in rulepack/patterns.py, and the loader checks those patterns
  against the engine's limits (rulepack/network.py) before a ruleset is ever created.
- A rule fires once for each `$or` branch that matches, so fired names are de-duplicated.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from typing import Any

import durable_rules_engine
import orjson
import structlog

from earmark.errors import EngineFailure
from earmark.rulepack.model import AttrType, Pack, Rule
from earmark.rulepack.patterns import MARK, MARK_FIELD, SENTINEL, field_name, translate

MAX_LIVE_SIDS = 512  # the engine's table holds 1,024 per ruleset; the 1,025th crashes
log = structlog.get_logger("earmark.engine")
_ruleset_counter = itertools.count(1)


class CompiledRules:
    """One pack compiled into one durable_rules ruleset. Safe to share between threads."""

    def __init__(self, pack: Pack) -> None:
        self._spec_fields = {a.name: field_name(a) for a in pack.specs}
        self._shopper_fields = {a.name: field_name(a) for a in pack.shopper}
        # Rules compare free text ignoring case (conditions.py lower-cases their side), so
        # the product's side is lower-cased here, in the fact only: explanations show it as
        # the catalog wrote it.
        self._text_fields = frozenset(
            field_name(a) for a in (*pack.specs, *pack.shopper) if a.type.item_type is AttrType.TEXT
        )
        self._rules_by_engine_name: dict[str, Rule] = {}
        definition: dict[str, Any] = {SENTINEL: {"all": [{"m": {MARK_FIELD: MARK}}]}}
        for rule in pack.rules:
            name = f"r{rule.index}"
            self._rules_by_engine_name[name] = rule
            definition[name] = {"all": [{"m": translate(rule.condition)}]}
        self._name = f"{pack.name}_{next(_ruleset_counter)}"
        try:
            self._handle: int = durable_rules_engine.create_ruleset(
                self._name, orjson.dumps(definition).decode()
            )
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
        for field in self._text_fields.intersection(fact):
            value = fact[field]
            fact[field] = value.lower() if isinstance(value, str) else [v.lower() for v in value]
        # orjson: 0.4 µs where json.dumps took 3.9 on the request path. The engine compares
        # the bytes as written, so facts and the ruleset (above) must both be orjson's raw
        # UTF-8: "café" escaped on one side would never equal it raw on the other.
        return orjson.dumps(fact).decode()

    def fired(self, specs: dict[str, Any], shopper: dict[str, Any] | None) -> list[Rule]:
        """The pack rules that fire for this product and shopper, in pack order."""
        if self._closed:  # the C side has freed the ruleset: touching it would crash
            raise EngineFailure(f"ruleset {self._name} is closed")
        sid = self._sids.take()
        fact_json = self.encode_fact(specs, shopper, sid)
        try:
            names = self._run(fact_json)
        except Exception as exc:
            self._recover(sid, fact_json)
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

    def _run(self, fact_json: str) -> list[str]:
        """Assert one fact, read back the names of the rules it fired, and retract it."""
        handle = self._handle
        names: list[str] = []
        _, state = durable_rules_engine.assert_fact(handle, fact_json)
        result = durable_rules_engine.start_action_for_state(handle, state)
        while result:
            message = result[1] if isinstance(result, tuple) else result
            # The message is {"<rule name>":{"m":...}}; the name is all we need, and
            # slicing it out is far cheaper than parsing the whole fact back.
            names.append(message[2 : message.index('"', 2)])
            result = durable_rules_engine.complete_and_start_action(handle, state)
        durable_rules_engine.retract_fact(handle, fact_json)
        return names

    def _recover(self, sid: str, fact_json: str) -> None:
        """Make a sid usable again after a failed evaluation, or set it aside.

        Measured: after an assert fails (e.g. error 303), retracting the fact and asserting
        the bare product marker (which fires the sentinel) leaves the sid working, with
        memory flat over 20,000 failures. A sid that fails even that is quarantined: it
        still holds a slot in the engine's table, and deleting it could crash."""
        with contextlib.suppress(Exception):
            durable_rules_engine.retract_fact(self._handle, fact_json)
        try:
            healed = SENTINEL in self._run(orjson.dumps({MARK_FIELD: MARK, "id": "p", "sid": sid}).decode())
        except Exception:
            healed = False
        if healed:
            self._sids.give(sid)
        else:
            self._sids.quarantine(sid)
            log.warning("engine_session_quarantined", ruleset=self._name, sid=sid)

    def _delete_state(self, sid: str) -> None:
        durable_rules_engine.delete_state(self._handle, sid)

    def close(self) -> None:
        """Free the ruleset. Call only once no request is using it: deleting a ruleset with
        live sids leaks about 5 MB, so every pooled sid is deleted first."""
        if self._closed:
            return
        self._closed = True
        for sid in self._sids.drain():
            try:
                self._delete_state(sid)
            except Exception as exc:  # the ruleset goes anyway; a state left behind leaks only
                log.warning("engine_session_not_deleted", ruleset=self._name, sid=sid, error=str(exc))
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
        self.quarantined = 0

    def take(self) -> str:
        with self._lock:
            if self._free:
                return self._free.pop()
            if len(self._hashes) >= MAX_LIVE_SIDS:
                raise EngineFailure(
                    f"all {MAX_LIVE_SIDS} engine sessions are in use, {self.quarantined} of them "
                    "quarantined after engine failures"
                )
            while True:
                sid = str(next(self._counter))
                sid_hash = fnv1a_32(sid)
                if sid_hash not in self._hashes:
                    self._hashes.add(sid_hash)
                    return sid

    def give(self, sid: str) -> None:
        with self._lock:
            self._free.append(sid)

    def quarantine(self, sid: str) -> None:
        """Never hand out `sid` again (it is simply not given back); it keeps its slot in
        the count, as the engine still holds its state."""
        with self._lock:
            self.quarantined += 1

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
