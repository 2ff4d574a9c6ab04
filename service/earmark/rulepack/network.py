"""The engine's limits, checked on a model of the network it would build from a pack.

durable_rules hangs or crashes at some of its limits instead of failing cleanly
(shared/notes/durable-rules.md), so a pack is measured here, on the very patterns the
engine will get (patterns.py), before the engine is ever called. The model follows
`createAlpha`, `findAlpha` and `linkAlpha` in durable_rules' src/rules/rete.c and
`handleAlpha` in src/rules/events.c:

- Every test is a node. A node's tests on properties sit in a hash table of 512 buckets:
  at 512 entries every lookup probes forever with the GIL held (ruleset creation, or
  every assert). Identical tests under one parent are shared; `$iany`/`$iall` never are.
- `$and` chains its parts: each is a child of the one before.
- `$or` adds a forwarding node that every branch links to, through the branch end's
  "next list", which also holds `$nex` tests. That list holds 128 (error 107).
- Rules whose whole condition is the same chain end on the same node; it holds 256
  (error 108).
- Each `$and`/`$or` costs a rule two slots of a 32-slot expression sequence, and each
  comparison with another attribute one more (error 113 at the 32nd).
- Asserting a fact walks the network depth first with a 64-entry stack. Every child a
  fact matches is pushed, and every forwarding node always is; past 64 the assert fails
  with error 303. The most a fact can push is bounded here per node, from the values
  its tests name (two different `is` tests on one attribute can't both hold).

Earmark's own limits are well below each of the engine's (the stack bound, at 56 of 64, is
the closest), so a pack that passes is far from every edge.

Longer than the house's 300 lines on purpose: the model and the limits it checks are one
piece of reasoning about one C file, and splitting them would put each limit's check
apart from the structure it counts.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from earmark.rulepack.model import Rule
from earmark.rulepack.patterns import MARK, MARK_FIELD, translate

# Earmark's limits, each well below the engine's (in brackets).
MAX_RULES = 1000  # rules per pack [4,096]
MAX_SIDE_BY_SIDE = 200  # tests side by side under one node [511; 512 hangs]
MAX_GROUPS_UNDER_ONE = 64  # `any` groups and `missing` tests under one node [128]
MAX_IDENTICAL_RULES = 100  # rules with exactly the same conditions [256]
MAX_RULE_STEPS = 24  # expression-sequence slots per rule [31]
# Tests one product may meet on the engine's stack [64; 65 fails with error 303]. Not far
# below: the bound is a worst case over all products, and the bundled pack's is 53.
MAX_MET_AT_ONCE = 56
MAX_ATTRIBUTES = 200  # declared spec and shopper attributes per pack [252 fact properties]
MAX_TEXT_VALUE = 200  # characters of a text a rule compares with [65,535 compare as a prefix]
MAX_NUMBER = 1e15  # magnitude of a number in a rule: bigger ones print as 1e+16 [error 204]
MAX_DECIMALS = 4  # smaller fractions print as 1e-05 [error 204]

_ORDERING = {"$lt", "$lte", "$gt", "$gte"}
_TESTS = {*_ORDERING, "$eq", "$neq", "$ex", "$mt", "$imt"}  # else a key is a field: `{"$i": v}` too


@dataclass(frozen=True)
class LimitProblem:
    """A limit a rule goes past; `rule` is the one that crosses it."""

    rule: Rule
    code: str
    message: str


@dataclass(eq=False)
class _Node:
    op: str = ""
    prop: str = ""  # the fact field it tests
    value: Any = None  # a constant, or {"$m": field} for a comparison with another attribute
    forward: bool = False
    children: dict[Any, _Node] = field(default_factory=dict)  # the 512-bucket hash table
    next_list: list[_Node] = field(default_factory=list)  # `$nex` tests and forwarding nodes
    blame: dict[str, Rule] = field(default_factory=dict)  # the rule that crossed each limit
    added_by: Counter[str] = field(default_factory=Counter)  # children each rule added

    def describe(self) -> str:
        value = self.value if not isinstance(self.value, dict) else "another attribute"
        words = {"$lt": "below", "$lte": "at most", "$gt": "above", "$gte": "at least", "$neq": "not"}
        return f"{attribute_name(self.prop)} {words.get(self.op, 'is')} {value}"


def attribute_name(prop: str) -> str:
    """How an author names the attribute behind a fact field (patterns.field_name)."""
    if prop == "$i":
        return "a list item"
    side, _, name = prop.partition("_")
    return name if side == "spec" else f"shopper.{name}"


class _Network:
    """The alpha network for rules added in order, noting the first rule past each limit."""

    def __init__(self) -> None:
        self.root = _Node()
        self.rule: Rule | None = None
        self.steps = 0
        # The sentinel rule every product fires (engine.py) is part of every ruleset.
        self.add_pattern({MARK_FIELD: MARK})

    def add(self, rule: Rule, pattern: dict[str, Any]) -> int:
        """Add a rule with its pattern; returns the expression-sequence slots it needs."""
        self.rule, self.steps = rule, 0
        self.add_pattern(pattern)
        return self.steps

    def add_pattern(self, pattern: dict[str, Any]) -> None:
        self._add(pattern, self.root)

    def _add(self, pattern: dict[str, Any], parent: _Node) -> _Node:
        ((key, body),) = pattern.items()
        if key == "$and":
            self.steps += 2
            node = parent
            for part in body:
                node = self._add(part, node)
            return node
        if key == "$or":
            self.steps += 2
            forward = _Node(forward=True)
            for branch in body:
                self._link_next(self._add(branch, parent), forward)
            return forward
        if key in ("$iany", "$iall"):
            ((name, inner),) = body.items()
            node = _Node(op=key, prop=name)
            self._link_child(parent, (key, name, id(node)), node)
            self._add(inner, node)  # its item tests, in the node's own table
            return node
        if key == "$nex":
            ((name, _),) = body.items()
            for sibling in parent.next_list:
                if sibling.op == "$nex" and sibling.prop == name:
                    return sibling
            node = _Node(op="$nex", prop=name)
            self._link_next(parent, node)
            return node
        if key in _TESTS:
            ((name, value),) = body.items()
            op = key
        else:
            name, value, op = key, body, "$eq"
        if isinstance(value, dict) and "$m" in value:
            self.steps += 1
        identity = (op, name, json.dumps(value, sort_keys=True))
        existing = parent.children.get(identity)
        if existing is not None:
            return existing
        node = _Node(op=op, prop=name, value=value)
        self._link_child(parent, identity, node)
        return node

    def _link_child(self, parent: _Node, identity: Any, node: _Node) -> None:
        parent.children[identity] = node
        if self.rule is not None:
            parent.added_by[self.rule.id] += 1
            if len(parent.children) > MAX_SIDE_BY_SIDE:
                parent.blame.setdefault("siblings", self.rule)

    def _link_next(self, parent: _Node, node: _Node) -> None:
        parent.next_list.append(node)
        if len(parent.next_list) > MAX_GROUPS_UNDER_ONE and self.rule is not None:
            parent.blame.setdefault("groups", self.rule)

    def nodes(self) -> Iterator[_Node]:
        seen: set[int] = set()
        stack = [self.root]
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            yield node
            stack.extend(node.children.values())
            stack.extend(node.next_list)


def check_limits(rules: Sequence[Rule]) -> list[LimitProblem]:
    """Every engine limit the rules go past, each blamed on the rule that crosses it."""
    problems: list[LimitProblem] = []
    if len(rules) > MAX_RULES:
        problems.append(
            LimitProblem(
                rules[MAX_RULES],
                "too-many-rules",
                f"the pack has {len(rules)} rules; at most {MAX_RULES} fit in the engine",
            )
        )
        rules = rules[:MAX_RULES]  # the rest is measured on what could be kept
    network = _Network()
    identical: dict[str, list[Rule]] = {}
    for rule in rules:
        pattern = translate(rule.condition)
        steps = network.add(rule, pattern)
        if steps > MAX_RULE_STEPS:
            problems.append(
                LimitProblem(
                    rule,
                    "rule-too-complex",
                    f"this rule nests too many groups of conditions (any, all, not and lists of values) "
                    f"for the engine: it needs {steps} steps and at most {MAX_RULE_STEPS} are allowed; "
                    "split it into simpler rules",
                )
            )
        identical.setdefault(json.dumps(pattern, sort_keys=True), []).append(rule)
    for same in identical.values():
        if len(same) > MAX_IDENTICAL_RULES:
            problems.append(
                LimitProblem(
                    same[MAX_IDENTICAL_RULES],
                    "too-many-identical-rules",
                    f"{len(same)} rules have exactly the same conditions as '{same[0].id}'; "
                    f"at most {MAX_IDENTICAL_RULES} may share them; merge their effects into fewer rules",
                )
            )
    for node in network.nodes():
        crossed = node.blame.get("siblings")
        if crossed is not None:
            problems.append(LimitProblem(crossed, "too-many-alternatives", _side_by_side(node, crossed)))
        crossed = node.blame.get("groups")
        if crossed is not None:
            problems.append(
                LimitProblem(
                    rule,
                    "too-many-alternatives",
                    f"{len(node.next_list)} 'any' lists and 'missing' tests hang off one condition"
                    f"{_under(node)}; at most {MAX_GROUPS_UNDER_ONE} may; split them over fewer rules",
                )
            )
    if not problems:  # the stack bound is only meaningful on a network the engine could build
        problems.extend(_check_stack(rules, _stack_need(network.root)))
    return problems


def _under(node: _Node) -> str:
    return "" if not node.op else f" (after '{node.describe()}')"


def _side_by_side(node: _Node, rule: Rule) -> str:
    count = len(node.children)
    own = node.added_by[rule.id]
    if own > MAX_SIDE_BY_SIDE // 2:
        return (
            f"this rule's 'any' list or list of values puts {own} conditions side by side; "
            f"the engine allows at most {MAX_SIDE_BY_SIDE}; split the list over several rules"
        )
    if node.op or node.forward:
        return (
            f"{count} conditions stand side by side{_under(node)}, in an 'any' list or a list of values; "
            f"at most {MAX_SIDE_BY_SIDE} may; split the list over several rules"
        )
    return (
        f"the pack's rules begin with {count} different conditions; the engine can tell at most "
        f"{MAX_SIDE_BY_SIDE} apart; merge rules that differ only in one value"
    )


# ---- how many tests one product can meet at once --------------------------------------


def most_met_at_once(rules: Sequence[Rule]) -> tuple[int, str]:
    """An upper bound on the engine's stack for any product, and the tests that fill it."""
    network = _Network()
    for rule in rules:
        network.add(rule, translate(rule.condition))
    return _stack_need(network.root)


