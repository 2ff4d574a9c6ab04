"""Rule files: each rule's `when:` parsed into a Condition and its `then:` checked against
the vocabulary. A broken rule is reported and left out; the rest of its file still loads,
so that one pass shows every mistake."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from earmark.diagnostics import Findings, Location, did_you_mean
from earmark.rulepack.conditions import ConditionParser
from earmark.rulepack.manifest import Vocabulary
from earmark.rulepack.model import AttrType, Grade, Rule, Texts
from earmark.rulepack.schema import EffectsDoc, RuleDoc, RuleFileDoc, parse_doc
from earmark.rulepack.source import SourceFile
from earmark.rulepack.texts import TextReader


@dataclass
class WrittenRules:
    """What the rule files say beyond the rules that loaded: every id written, broken
    rules included, and whether every file could be read. The example-case reader needs
    it so that a broken rule or file doesn't also show up as "no rule has the id ..." in
    every case that names its rules."""

    ids: set[str] = field(default_factory=set)
    every_file_read: bool = True


def read_rules(
    sources: list[SourceFile | None], vocabulary: Vocabulary, texts: TextReader, found: Findings
) -> tuple[list[Rule], WrittenRules]:
    """The rules of every file, in file then written order. None stands for a file that
    could not be read (its problem is already recorded)."""
    rules: list[Rule] = []
    written = WrittenRules()
    for source in sources:
        if source is None:
            written.every_file_read = False
            continue
        rules.extend(_RuleFileReader(source, vocabulary, texts, found, written).rules(first_index=len(rules)))
    return rules, written


class _RuleFileReader:
    def __init__(
        self,
        source: SourceFile,
        vocabulary: Vocabulary,
        texts: TextReader,
        found: Findings,
        written: WrittenRules,
    ) -> None:
        self.source = source
        self.vocabulary = vocabulary
        self.texts = texts
        self.found = found
        self.written = written

    def rules(self, first_index: int) -> list[Rule]:
        doc, problems = parse_doc(RuleFileDoc, self.source)
        self.found.add(problems)
        if doc is None:
            self.written.every_file_read = False
            return []
        conditions = ConditionParser(self.vocabulary.attributes, self.source)
        rules: list[Rule] = []
        for i, item in enumerate(doc.rules):
            if isinstance(item.get("id"), str):
                self.written.ids.add(item["id"])
            rule = self._rule(("rules", i), conditions, first_index + len(rules))
            if rule is not None:
                rules.append(rule)
        self.found.add(conditions.problems)
        return rules

    def _error(self, loc: tuple[Any, ...], code: str, message: str) -> None:
        self.found.error(self.source.location(loc), code, message)

    def _rule(self, loc: tuple[Any, ...], conditions: ConditionParser, index: int) -> Rule | None:
        source, vocabulary = self.source, self.vocabulary
        rule, problems = parse_doc(RuleDoc, source, loc)
        self.found.add(problems)
        if rule is None:
            self._check_parts(loc, conditions)
            return None
        condition = conditions.parse(source.data[loc[0]][loc[1]]["when"], (*loc, "when"))
        effects = rule.then
        errors_before = len(self.found.errors)
        self._check_names(loc, effects.category, list(effects.scores))
        grade = self._grade(effects, loc)
        if not (effects.category or effects.label or effects.scores or effects.fit):
            self._error(
                (*loc, "then"),
                "no-effect",
                "this rule changes nothing: give a category, label, scores or fit",
            )
        fragment_names = set(vocabulary.attributes)
        say = self._text(effects.say, (*loc, "then", "say"), fragment_names, vocabulary.doc.limits.fragment)
        label = self._text(effects.label, (*loc, "then", "label"), fragment_names, None)
        if condition is None or len(self.found.errors) > errors_before:
            return None
        if (effects.say and say is None) or (effects.label and label is None):
            return None
        line, column = source.position(loc)
        return Rule(
            id=rule.id,
            description=rule.description,
            condition=condition,
            location=Location(source.path, line, column),
            index=index,
            category=effects.category,
            label=label,
            priority=effects.priority,
            scores=tuple((u, effects.scores[u]) for u in vocabulary.use_cases if u in effects.scores),
            fit=effects.fit,
            say=say,
            graded=grade,
        )

    def _check_names(self, loc: tuple[Any, ...], category: Any, use_cases: list[Any]) -> None:
        """The category and use cases a rule's `then:` names must be the pack's."""
        vocabulary = self.vocabulary
        if isinstance(category, str) and category not in vocabulary.categories:
            self._error(
                (*loc, "then", "category"),
                "unknown-category",
                f"'{category}' is not a category; known: {', '.join(vocabulary.categories)}",
            )
        for use_case in use_cases:
            if isinstance(use_case, str) and use_case not in vocabulary.use_cases:
                self._error(
                    (*loc, "then", "scores", use_case),
                    "unknown-use-case",
                    f"'{use_case}' is not a use case; known: {', '.join(vocabulary.use_cases)}",
                )

    def _grade(self, effects: EffectsDoc, loc: tuple[Any, ...]) -> Grade | None:
        """`graded:` scales a rule's amounts along one number spec: it must name one, and
        its two ends must differ."""
        written = effects.graded
        if written is None:
            return None
        where = (*loc, "then", "graded")
        numbers = [a.name for a in self.vocabulary.specs if a.type is AttrType.NUMBER]
        if written.by not in numbers:
            self._error(
                (*where, "by"),
                "unknown-attribute",
                f"'{written.by}' is not a number the product specs declare"
                + did_you_mean(written.by, numbers)
                + f"; graded: takes one of {', '.join(numbers)}",
            )
            return None
        if written.start == written.end:
            self._error(
                where,
                "bad-range",
                f"from and to are both {written.start:g}: the amounts need two different ends to grow between",
            )
            return None
        if not (effects.scores or effects.fit):
            self._error(where, "no-effect", "graded: scales scores or fit, and this rule gives neither")
            return None
        return Grade(written.by, written.start, written.end)

    def _check_parts(self, loc: tuple[Any, ...], conditions: ConditionParser) -> None:
        """A rule whose shape is wrong is not loaded, but its condition and texts are still
        checked where they can be read, so that one run of `earmark check` shows every
        mistake in it, not one now and the next after that is fixed."""
        written = self.source.data[loc[0]][loc[1]]
        if not isinstance(written, dict):
            return
        when = written.get("when")
        # `then:` indented under `when:` makes the effects read as conditions: that one
        # mistake is reported (see schema.py), not each effect as an unknown attribute.
        then_misplaced = "then" not in written and isinstance(when, dict) and "then" in when
        if when is not None and not then_misplaced:
            conditions.parse(when, (*loc, "when"))
        then = written.get("then")
        if not isinstance(then, dict):
            return
        scores = then.get("scores")
        self._check_names(loc, then.get("category"), list(scores) if isinstance(scores, dict) else [])
        names = set(self.vocabulary.attributes)
        limit = self.vocabulary.doc.limits.fragment
        for key, limit_here in (("say", limit), ("label", None)):
            value = then.get(key)
            readable = isinstance(value, str) or (
                isinstance(value, dict)
                and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
            )
            if value and readable:
                self.texts.texts(value, self.source, (*loc, "then", key), names, limit=limit_here)

    def _text(
        self, value: str | dict[str, str] | None, loc: tuple[Any, ...], names: set[str], limit: int | None
    ) -> Texts | None:
        if not value:
            return None
        return self.texts.texts(value, self.source, loc, names, limit=limit)
