"""Loading a rule pack directory into a checked Pack, or every Problem with it at once.

rules/audio/
  pack.yaml            the manifest: vocabulary, categories, use cases, wording
  *.yaml               rule files, grouped by concern, read in name order
  examples/*.yaml      example cases: products with the verdicts they must get
"""

from __future__ import annotations

import difflib
import hashlib
import math
import os
from pathlib import Path
from typing import Any

from earmark.errors import PackError, Problem
from earmark.rulepack import analysis, network
from earmark.rulepack.conditions import ConditionParser
from earmark.rulepack.model import (
    Attribute,
    AttrType,
    Band,
    Category,
    ExampleCase,
    Location,
    Pack,
    Rule,
    ScoreExpectation,
    Template,
    Texts,
    UseCase,
    Wording,
)
from earmark.rulepack.schema import (
    AttributeDoc,
    BandDoc,
    ExampleDoc,
    ExampleFileDoc,
    ManifestDoc,
    RuleDoc,
    RuleFileDoc,
    parse_doc,
)
from earmark.rulepack.source import SourceFile, parse_yaml, plain, read_bytes
from earmark.rulepack.templates import TemplateSyntaxError, parse_template

MANIFEST = "pack.yaml"
EXAMPLES_DIR = "examples"
COMPARISONS = (">=", "<=", "==", ">", "<")

# Placeholders each wording text may use.
WORDING_PLACEHOLDERS = {
    "band": {"use_case"},
    "fit_band": set(),
    "reasons": {"reasons"},
    "summary.reason": {"label", "reason"},
    "summary.best_for": {"use_cases"},
}


def load_pack(directory: Path) -> Pack:
    """Load, parse and check the pack in `directory`. Raises PackError with every problem."""
    return _PackLoader(directory).load()


def display_path(path: Path) -> str:
    """A path as an author would type it: relative to the working directory when inside it."""
    # abspath, not resolve(): a loop of links must still have a name to report.
    try:
        return str(Path(os.path.abspath(path)).relative_to(os.path.abspath(Path.cwd())))
    except ValueError:
        return str(path)