def _stack_need(root: _Node) -> tuple[int, str]:
    """The stack a depth-first walk from `root` can need: at each node, what it pushes plus
    the most its deepest child needs beyond its own slot. Computed without recursion, as an
    `all:` list of thousands of tests is a chain that deep."""
    need: dict[int, tuple[int, str]] = {}
    pending: list[tuple[_Node, bool]] = [(root, False)]
    while pending:
        node, children_done = pending.pop()
        if id(node) in need:
            continue
        pushed = [*node.next_list, *node.children.values()]
        if not children_done:
            pending.append((node, True))
            pending.extend((child, False) for child in pushed if id(child) not in need)
            continue
        met, example = _met_children(node)
        deepest = max((need[id(child)] for child in pushed), default=(0, ""))
        need[id(node)] = (met + max(0, deepest[0] - 1), example if met >= deepest[0] else deepest[1])
    return need[id(root)]


def _check_stack(rules: Sequence[Rule], whole_pack: tuple[int, str]) -> list[LimitProblem]:
    depth, example = whole_pack
    if depth <= MAX_MET_AT_ONCE:
        return []
    # Blame the first rule that takes the bound past the limit (a binary search over
    # prefixes of the pack: the bound only grows as rules are added).
    low, high = 0, len(rules) - 1
    while low < high:
        middle = (low + high) // 2
        if most_met_at_once(rules[: middle + 1])[0] > MAX_MET_AT_ONCE:
            high = middle
        else:
            low = middle + 1
    return [
        LimitProblem(
            rules[low],
            "too-many-matches",
            f"one product could meet up to {depth} conditions of the pack at once (most: {example}); "
            f"the engine checks at most {MAX_MET_AT_ONCE} side by side; merge rules whose thresholds "
            "overlap into fewer tiers, or make their conditions exclude each other",
        )
    ]


