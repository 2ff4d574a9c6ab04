"""Loading rule packs: the bundled one loads; each kind of breakage is reported at its
exact file:line with a stable code, and every problem is reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from earmark.errors import PackError
from earmark.rulepack.loader import load_pack
from earmark.rulepack.model import AllOf, AnyOf, AttributeTest, Not


def _rule_file(pack: Path, body: str, name: str = "zz-test.yaml") -> str:
    (pack / name).write_text(body)
    return name


def _problems(pack: Path) -> list[str]:
    with pytest.raises(PackError) as caught:
        load_pack(pack)
    return [str(p) for p in caught.value.problems]


def _single(pack: Path, name: str) -> str:
    problems = _problems(pack)
    assert 1 == len(problems), problems
    assert problems[0].startswith(str(pack / name)) or f"/{name}:" in problems[0]
    return problems[0]


def test_bundled_pack_loads_with_its_use_cases_in_order(evaluator) -> None:
    pack = evaluator.pack
    assert ("music", "gaming_solo", "gaming_social", "meetings", "calls", "call_center", "commute") == tuple(
        u.id for u in pack.use_cases
    )
    assert len(pack.rules) >= 60
    assert len(pack.examples) >= 15
    assert [r.index for r in pack.rules] == list(range(len(pack.rules)))


def test_version_depends_on_content_only(pack_copy: Path, tmp_path: Path) -> None:
    first = load_pack(pack_copy).version
    assert first == load_pack(pack_copy).version
    other = tmp_path / "elsewhere"
    pack_copy.rename(other)
    assert first == load_pack(other).version  # same files elsewhere: same version
    talking = other / "talking.yaml"
    talking.write_text(talking.read_text().replace("meetings: 22", "meetings: 23"))
    assert first != load_pack(other).version


BROKEN = [
    # (file body, line, code, words in the message)
    ("rules:\n  - id: x\n    description: [unclosed\n", 4, "yaml-syntax", ""),
    ("rules: !!python/object/apply:os.system ['true']\n", 1, "yaml-tag", "tags"),
    (
        "rules:\n  - id: x\n    description: d\n    wen: {mic: boom}\n    then: {fit: 1}\n",
        4,
        "unknown-key",
        "did you mean 'when'",
    ),
    ("rules:\n  - id: x\n    description: d\n    when: {mic: boom}\n", 2, "missing-key", "'then'"),
    (
        "rules:\n  - id: x\n    description: d\n    when:\n      battery_hour: {at_least: 3}\n    then: {fit: 1}\n",
        5,
        "unknown-attribute",
        "did you mean 'battery_hours'",
    ),
    (
        "rules:\n  - id: x\n    description: d\n    when:\n      mic: boom_arm\n    then: {fit: 1}\n",
        5,
        "unknown-value",
        "did you mean 'boom'",
    ),
    (
        "rules:\n  - id: x\n    description: d\n    when:\n      weight_g: {at_least: heavy}\n    then: {fit: 1}\n",
        5,
        "unknown-attribute",
        "'heavy'",
    ),
    (
        "rules:\n  - id: x\n    description: d\n    when:\n      mic: {at_least: 3}\n    then: {fit: 1}\n",
        5,
        "type-mismatch",
        "compares numbers",
    ),
    (
        "rules:\n  - id: x\n    description: d\n    when:\n      connectivity: {is: wired}\n    then: {fit: 1}\n",
        5,
        "type-mismatch",
        "use 'contains'",
    ),
    (
        "rules:\n  - id: x\n    description: d\n    when:\n      mic: {equals: boom}\n    then: {fit: 1}\n",
        5,
        "unknown-operator",
        "unknown test 'equals'",
    ),
    (
        "rules:\n  - id: x\n    description: d\n    when:\n      weight_g: {between: [300, 100]}\n    then: {fit: 1}\n",
        5,
        "bad-range",
        "low <= high",
    ),
    (
        "rules:\n  - id: x\n    description: d\n    when: {mic: boom}\n    then:\n      scores: {musik: 5}\n",
        6,
        "unknown-use-case",
        "'musik'",
    ),
    (
        "rules:\n  - id: x\n    description: d\n    when: {mic: boom}\n    then:\n      category: speaker\n",
        6,
        "unknown-category",
        "'speaker'",
    ),
    (
        "rules:\n  - id: x\n    description: d\n    when: {mic: boom}\n    then:\n      fit: 1\n      say: a {batery_hours}-hour battery\n",
        7,
        "unknown-placeholder",
        "{batery_hours}",
    ),
    (
        "rules:\n  - id: x\n    description: d\n    when: {mic: boom}\n    then:\n      fit: 1\n      say: a {battery_hours!r} trick\n",
        7,
        "bad-placeholder",
        "plain attribute name",
    ),
    (
        "rules:\n  - id: x\n    description: d\n    when: {mic: boom}\n    then:\n      fit: 1\n      say: "
        + "very " * 30
        + "long\n",
        7,
        "fragment-too-long",
        "widget allows 90",
    ),
    (
        "rules:\n  - id: x\n    description: d\n    when: {mic: boom}\n    then: {priority: 3}\n",
        5,
        "no-effect",
        "changes nothing",
    ),
    (
        "rules:\n  - id: boom-mic-for-talking\n    description: d\n    when: {mic: boom}\n    then: {fit: 1}\n",
        2,
        "duplicate-rule-id",
        "talking.yaml",
    ),
    (
        'rules:\n  - id: x\n    description: d\n    when: {mic: boom}\n    then: {fit: "5"}\n',
        5,
        "bad-value",
        "fit",
    ),
]


# Findings of the analyses (rules that can't fire, category clashes), reported the same way.
ANALYSIS = [
    # (file body, line, code, words in the message)
    (
        "rules:\n  - id: x\n    description: d\n    when:\n      weight_g: {at_least: 300, at_most: 100}\n    then: {fit: 1}\n",
        2,
        "never-fires",
        "contradict",
    ),
    (
        "rules:\n  - id: x\n    description: d\n    when:\n      battery_hours: {less_than: 0}\n    then: {fit: 1}\n",
        2,
        "never-fires",
        "'x'",
    ),
    (
        "rules:\n  - id: x\n    description: d\n    when:\n      mic: boom\n      not: {mic: [boom, inline]}\n    then: {fit: 1}\n",
        2,
        "never-fires",
        "'x'",
    ),
    (
        "rules:\n  - id: x\n    description: d\n    when:\n      mic: boom\n      weight_g: {at_least: 300}\n    then:\n      category: headphones\n      priority: 10\n",
        2,
        "category-conflict",
        "'boom-mic-makes-a-headset' at",
    ),
]


@pytest.mark.parametrize(
    ("body", "line", "code", "words"),
    BROKEN + ANALYSIS,
    ids=[b[2] + f"-{i}" for i, b in enumerate(BROKEN + ANALYSIS)],
)
def test_each_broken_snippet_is_reported_at_its_line(
    pack_copy: Path, body: str, line: int, code: str, words: str
) -> None:
    name = _rule_file(pack_copy, body)
    problem = _single(pack_copy, name)
    assert f"{name}:{line}:" in problem
    assert f"error[{code}]" in problem
    assert words in problem


def test_every_problem_is_reported_at_once_sorted_by_file_and_line(pack_copy: Path) -> None:
    _rule_file(
        pack_copy,
        "rules:\n  - id: x\n    description: d\n    when: {mic: nope}\n    then: {fit: 1}\n",
        "a-first.yaml",
    )
    _rule_file(
        pack_copy,
        "rules:\n  - id: y\n    description: d\n    when: {mic: boom}\n    then:\n      scores: {nope: 1}\n",
        "b-second.yaml",
    )
    problems = _problems(pack_copy)
    assert 2 == len(problems)
    assert "a-first.yaml:4:" in problems[0] and "b-second.yaml:6:" in problems[1]


def test_a_rule_with_an_unknown_key_is_still_checked_in_the_same_pass(pack_copy: Path) -> None:
    _rule_file(
        pack_copy,
        "rules:\n  - id: x\n    description: d\n    when: {mic: bom}\n"
        "    then: {fit: 1, colour: red}\n    owner: me\n",
    )
    codes = [p.split("error[")[1].split("]")[0] for p in _problems(pack_copy)]
    assert ["unknown-value", "unknown-key", "unknown-key"] == codes


def test_a_broken_rule_is_not_also_missing_from_the_cases_that_name_it(pack_copy: Path) -> None:
    talking = pack_copy / "talking.yaml"
    # One rule loses its required description: one problem, not one per case naming it.
    talking.write_text(
        talking.read_text().replace(
            "    description: A boom mic picks up the voice close to the mouth, so others hear you clearly.\n",
            "",
        )
    )
    problem = _single(pack_copy, "talking.yaml")
    assert "error[missing-key]" in problem and "'description' is required" in problem


def test_an_unreadable_rule_file_is_reported_once(pack_copy: Path) -> None:
    talking = pack_copy / "talking.yaml"
    talking.write_text("rules: [unclosed\n" + talking.read_text())
    problem = _single(pack_copy, "talking.yaml")
    assert "error[yaml-syntax]" in problem


def test_manifest_problems_point_into_pack_yaml(pack_copy: Path) -> None:
    manifest = pack_copy / "pack.yaml"
    manifest.write_text(
        manifest.read_text().replace("default_category: unclassified", "default_category: gadget")
    )
    problem = _single(pack_copy, "pack.yaml")
    assert "error[unknown-category]" in problem and "'gadget'" in problem


def test_a_missing_manifest_is_reported(pack_copy: Path) -> None:
    (pack_copy / "pack.yaml").unlink()
    assert "error[no-manifest]" in _single(pack_copy, "pack.yaml")


def test_example_cases_are_checked_too(pack_copy: Path) -> None:
    examples = pack_copy / "examples" / "zz.yaml"
    examples.write_text(
        'examples:\n  - name: n\n    product: {}\n    expect:\n      scores: ["musc >= 3"]\n      fired: [no-such-rule]\n'
    )
    problems = _problems(pack_copy)
    assert ["bad-expectation", "unknown-rule"] == [p.split("error[")[1].split("]")[0] for p in problems]
    assert all("examples/zz.yaml:" in p for p in problems)


def test_a_symlink_out_of_the_pack_is_refused(pack_copy: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("rules: []\n")
    (pack_copy / "sneaky.yaml").symlink_to(outside)
    assert "error[outside-pack]" in _single(pack_copy, "sneaky.yaml")


def test_shorthands_mean_is_one_of_contains_and_contains_any(pack_copy: Path) -> None:
    _rule_file(
        pack_copy,
        """rules:
  - id: shorthand
    description: d
    when:
      mic: boom
      form_factor: [over_ear, on_ear]
      connectivity: bluetooth
      codecs: [ldac, aac]
      not:
        any:
          - back: open
          - price_usd: {more_than: shopper.budget_usd}
    then: {fit: 1}
