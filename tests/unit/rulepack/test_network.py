"""The engine's limits, enforced before the engine sees a pack: each hostile pack from the
durable_rules notes is refused by `earmark check` at the line of the rule that crosses the
limit, in seconds (before, several froze the process with the GIL held)."""

from __future__ import annotations

import json
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from earmark.errors import PackError
from earmark.evaluation.evaluator import Evaluator
from earmark.rulepack import network
from earmark.rulepack.loader import load_pack
from earmark.rulepack.model import AnyOf, Attribute, AttributeTest, AttrType, Condition, Rule
from earmark.rulepack.patterns import MARK, MARK_FIELD, SENTINEL, field_name, translate

from helpers import LONG_ONE_OF, MANY_CERTIFICATIONS, TESTS, WIDE_ANY, make_pack, probe_rule

CHECK_SECONDS = 60  # a regression would hang forever; this turns it into a failure


def _check(pack: Path, body: str) -> tuple[int, str, float]:
    """Run the real `earmark check` on the pack with `body` as an extra rule file."""
    (pack / "zz-limit.yaml").write_text("rules:\n" + body)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "earmark", "check", str(pack)],
        capture_output=True,
        text=True,
        timeout=CHECK_SECONDS,
    )
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


@pytest.mark.parametrize(
    ("body", "code", "line"),
    [
        (probe_rule("zz-wide", WIDE_ANY), "too-many-alternatives", 2),
        (probe_rule("zz-one-of", LONG_ONE_OF), "too-many-alternatives", 2),
        (probe_rule("zz-list", MANY_CERTIFICATIONS), "too-many-alternatives", 2),
        # 70 overlapping thresholds: one product meets them all (engine error 303 at assert).
        (
            "".join(
                probe_rule(f"zz-tier-{i}", f"battery_hours: {{at_least: {1000 + i}}}") for i in range(70)
            ),
            "too-many-matches",
            None,
        ),
        # 300 rules with one identical condition (engine error 108).
        (
            "".join(probe_rule(f"zz-same-{i}", "weight_g: {at_least: 123}") for i in range(300)),
            "too-many-identical-rules",
            2 + 100 * 6,
        ),
    ],
    ids=["any-of-512", "one-of-600", "contains-any-600", "70-overlapping-tiers", "300-identical-rules"],
)
def test_a_pack_past_an_engine_limit_is_refused_at_the_rule_in_seconds(
    pack_copy: Path, body: str, code: str, line: int | None
) -> None:
    """Each of these froze `earmark check` (or failed every matching request) before."""
    returncode, output, seconds = _check(pack_copy, body)
    assert 1 == returncode, output
    assert f"error[{code}]" in output
    located = [row for row in output.splitlines() if f"error[{code}]" in row]
    assert all("zz-limit.yaml:" in row for row in located), located
    if line is not None:
        assert f"zz-limit.yaml:{line}:5:" in located[0]
    assert seconds < CHECK_SECONDS / 2


def test_one_rule_past_the_limit_is_refused_naming_that_rule(pack_copy: Path) -> None:
    bundled = len(load_pack(pack_copy).rules)
    extra = network.MAX_RULES + 1 - bundled  # one past the limit proves it
    body = "".join(probe_rule(f"zz-r{i}", f"weight_g: {i}") for i in range(extra))
    returncode, output, _ = _check(pack_copy, body)
    assert 1 == returncode
    assert "error[too-many-rules]" in output and f"at most {network.MAX_RULES}" in output
    assert f"the pack has {network.MAX_RULES + 1} rules" in output  # counted before any rule file is parsed
    assert "error[too-many-alternatives]" not in output  # so nothing was analysed either


def test_the_overlap_message_names_the_attribute_in_plain_words(pack_copy: Path) -> None:
    body = "".join(probe_rule(f"zz-tier-{i}", f"battery_hours: {{at_least: {1000 + i}}}") for i in range(70))
    (pack_copy / "zz-limit.yaml").write_text("rules:\n" + body)
    with pytest.raises(PackError) as caught:
        load_pack(pack_copy)
    (problem,) = caught.value.problems
    assert "on battery_hours" in problem.message and "tiers" in problem.message
    # Blamed on the first rule that takes the pack past the limit, not on the last one.
    first_rule_line = 2
    assert first_rule_line < problem.line < first_rule_line + 69 * 6


