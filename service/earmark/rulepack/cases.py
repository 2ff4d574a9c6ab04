"""Example cases (examples/*.yaml): products with the verdict they must get. Here they are
only read and checked against the pack; evaluation/examples.py runs them."""

from __future__ import annotations

from typing import Any

from earmark.diagnostics import Findings, Location, did_you_mean, shown
from earmark.rulepack.manifest import Vocabulary
from earmark.rulepack.model import Attribute, AttrType, ExampleCase, Rule, ScoreExpectation
from earmark.rulepack.rules import WrittenRules
from earmark.rulepack.schema import ExampleDoc, ExampleFileDoc, parse_doc
from earmark.rulepack.source import SourceFile, plain

COMPARISONS = (">=", "<=", "==", ">", "<")


def read_cases(
    sources: list[SourceFile | None],
    vocabulary: Vocabulary,
    rules: list[Rule],
    written: WrittenRules,
    found: Findings,
) -> list[ExampleCase]:
    """Every case of every readable file. A rule id is known if any rule file wrote it,
    even in a rule that is broken; with a rule file unreadable, no id is called unknown."""
    rule_ids = {r.id for r in rules} | written.ids
    cases: list[ExampleCase] = []
    for source in sources:
        if source is not None:
            cases.extend(_cases(source, vocabulary, rule_ids, written.every_file_read, found))
    _check_references(cases, found)
    return cases


def _cases(
    source: SourceFile,
    vocabulary: Vocabulary,
    rule_ids: set[str],
    check_rule_ids: bool,
    found: Findings,
) -> list[ExampleCase]:
    doc, problems = parse_doc(ExampleFileDoc, source)
    found.add(problems)
    if doc is None:
        return []
    names = (*vocabulary.use_cases, "fit")
    cases = []
    for i in range(len(doc.examples)):
        loc = ("examples", i)
        example, problems = parse_doc(ExampleDoc, source, loc)
        found.add(problems)
        if example is None:
            continue
        errors_before = len(found.errors)

        def error(at: tuple[Any, ...], code: str, message: str) -> None:
            found.error(source.location(at), code, message)

        expect = example.expect
        if expect.category is not None and expect.category not in vocabulary.categories:
            error((*loc, "expect", "category"), "unknown-category", f"'{expect.category}' is not a category")
        if check_rule_ids:
            for key in ("fired", "not_fired"):
                for j, rule_id in enumerate(getattr(expect, key)):
                    if rule_id not in rule_ids:
                        error((*loc, "expect", key, j), "unknown-rule", f"no rule has the id '{rule_id}'")
        expectations = []
        for j, text in enumerate(expect.scores):
            parsed = parse_expectation(text, names)
            if isinstance(parsed, str):
                error((*loc, "expect", "scores", j), "bad-expectation", parsed)
            else:
                expectations.append(parsed)
        _check_attributes(source, (*loc, "product"), vocabulary.specs, found)
        if example.shopper is not None:
            _check_attributes(source, (*loc, "shopper"), vocabulary.shopper, found)
        sides = {e.left for e in expectations} | {e.right for e in expectations}
        if "fit" in sides and example.shopper is None:
            error((*loc, "expect", "scores"), "bad-expectation", "a 'fit' expectation needs a shopper")
        if len(found.errors) > errors_before:
            continue
        written = source.data["examples"][i]
        cases.append(
            ExampleCase(
                id=example.id,
                name=example.name,
                location=Location(source.path, source.position(loc)[0]),
                product=plain(written["product"]),
                shopper=plain(written["shopper"]) if example.shopper is not None else None,
                category=expect.category,
                scores=tuple(expectations),
                fired=tuple(expect.fired),
                not_fired=tuple(expect.not_fired),
                explanation_has=tuple(expect.explanation_has),
                explanation_lacks=tuple(expect.explanation_lacks),
                locale=example.locale,
            )
        )
    return cases


def _check_attributes(
    source: SourceFile, loc: tuple[Any, ...], declared: tuple[Attribute, ...], found: Findings
) -> None:
    """A case's product (or shopper) is checked like a rule's conditions: a misspelt name
    or enum value is named here, with the likely fix, instead of surfacing as a rule that
    unexpectedly did not fire. A name close to none is only a warning: the service ignores
    undeclared attributes, as catalogs carry many."""
    node: Any = source.data
    for part in loc:
        node = node[part]
    if not isinstance(node, dict):
        return
    by_name = {a.name: a for a in declared}
    for name, value in node.items():
        attribute = by_name.get(str(name))
        where = source.location((*loc, name))
        if attribute is None:
            hint = did_you_mean(str(name), by_name)
            message = f"'{name}' is not an attribute declared in pack.yaml"
            if hint:
                found.error(where, "unknown-attribute", message + hint)
            else:
                found.warning(where, "unknown-attribute", message + "; the service ignores it")
            continue
        if attribute.type.item_type is not AttrType.ENUM:
            continue
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, str) and attribute.declared_value(item) is None:
                hint = did_you_mean(
                    item, attribute.values, otherwise=f"; allowed: {', '.join(attribute.values)}"
                )
                found.error(where, "unknown-value", f"{shown(item)} is not a value of {attribute.name}{hint}")


def _check_references(cases: list[ExampleCase], found: Findings) -> None:
    """Case ids are unique, and a comparison with another case names one that exists."""
    ids: dict[str, ExampleCase] = {}
    for case in cases:
        if case.id is not None:
            if case.id in ids:
                found.error(
                    case.location,
                    "duplicate-case-id",
                    f"case id '{case.id}' is already used at {ids[case.id].location}",
                )
            ids.setdefault(case.id, case)
    for case in cases:
        for expectation in case.scores:
            if expectation.other_case is not None and expectation.other_case not in ids:
                found.error(
                    case.location,
                    "unknown-case",
                    f"'{expectation.text}' names no case with the id '{expectation.other_case}'",
                )


def parse_expectation(text: str, names: tuple[str, ...]) -> ScoreExpectation | str:
    """Parse "meetings >= 70" or "music > meetings"; a str result is the error message."""
    for op in COMPARISONS:
        left, sep, right = text.partition(f" {op} ")
        if sep:
            left, right = left.strip(), right.strip()
            if left not in names:
                return f"'{left}' is not a use case or 'fit'; write e.g. 'meetings >= 70'"
            if right in names:
                return ScoreExpectation(left, op, right, text)
            other_case, dot, other_name = right.rpartition(".")
            if dot and other_case:
                if other_name not in names:
                    return (
                        f"'{other_name}' is not a use case or 'fit'; write e.g. 'music > other-case-id.music'"
                    )
                return ScoreExpectation(left, op, other_name, text, other_case=other_case)
            try:
                return ScoreExpectation(left, op, float(right), text)
            except ValueError:
                return f"'{right}' is neither a number nor a use case"
    return f"'{text}' is not a comparison; write e.g. 'meetings >= 70' or 'music > meetings'"
