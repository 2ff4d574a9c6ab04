"""Checks across the whole pack, once its rules have loaded: ids unique, the engine's
limits kept, every use case scored, every rule able to fire, no two categories colliding."""

from __future__ import annotations

from earmark.diagnostics import Findings
from earmark.rulepack import analysis, network
from earmark.rulepack.manifest import Vocabulary
from earmark.rulepack.model import Rule


def unique_rule_ids(rules: list[Rule], vocabulary: Vocabulary, found: Findings) -> None:
    """(Every check takes the rules, the vocabulary and the findings, used or not.)"""
    seen: dict[str, Rule] = {}
    for rule in rules:
        if rule.id in seen:
            found.error(
                rule.location,
                "duplicate-rule-id",
                f"rule id '{rule.id}' is already used at {seen[rule.id].location}",
            )
        seen.setdefault(rule.id, rule)


def engine_limits(rules: list[Rule], vocabulary: Vocabulary, found: Findings) -> None:
    """durable_rules hangs or crashes past these (shared/notes/durable-rules.md), so they
    are checked before anything else walks the rules: such a pack can also be too big for
    the analyses that follow."""
    attributes = len(vocabulary.specs) + len(vocabulary.shopper)
    if attributes > network.MAX_ATTRIBUTES:
        found.error(
            vocabulary.source.location(("specs",)),
            "too-many-attributes",
            f"the pack declares {attributes} spec and shopper attributes; "
            f"at most {network.MAX_ATTRIBUTES} fit in one product for the engine",
        )
    for problem in network.check_limits(rules):
        found.error(problem.rule.location, problem.code, problem.message)


def scored_use_cases(rules: list[Rule], vocabulary: Vocabulary, found: Findings) -> None:
    scored = {use_case for rule in rules for use_case, _ in rule.scores}
    for i, use_case in enumerate(vocabulary.use_cases):
        if use_case not in scored:
            found.error(
                vocabulary.source.location(("use_cases", i, "id")),
                "unscored-use-case",
                f"no rule scores the use case '{use_case}', so every product gets its default",
            )


def rules_can_fire_without_collisions(rules: list[Rule], vocabulary: Vocabulary, found: Findings) -> None:
    """The two searches share one budget, so a huge pack is checked in part, with a
    warning, instead of taking minutes."""
    budget = analysis.Budget()
    for rule in rules:
        if analysis.never_fires(rule, budget):
            found.error(
                rule.location,
                "never-fires",
                f"the conditions of '{rule.id}' contradict each other (or the declared ranges), so it can never fire",
            )
    for first, second, example in analysis.category_conflicts(rules, budget):
        found.error(
            second.location,
            "category-conflict",
            f"'{second.id}' (category {second.category}) and '{first.id}' at {first.location} (category {first.category}) "
            f"can fire for the same product ({analysis.describe(example)}) at the same priority {first.priority}; "
            "give one of them a higher priority",
        )
    if budget.exhausted:
        found.warning(
            vocabulary.source.location(()),
            "checked-in-part",
            "the pack is too big to check completely for rules that can never fire "
            "and categories that collide; those checks stopped early",
        )