def test_tests_that_exclude_each_other_do_not_add_up(pack_copy: Path) -> None:
    """70 rules on one attribute are fine when no product can meet two of them ("is" tests
    with different values), unlike 70 thresholds (above)."""
    bundled = len(load_pack(pack_copy).rules)
    body = "".join(probe_rule(f"zz-weight-{i}", f"weight_g: {100 + i}") for i in range(70))
    (pack_copy / "zz-limit.yaml").write_text("rules:\n" + body)
    evaluator = Evaluator.from_directory(pack_copy)
    assert bundled + 70 == len(evaluator.pack.rules)
    evaluator.close()


def test_a_rule_nesting_too_many_groups_is_refused(pack_copy: Path) -> None:
    groups = "any:\n" + "".join(
        f"        - all: [{{weight_g: {{at_least: {i}}}}}, {{price_usd: {{at_most: {i}}}}}]\n"
        for i in range(14)
    )
    (pack_copy / "zz-limit.yaml").write_text("rules:\n" + probe_rule("zz-nested", groups))
    with pytest.raises(PackError) as caught:
        load_pack(pack_copy)
    assert ["rule-too-complex"] == [p.code for p in caught.value.problems]


@pytest.mark.parametrize(
    ("when", "code"),
    [
        ("price_usd: {at_least: 0.00001}", "bad-number"),
        ("price_usd: {at_least: 1.123456}", "bad-number"),
        ("price_usd: {at_most: 1e300}", "bad-number"),
        ("certifications: " + "x" * 300, "value-too-long"),
    ],
)
def test_values_the_engine_would_mangle_are_refused(pack_copy: Path, when: str, code: str) -> None:
    """json.dumps writes 1e-05 and 1e+300, which durable_rules refuses (error 204), and it
    compares long strings by prefix only."""
    (pack_copy / "zz-limit.yaml").write_text("rules:\n" + probe_rule("zz-value", when))
    with pytest.raises(PackError) as caught:
        load_pack(pack_copy)
    assert [code] == [p.code for p in caught.value.problems]
    assert all(len(p.message) <= 300 for p in caught.value.problems)


def test_too_many_attributes_are_refused_in_the_manifest(pack_copy: Path) -> None:
    manifest = pack_copy / "pack.yaml"
    extra = "".join(f"  zz_extra_{i}:\n    type: bool\n" for i in range(200))
    manifest.write_text(manifest.read_text().replace("\nspecs:\n", "\nspecs:\n" + extra, 1))
    with pytest.raises(PackError) as caught:
        load_pack(pack_copy)
    assert ["too-many-attributes"] == [p.code for p in caught.value.problems]
    assert caught.value.problems[0].path.endswith("pack.yaml")


def test_the_bundled_pack_is_within_every_limit(evaluator: Evaluator) -> None:
    assert [] == network.check_limits(evaluator.pack.rules)
    depth, _ = network.most_met_at_once(evaluator.pack.rules)
    assert depth <= network.MAX_MET_AT_ONCE


# ---- a property: nothing the checker accepts can hang or fail the engine ---------------

PROBE = TESTS / "engine_probe.py"
PROBE_SECONDS = 20