""",
    )
    rule = load_pack(pack_copy).rules_by_id["shorthand"]
    assert isinstance(rule.condition, AllOf)
    tests = rule.condition.children
    assert [
        ("mic", "is"),
        ("form_factor", "one_of"),
        ("connectivity", "contains"),
        ("codecs", "contains_any"),
    ] == [(t.attribute.name, t.op) for t in tests[:4] if isinstance(t, AttributeTest)]
    negated = tests[4]
    assert isinstance(negated, Not) and isinstance(negated.child, AnyOf)
    budget_test = negated.child.children[1]
    assert isinstance(budget_test, AttributeTest) and "budget_usd" == budget_test.value.name


def test_the_conflict_names_an_example_product(pack_copy: Path) -> None:
    _rule_file(pack_copy, ANALYSIS[3][0])
    problem = _single(pack_copy, "zz-test.yaml")
    assert "mic=boom" in problem and "weight_g=" in problem and "priority 10" in problem


def test_different_priorities_or_disjoint_conditions_do_not_conflict(pack_copy: Path) -> None:
    _rule_file(
        pack_copy,
        "rules:\n  - id: x\n    description: d\n    when: {mic: boom, weight_g: {at_least: 300}}\n"
        "    then: {category: headphones, priority: 11}\n"
        "  - id: y\n    description: d\n    when: {mic: boom, weight_g: {less_than: 300}}\n"
        "    then: {category: unclassified, priority: 11}\n",
    )
    assert {"x", "y"} <= set(load_pack(pack_copy).rules_by_id)


def test_a_use_case_no_rule_scores_is_reported_in_the_manifest(pack_copy: Path) -> None:
    manifest = pack_copy / "pack.yaml"
    text = manifest.read_text()
    manifest.write_text(
        text.replace("specs:\n", "  - id: podcasts\n    title: Podcasts\n    default: 50\n\nspecs:\n", 1)
    )
    line = manifest.read_text().splitlines().index("  - id: podcasts") + 1
    problem = _single(pack_copy, "pack.yaml")
    assert (
        f"pack.yaml:{line}:" in problem and "error[unscored-use-case]" in problem and "'podcasts'" in problem
    )


def test_a_comparison_with_an_unknown_case_is_reported(pack_copy: Path) -> None:
    examples = pack_copy / "examples" / "zz.yaml"
    examples.write_text(
        'examples:\n  - name: n\n    product: {}\n    expect:\n      scores: ["music > nobody.music"]\n'
    )
    problem = _single(pack_copy, "examples/zz.yaml")
    assert "zz.yaml:2:" in problem and "error[unknown-case]" in problem and "'nobody'" in problem


def test_an_unknown_locale_and_a_missing_default_text_are_errors(pack_copy: Path) -> None:
    name = _rule_file(
        pack_copy,
        "rules:\n  - id: x\n    description: d\n    when: {mic: boom}\n    then:\n      fit: 1\n      say:\n        en: hi\n        fr: salut\n"
        "  - id: y\n    description: d\n    when: {mic: boom}\n    then:\n      fit: 1\n      say: {de: hallo}\n",
    )
    problems = _problems(pack_copy)
    assert 2 == len(problems), problems
    assert f"{name}:9:" in problems[0] and "error[unknown-locale]" in problems[0] and "'fr'" in problems[0]
    assert (
        f"{name}:15:" in problems[1]
        and "error[missing-default-text]" in problems[1]
        and "'en'" in problems[1]
    )


def test_a_text_without_a_translation_is_a_warning(pack_copy: Path) -> None:
    name = _rule_file(
        pack_copy,
        "rules:\n  - id: x\n    description: d\n    when: {mic: boom}\n    then:\n      fit: 1\n      say: english only\n",
    )
    pack = load_pack(pack_copy)
    warnings = [str(w) for w in pack.warnings]
    assert 1 == len(warnings), warnings
    assert (
        f"{name}:7:" in warnings[0]
        and "warning[missing-translation]" in warnings[0]
        and "no 'de' text" in warnings[0]
    )


@pytest.mark.parametrize(
    ("condition", "words"),
    [
        ("shopper.priorities: {contains: cheapness}", "'cheapness' is not a value of shopper.priorities"),
        ("shopper.environment: train", "'train' is not a value of shopper.environment"),
        ("shopper.uses: [karaoke]", "'karaoke' is not a value of shopper.uses"),
    ],
)
def test_undeclared_priorities_environments_and_uses_are_reported(
    pack_copy: Path, condition: str, words: str
) -> None:
    name = _rule_file(
        pack_copy,
        f"rules:\n  - id: x\n    description: d\n    when:\n      {condition}\n    then: {{fit: 1}}\n",
    )
    problem = _single(pack_copy, name)
    assert f"{name}:5:" in problem and "error[unknown-value]" in problem and words in problem