def _met_children(node: _Node) -> tuple[int, str]:
    """How many of `node`'s children one product can match at once, with examples. Every
    forwarding node and `$nex` test counts (they are pushed without a test of the value)."""
    met = len(node.next_list)
    per_attribute: Counter[str] = Counter()
    by_field: dict[str, list[_Node]] = {}
    for child in node.children.values():
        by_field.setdefault(child.prop, []).append(child)
    for prop, tests in by_field.items():
        always = [t for t in tests if t.op in ("$ex", "$iany", "$iall") or isinstance(t.value, dict)]
        count, _ = _most_satisfied([t for t in tests if t not in always])
        met += len(always) + count
        if prop != MARK_FIELD:
            per_attribute[attribute_name(prop)] += len(always) + count
    example = ", ".join(f"{n} on {name}" for name, n in per_attribute.most_common(3))
    return met, example


def _most_satisfied(tests: list[_Node]) -> tuple[int, list[_Node]]:
    """The most of these constant tests on one attribute that one value meets."""
    if not tests:
        return 0, []
    values = [t.value for t in tests]
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    if numeric:
        points = sorted(set(values))
        candidates = [points[0] - 1, points[-1] + 1, *points]
        candidates += [(a + b) / 2 for a, b in itertools.pairwise(points)]
    elif any(t.op in _ORDERING for t in tests):
        return len(tests), tests  # mixed kinds: assume the worst
    else:
        candidates = [*values, object()]  # each named value, and one no test names
    best: list[_Node] = []
    for candidate in candidates:
        met = [t for t in tests if _meets(t, candidate)]
        if len(met) > len(best):
            best = met
    return len(best), best


def _meets(test: _Node, value: Any) -> bool:
    other = test.value
    if test.op == "$eq":
        return bool(value == other)
    if test.op == "$neq":
        return bool(value != other)
    if not isinstance(value, int | float):
        return False
    return bool(
        {"$lt": value < other, "$lte": value <= other, "$gt": value > other, "$gte": value >= other}[test.op]
    )