class EngineProbe:
    """The real engine in a child process, restarted after a hang."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[str] | None = None

    def run(self, definition: dict[str, Any], facts: list[dict[str, Any]]) -> str:
        if self.process is None or self.process.poll() is not None:
            self.process = subprocess.Popen(
                [sys.executable, str(PROBE)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
            )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps({"definition": definition, "facts": facts}) + "\n")
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], PROBE_SECONDS)
        if not ready:
            self.close()
            return "hang"
        return self.process.stdout.readline().strip()

    def close(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture(scope="module")
def probe() -> Iterator[EngineProbe]:
    engine = EngineProbe()
    yield engine
    engine.close()


NUMBERS = [Attribute(f"n{i}", "spec", AttrType.NUMBER) for i in range(3)]


@st.composite
def rule_sets(draw: st.DrawFn) -> list[Rule]:
    """Rules near and past the limits: many thresholds on few numbers, wide `any` lists,
    and repeated identical conditions."""
    conditions: list[Condition] = []
    for _ in range(draw(st.integers(1, 90))):
        attribute = draw(st.sampled_from(NUMBERS))
        op = draw(st.sampled_from(["at_least", "at_most", "is", "between"]))
        value: Any = draw(st.integers(0, 400))
        if op == "between":
            value = (value, value + draw(st.integers(0, 50)))
        conditions.append(AttributeTest(attribute, op, value))
    if draw(st.booleans()):
        width = draw(st.integers(150, 600))
        conditions.append(AnyOf(tuple(AttributeTest(NUMBERS[0], "is", 1000 + i) for i in range(width))))
    if draw(st.booleans()):
        conditions += [AttributeTest(NUMBERS[1], "at_least", 7)] * draw(st.integers(80, 300))
    return list(make_pack(conditions, tuple(NUMBERS)).rules)


def _facts(rules: list[Rule]) -> list[dict[str, Any]]:
    """Products at the edges: every number above, below and at each constant named."""
    constants = sorted({v for r in rules for t in _tests(r.condition) for v in _values(t)})
    picks = [min(constants) - 1, max(constants) + 1, *constants[:: max(1, len(constants) // 15)]]
    return [
        {MARK_FIELD: MARK, "id": "p", "sid": "1", **{field_name(a): value for a in NUMBERS}}
        for value in picks
    ]


def _tests(condition: Condition) -> Iterator[AttributeTest]:
    if isinstance(condition, AttributeTest):
        yield condition
    else:
        for child in condition.children:  # type: ignore[union-attr]
            yield from _tests(child)


def _values(test: AttributeTest) -> tuple[int, ...]:
    return test.value if isinstance(test.value, tuple) else (test.value,)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=rule_sets())
def test_every_rule_set_the_checker_accepts_runs_on_the_real_engine(
    probe: EngineProbe, rules: list[Rule]
) -> None:
    if network.check_limits(rules):
        return  # refused before the engine: nothing to run
    definition: dict[str, Any] = {SENTINEL: {"all": [{"m": {MARK_FIELD: MARK}}]}}
    for rule in rules:
        definition[f"r{rule.index}"] = {"all": [{"m": translate(rule.condition)}]}
    assert "ok" == probe.run(definition, _facts(rules))


@pytest.mark.parametrize("thresholds", [64, 70])
def test_the_engine_fails_where_the_checker_refuses(probe: EngineProbe, thresholds: int) -> None:
    """The model is exact at the stack limit: 63 thresholds plus the sentinel run, and the
    checker's refusal of more is not a guess (the engine really fails with error 303)."""
    rules = list(
        make_pack([AttributeTest(NUMBERS[0], "at_least", i) for i in range(thresholds)], tuple(NUMBERS)).rules
    )
    definition: dict[str, Any] = {SENTINEL: {"all": [{"m": {MARK_FIELD: MARK}}]}}
    for rule in rules:
        definition[f"r{rule.index}"] = {"all": [{"m": translate(rule.condition)}]}
    expected_depth = thresholds + 1  # every threshold and the sentinel's marker
    assert expected_depth == network.most_met_at_once(rules)[0]
    answer = probe.run(definition, _facts(rules))
    if expected_depth <= 64:
        assert "ok" == answer
    else:
        assert "303" in answer


def test_a_rule_with_over_a_thousand_conditions_is_checked_without_crashing(pack_copy: Path) -> None:
    """An `all:` list is a chain in the engine's network as deep as the list is long; the
    stack bound used to walk it recursively and crash `check` with a RecursionError. The
    engine itself takes such a chain, so the pack loads."""
    # 1,200: past Python's recursion limit (1,000), so a recursive walk would still crash.
    chain = "all:\n" + "".join(f"        - weight_g: {{at_least: {i}}}\n" for i in range(1200))
    (pack_copy / "zz-limit.yaml").write_text("rules:\n" + probe_rule("zz-long", chain))
    evaluator = Evaluator.from_directory(pack_copy)
    assert "zz-long" in evaluator.pack.rules_by_id
    evaluator.close()