class _PackLoader:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.root = directory.resolve()
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.digest = hashlib.sha256()
        self.locales: tuple[str, ...] = ("en",)  # from the manifest; the default first
        # Every rule id written in a rule file, broken rules included, and whether every
        # rule file could be read: so that a broken rule or file doesn't also show up as
        # "no rule has the id ..." in every example case that names its rules.
        self.rule_ids_written: set[str] = set()
        self.rule_files_readable = True

    # ---- orchestration --------------------------------------------------------------------

    def load(self) -> Pack:
        if not self.directory.is_dir():
            raise PackError([Problem(display_path(self.directory), 1, 1, "no-pack", "not a directory")])
        manifest_path = self.directory / MANIFEST
        manifest_source = self._read(manifest_path)
        if manifest_source is None:
            if not os.path.lexists(manifest_path):
                self.problems.append(
                    Problem(
                        display_path(manifest_path),
                        1,
                        1,
                        "no-manifest",
                        f"a pack needs a {MANIFEST} declaring its vocabulary",
                    )
                )
            raise PackError(self.problems)
        manifest = self._parse(ManifestDoc, manifest_source)
        if manifest is None:
            raise PackError(self.problems)
        self.locales = tuple(dict.fromkeys(manifest.locales))

        categories = self._categories(manifest, manifest_source)
        use_cases = self._use_cases(manifest, manifest_source)
        specs = self._attributes(manifest.specs, "spec", use_cases, manifest_source)
        shopper = self._attributes(manifest.shopper, "shopper", use_cases, manifest_source)
        attributes = {a.ref: a for a in (*specs, *shopper)}
        wording = self._wording(manifest, manifest_source)

        rules: list[Rule] = []
        for path in self._files(self.directory):
            source = self._read(path)
            if source is None:
                self.rule_files_readable = False
            else:
                rules.extend(self._rules(source, attributes, categories, use_cases, len(rules), manifest))
        self._check_duplicate_rule_ids(rules)
        # Before anything else walks the rules: a pack past the engine's limits can also be
        # too big for the analyses below.
        self._check_engine_limits(rules, len(specs) + len(shopper), manifest_source)
        if not self.problems:  # the analyses need a pack whose parts all parsed
            self._check_scored_use_cases(rules, use_cases, manifest_source)
            budget = analysis.Budget()
            self._check_rules_can_fire(rules, budget)
            self._check_category_conflicts(rules, budget)
            if budget.exhausted:
                self.warnings.append(
                    Problem(
                        manifest_source.path,
                        1,
                        1,
                        "checked-in-part",
                        "the pack is too big to check completely for rules that can never fire "
                        "and categories that collide; those checks stopped early",
                        "warning",
                    )
                )

        examples: list[ExampleCase] = []
        for path in self._files(self.directory / EXAMPLES_DIR):
            source = self._read(path)
            if source is not None:
                examples.extend(self._examples(source, categories, use_cases, rules))
        self._check_case_references(examples)

        if self.problems:
            raise PackError(self.problems)
        assert wording is not None
        return Pack(
            name=manifest.pack,
            title=manifest.title,
            version=f"{manifest.pack}-{self.digest.hexdigest()[:12]}",
            directory=str(self.root),
            categories=tuple(categories.values()),
            default_category=manifest.default_category,
            use_cases=tuple(use_cases.values()),
            specs=specs,
            shopper=shopper,
            rules=tuple(rules),
            wording=wording,
            explanation_limit=manifest.limits.explanation,
            fragment_limit=manifest.limits.fragment,
            examples=tuple(examples),
            locales=self.locales,
            warnings=tuple(sorted(self.warnings)),
        )

    def _files(self, directory: Path) -> list[Path]:
        if not directory.is_dir():
            return []
        return sorted(
            p
            for p in directory.iterdir()
            if p.suffix in (".yaml", ".yml") and p.name != MANIFEST and not p.name.startswith(".")
        )

    def _read(self, path: Path) -> SourceFile | None:
        shown = display_path(path)
        if not os.path.lexists(path):
            return None
        try:
            resolved = path.resolve(strict=True)
        except FileNotFoundError:
            self.problems.append(Problem(shown, 1, 1, "unreadable", "a link to a file that does not exist"))
            return None
        except (OSError, RuntimeError):  # Python 3.11 raises RuntimeError for a loop of links
            self.problems.append(Problem(shown, 1, 1, "unreadable", "a loop of links that leads to no file"))
            return None
        # Rule files come from the pack directory only: a symlink out of it is refused.
        if not resolved.is_relative_to(self.root):
            self.problems.append(Problem(shown, 1, 1, "outside-pack", "links outside the pack directory"))
            return None
        raw, problems = read_bytes(path, shown)
        if raw is None:
            self.problems.extend(problems)
            return None
        # The version covers every file that decides, by name and content.
        self.digest.update(path.relative_to(self.directory).as_posix().encode() + b"\0" + raw + b"\0")
        source, problems = parse_yaml(raw, shown)
        self.problems.extend(problems)
        return source

    def _parse(self, model: Any, source: SourceFile, at: tuple[Any, ...] = ()) -> Any:
        doc, problems = parse_doc(model, source, at)
        self.problems.extend(problems)
        return doc

    def _texts(
        self,
        value: str | dict[str, str],
        source: SourceFile,
        loc: tuple[Any, ...],
        allowed: set[str] | None,
        *,
        limit: int | None = None,
    ) -> Texts | None:
        """A translatable text: one string in the default locale, or one per locale."""
        default_locale = self.locales[0]
        given = value if isinstance(value, dict) else {default_locale: value}
        templates: dict[str, Template] = {}
        for locale, text in given.items():
            where = (*loc, locale) if isinstance(value, dict) else loc
            if locale not in self.locales:
                close = difflib.get_close_matches(locale, self.locales, n=1)
                hint = (
                    f" (did you mean '{close[0]}'?)"
                    if close
                    else f"; the pack's locales: {', '.join(self.locales)}"
                )
                self.problems.append(
                    source.problem(where, "unknown-locale", f"'{locale}' is not a locale of this pack{hint}")
                )
                continue
            if limit is not None and len(text) > limit:
                self.problems.append(
                    source.problem(
                        where,
                        "fragment-too-long",
                        f"{len(text)} characters; the widget allows {limit} (limits.fragment in {MANIFEST})",
                    )
                )
            template = self._template(text, source, where, allowed)
            if template is not None:
                templates[locale] = template
        if default_locale not in given:
            self.problems.append(
                source.problem(
                    loc, "missing-default-text", f"give a text for the default locale '{default_locale}'"
                )
            )
            return None
        if len(templates) != len(given):
            return None
        for locale in self.locales[1:]:
            if locale not in templates:
                line, column = source.position(loc)
                self.warnings.append(
                    Problem(
                        source.path,
                        line,
                        column,
                        "missing-translation",
                        f"no '{locale}' text; the '{default_locale}' one is used",
                        "warning",
                    )
                )
        default = templates.pop(default_locale)
        return Texts(default, tuple(templates.items()))

    def _template(
        self, text: str, source: SourceFile, loc: tuple[Any, ...], allowed: set[str] | None
    ) -> Template | None:
        try:
            template = parse_template(text)
        except TemplateSyntaxError as exc:
            self.problems.append(source.problem(loc, "bad-placeholder", str(exc)))
            return None
        if allowed is not None:
            for name in template.placeholders:
                if name not in allowed:
                    known = ", ".join(f"{{{a}}}" for a in sorted(allowed)) or "none"
                    self.problems.append(
                        source.problem(
                            loc,
                            "unknown-placeholder",
                            f"{{{name}}} is not known here; this text may use: {known}",
                        )
                    )
        return template

    # ---- manifest -------------------------------------------------------------------------

    def _categories(self, manifest: ManifestDoc, source: SourceFile) -> dict[str, Category]:
        found: dict[str, Category] = {}
        for i, doc in enumerate(manifest.categories):
            if doc.id in found:
                self.problems.append(
                    source.problem(
                        ("categories", i, "id"), "duplicate-id", f"category '{doc.id}' is declared twice"
                    )
                )
            title = self._texts(doc.title, source, ("categories", i, "title"), set())
            explanation = self._texts(doc.explanation, source, ("categories", i, "explanation"), set())
            if title is not None and explanation is not None:
                found[doc.id] = Category(doc.id, title, explanation)
        if manifest.default_category not in found:
            self.problems.append(
                source.problem(
                    ("default_category",),
                    "unknown-category",
                    f"'{manifest.default_category}' is not one of the categories",
                )
            )
        return found

    def _use_cases(self, manifest: ManifestDoc, source: SourceFile) -> dict[str, UseCase]:
        found: dict[str, UseCase] = {}
        for i, doc in enumerate(manifest.use_cases):
            if doc.id in found:
                self.problems.append(
                    source.problem(
                        ("use_cases", i, "id"), "duplicate-id", f"use case '{doc.id}' is declared twice"
                    )
                )
            if doc.floor > doc.default:
                self.problems.append(
                    source.problem(("use_cases", i, "floor"), "bad-range", "floor is above the default score")
                )
            title = self._texts(doc.title, source, ("use_cases", i, "title"), set())
            phrase = (
                self._texts(doc.phrase, source, ("use_cases", i, "phrase"), set()) if doc.phrase else title
            )
            if title is not None and phrase is not None:
                found[doc.id] = UseCase(doc.id, title, phrase, doc.default, doc.floor)
        return found

    def _attributes(
        self, docs: dict[str, AttributeDoc], side: str, use_cases: dict[str, UseCase], source: SourceFile
    ) -> tuple[Attribute, ...]:
        section = "specs" if side == "spec" else "shopper"
        attributes = []
        for name, doc in docs.items():
            loc = (section, name)
            kind = AttrType(doc.type)
            values: tuple[str, ...] = ()
            if kind in (AttrType.ENUM, AttrType.ENUM_LIST):
                if doc.values_from == "use_cases":
                    values = tuple(use_cases)
                elif doc.values:
                    values = tuple(doc.values)
                else:
                    self.problems.append(
                        source.problem(loc, "missing-key", f"{name} is an {kind.value}: give its 'values'")
                    )
            elif doc.values or doc.values_from:
                self.problems.append(
                    source.problem(
                        loc,
                        "bad-value",
                        f"'values' only applies to enum attributes, and {name} is {kind.value}",
                    )
                )
            if (doc.min is not None or doc.max is not None) and kind is not AttrType.NUMBER:
                self.problems.append(
                    source.problem(
                        loc, "bad-value", f"min and max only apply to numbers, and {name} is {kind.value}"
                    )
                )
            for bound in (doc.min, doc.max):
                if bound is not None and not math.isfinite(bound):
                    self.problems.append(
                        source.problem(loc, "bad-value", "min and max must be finite numbers")
                    )
            if doc.min is not None and doc.max is not None and doc.min > doc.max:
                self.problems.append(source.problem(loc, "bad-range", f"{name}: min is above max"))
            attributes.append(Attribute(name, side, kind, doc.description, values, doc.min, doc.max))
        return tuple(attributes)

    def _wording(self, manifest: ManifestDoc, source: SourceFile) -> Wording | None:
        w = manifest.wording
        loc = ("wording",)
        score_bands = self._bands(w.score_bands, source, (*loc, "score_bands"), WORDING_PLACEHOLDERS["band"])
        fit_bands = self._bands(w.fit_bands, source, (*loc, "fit_bands"), WORDING_PLACEHOLDERS["fit_band"])
        pros = self._texts(w.pros, source, (*loc, "pros"), WORDING_PLACEHOLDERS["reasons"])
        cons = self._texts(w.cons, source, (*loc, "cons"), WORDING_PLACEHOLDERS["reasons"])
        s = w.summary
        reason = self._texts(
            s.reason, source, (*loc, "summary", "reason"), WORDING_PLACEHOLDERS["summary.reason"]
        )
        best = self._texts(
            s.best_for, source, (*loc, "summary", "best_for"), WORDING_PLACEHOLDERS["summary.best_for"]
        )
        highlights = self._texts(
            s.highlights, source, (*loc, "summary", "highlights"), WORDING_PLACEHOLDERS["reasons"]
        )
        conjunction = self._texts(w.conjunction, source, (*loc, "conjunction"), set())
        parts = (score_bands, fit_bands, pros, cons, reason, best, highlights, conjunction)
        if any(p is None for p in parts):
            return None
        return Wording(
            score_bands,
            fit_bands,
            pros,
            cons,
            reason,
            best,
            highlights,
            conjunction,
            w.max_reasons,  # type: ignore[arg-type]
        )

    def _bands(
        self, docs: list[BandDoc], source: SourceFile, loc: tuple[Any, ...], allowed: set[str]
    ) -> tuple[Band, ...] | None:
        bands = []
        for i, doc in enumerate(docs):
            text = self._texts(doc.text, source, (*loc, i, "text"), allowed)
            if text is None:
                return None
            bands.append(Band(doc.start, text))
        starts = [b.start for b in bands]
        if starts != sorted(starts, reverse=True) or len(set(starts)) != len(starts) or starts[-1] != 0:
            self.problems.append(
                source.problem(
                    loc, "bad-range", "bands go from the highest 'from' down, and the last one is 'from: 0'"
                )
            )
            return None
        return tuple(bands)

    # ---- rules ----------------------------------------------------------------------------

    def _rules(
        self,
        source: SourceFile,
        attributes: dict[str, Attribute],
        categories: dict[str, Category],
        use_cases: dict[str, UseCase],
        first_index: int,
        manifest: ManifestDoc,
    ) -> list[Rule]:
        doc = self._parse(RuleFileDoc, source)
        if doc is None:
            self.rule_files_readable = False
            return []
        conditions = ConditionParser(attributes, source)
        rules = []
        for i, written in enumerate(doc.rules):
            if isinstance(written.get("id"), str):
                self.rule_ids_written.add(written["id"])
            loc = ("rules", i)
            rule = self._parse(RuleDoc, source, loc)
            if rule is None:
                continue
            line, column = source.position(loc)
            condition = conditions.parse(source.data["rules"][i]["when"], (*loc, "when"))
            effects = rule.then
            ok = condition is not None
            if effects.category is not None and effects.category not in categories:
                ok = self._fail(
                    source,
                    (*loc, "then", "category"),
                    "unknown-category",
                    f"'{effects.category}' is not a category; known: {', '.join(categories)}",
                )
            for use_case in effects.scores:
                if use_case not in use_cases:
                    ok = self._fail(
                        source,
                        (*loc, "then", "scores", use_case),
                        "unknown-use-case",
                        f"'{use_case}' is not a use case; known: {', '.join(use_cases)}",
                    )
            if not (effects.category or effects.label or effects.scores or effects.fit):
                ok = self._fail(
                    source,
                    (*loc, "then"),
                    "no-effect",
                    "this rule changes nothing: give a category, label, scores or fit",
                )
            fragment_names = set(attributes)
            say = (
                self._texts(
                    effects.say, source, (*loc, "then", "say"), fragment_names, limit=manifest.limits.fragment
                )
                if effects.say
                else None
            )
            label = (
                self._texts(effects.label, source, (*loc, "then", "label"), fragment_names)
                if effects.label
                else None
            )
            if (
                not ok
                or condition is None
                or (effects.say and say is None)
                or (effects.label and label is None)
            ):
                continue
            ordered_scores = tuple((u, effects.scores[u]) for u in use_cases if u in effects.scores)
            rules.append(
                Rule(
                    id=rule.id,
                    description=rule.description,
                    condition=condition,
                    location=Location(source.path, line, column),
                    index=first_index + len(rules),
                    category=effects.category,
                    label=label,
                    priority=effects.priority,
                    scores=ordered_scores,
                    fit=effects.fit,
                    say=say,
                )
            )
        self.problems.extend(conditions.problems)
        return rules

    def _check_duplicate_rule_ids(self, rules: list[Rule]) -> None:
        seen: dict[str, Rule] = {}
        for rule in rules:
            if rule.id in seen:
                first = seen[rule.id].location
                self.problems.append(
                    Problem(
                        rule.location.path,
                        rule.location.line,
                        rule.location.column,
                        "duplicate-rule-id",
                        f"rule id '{rule.id}' is already used at {first}",
                    )
                )
            seen.setdefault(rule.id, rule)

    def _check_engine_limits(self, rules: list[Rule], attributes: int, manifest: SourceFile) -> None:
        if attributes > network.MAX_ATTRIBUTES:
            self.problems.append(
                manifest.problem(
                    ("specs",),
                    "too-many-attributes",
                    f"the pack declares {attributes} spec and shopper attributes; "
                    f"at most {network.MAX_ATTRIBUTES} fit in one product for the engine",
                )
            )
        for found in network.check_limits(rules):
            self.problems.append(self._at(found.rule, found.code, found.message))

    def _check_scored_use_cases(
        self, rules: list[Rule], use_cases: dict[str, UseCase], source: SourceFile
    ) -> None:
        scored = {use_case for rule in rules for use_case, _ in rule.scores}
        for i, use_case in enumerate(use_cases):
            if use_case not in scored:
                self.problems.append(
                    source.problem(
                        ("use_cases", i, "id"),
                        "unscored-use-case",
                        f"no rule scores the use case '{use_case}', so every product gets its default",
                    )
                )

    def _check_rules_can_fire(self, rules: list[Rule], budget: analysis.Budget) -> None:
        for rule in rules:
            if analysis.never_fires(rule, budget):
                self.problems.append(
                    self._at(
                        rule,
                        "never-fires",
                        f"the conditions of '{rule.id}' contradict each other (or the declared ranges), so it can never fire",
                    )
                )

    def _check_category_conflicts(self, rules: list[Rule], budget: analysis.Budget) -> None:
        for first, second, example in analysis.category_conflicts(rules, budget):
            self.problems.append(
                self._at(
                    second,
                    "category-conflict",
                    f"'{second.id}' (category {second.category}) and '{first.id}' at {first.location} (category {first.category}) "
                    f"can fire for the same product ({analysis.describe(example)}) at the same priority {first.priority}; "
                    "give one of them a higher priority",
                )
            )

    @staticmethod
    def _at(rule: Rule, code: str, message: str) -> Problem:
        return Problem(rule.location.path, rule.location.line, rule.location.column, code, message)

    # ---- examples -------------------------------------------------------------------------

    def _examples(
        self,
        source: SourceFile,
        categories: dict[str, Category],
        use_cases: dict[str, UseCase],
        rules: list[Rule],
    ) -> list[ExampleCase]:
        doc = self._parse(ExampleFileDoc, source)
        if doc is None:
            return []
        rule_ids = {r.id for r in rules} | self.rule_ids_written
        names = (*use_cases, "fit")
        cases = []
        for i in range(len(doc.examples)):
            loc = ("examples", i)
            example = self._parse(ExampleDoc, source, loc)
            if example is None:
                continue
            line, _ = source.position(loc)
            expect = example.expect
            ok = True
            if expect.category is not None and expect.category not in categories:
                ok = self._fail(
                    source,
                    (*loc, "expect", "category"),
                    "unknown-category",
                    f"'{expect.category}' is not a category",
                )
            for key in ("fired", "not_fired"):
                for j, rule_id in enumerate(getattr(expect, key)):
                    # With a rule file unreadable, its rules are unknown, not missing.
                    if rule_id not in rule_ids and self.rule_files_readable:
                        ok = self._fail(
                            source,
                            (*loc, "expect", key, j),
                            "unknown-rule",
                            f"no rule has the id '{rule_id}'",
                        )
            expectations = []
            for j, text in enumerate(expect.scores):
                parsed = _parse_expectation(text, names)
                if isinstance(parsed, str):
                    ok = self._fail(source, (*loc, "expect", "scores", j), "bad-expectation", parsed)
                else:
                    expectations.append(parsed)
            if (
                "fit" in {e.left for e in expectations} | {e.right for e in expectations}
                and example.shopper is None
            ):
                ok = self._fail(
                    source,
                    (*loc, "expect", "scores"),
                    "bad-expectation",
                    "a 'fit' expectation needs a shopper",
                )
            if ok:
                cases.append(
                    ExampleCase(
                        id=example.id,
                        name=example.name,
                        location=Location(source.path, line),
                        product=plain(source.data["examples"][i]["product"]),
                        shopper=plain(source.data["examples"][i]["shopper"])
                        if example.shopper is not None
                        else None,
                        category=expect.category,
                        scores=tuple(expectations),
                        fired=tuple(expect.fired),
                        not_fired=tuple(expect.not_fired),
                        explanation_has=tuple(expect.explanation_has),
                        locale=example.locale,
                    )
                )
        return cases

    def _check_case_references(self, examples: list[ExampleCase]) -> None:
        ids: dict[str, ExampleCase] = {}
        for case in examples:
            if case.id is not None:
                if case.id in ids:
                    self.problems.append(
                        Problem(
                            case.location.path,
                            case.location.line,
                            1,
                            "duplicate-case-id",
                            f"case id '{case.id}' is already used at {ids[case.id].location}",
                        )
                    )
                ids.setdefault(case.id, case)
        for case in examples:
            for expectation in case.scores:
                if expectation.other_case is not None and expectation.other_case not in ids:
                    self.problems.append(
                        Problem(
                            case.location.path,
                            case.location.line,
                            1,
                            "unknown-case",
                            f"'{expectation.text}' names no case with the id '{expectation.other_case}'",
                        )
                    )

    def _fail(self, source: SourceFile, loc: tuple[Any, ...], code: str, message: str) -> bool:
        self.problems.append(source.problem(loc, code, message))
        return False


def _parse_expectation(text: str, names: tuple[str, ...]) -> ScoreExpectation | str:
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
