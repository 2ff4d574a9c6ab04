"""pack.yaml: the pack's vocabulary (categories, use cases, spec and shopper attributes)
and its wording (the sentence frames explanations are set in)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from earmark.diagnostics import Findings, did_you_mean
from earmark.rulepack.model import (
    Attribute,
    AttrType,
    Band,
    Category,
    Mask,
    Texts,
    UseCase,
    Wording,
    value_key,
)
from earmark.rulepack.schema import AttributeDoc, BandDoc, ManifestDoc, parse_doc
from earmark.rulepack.source import SourceFile
from earmark.rulepack.texts import TextReader

# Placeholders each wording text may use.
WORDING_PLACEHOLDERS = {
    "band": {"use_case"},
    "fit_band": set(),
    "reasons": {"reasons"},
    "summary.reason": {"label", "reason"},
    "summary.best_for": {"use_cases"},
}


@dataclass(frozen=True)
class Vocabulary:
    """What the manifest declares, as far as it could be read. Rules and example cases are
    checked against it; the pack is only built if `wording` is there too."""

    doc: ManifestDoc
    source: SourceFile
    locales: tuple[str, ...]  # the default first
    categories: dict[str, Category]
    use_cases: dict[str, UseCase]
    specs: tuple[Attribute, ...]
    shopper: tuple[Attribute, ...]
    wording: Wording | None
    masks: tuple[Mask, ...] = ()

    @property
    def attributes(self) -> dict[str, Attribute]:
        """Every attribute by the name rules use: `mic`, `shopper.budget_usd`."""
        return {a.ref: a for a in (*self.specs, *self.shopper)}


def read_manifest(source: SourceFile, found: Findings) -> tuple[Vocabulary | None, TextReader]:
    """The vocabulary, or None if the manifest is not even shaped like one; and the reader
    of texts in its locales, which rule files use too."""
    doc, problems = parse_doc(ManifestDoc, source)
    found.add(problems)
    texts = TextReader(tuple(dict.fromkeys(doc.locales)) if doc is not None else ("en",), found)
    if doc is None:
        return None, texts
    reader = _ManifestReader(doc, source, texts, found)
    use_cases = reader.use_cases()
    specs = reader.attributes(doc.specs, "spec", use_cases)
    shopper = reader.attributes(doc.shopper, "shopper", use_cases)
    vocabulary = Vocabulary(
        doc=doc,
        source=source,
        locales=texts.locales,
        categories=reader.categories(),
        use_cases=use_cases,
        specs=specs,
        shopper=shopper,
        wording=reader.wording(),
        masks=reader.masks({"specs": specs, "shopper": shopper}),
    )
    return vocabulary, texts


class _ManifestReader:
    def __init__(self, doc: ManifestDoc, source: SourceFile, texts: TextReader, found: Findings) -> None:
        self.doc = doc
        self.source = source
        self.texts = texts
        self.found = found

    def _error(self, loc: tuple[object, ...], code: str, message: str) -> None:
        self.found.error(self.source.location(loc), code, message)

    def categories(self) -> dict[str, Category]:
        found: dict[str, Category] = {}
        for i, doc in enumerate(self.doc.categories):
            if doc.id in found:
                self._error(("categories", i, "id"), "duplicate-id", f"category '{doc.id}' is declared twice")
            title = self.texts.texts(doc.title, self.source, ("categories", i, "title"), set())
            explanation = self.texts.texts(
                doc.explanation, self.source, ("categories", i, "explanation"), set()
            )
            if title is not None and explanation is not None:
                found[doc.id] = Category(doc.id, title, explanation)
        if self.doc.default_category not in found:
            self._error(
                ("default_category",),
                "unknown-category",
                f"'{self.doc.default_category}' is not one of the categories",
            )
        return found

    def use_cases(self) -> dict[str, UseCase]:
        found: dict[str, UseCase] = {}
        for i, doc in enumerate(self.doc.use_cases):
            if doc.id in found:
                self._error(("use_cases", i, "id"), "duplicate-id", f"use case '{doc.id}' is declared twice")
            if doc.floor > doc.default:
                self._error(("use_cases", i, "floor"), "bad-range", "floor is above the default score")
            title = self.texts.texts(doc.title, self.source, ("use_cases", i, "title"), set())
            phrase = (
                self.texts.texts(doc.phrase, self.source, ("use_cases", i, "phrase"), set())
                if doc.phrase
                else title
            )
            if title is not None and phrase is not None:
                found[doc.id] = UseCase(doc.id, title, phrase, doc.default, doc.floor)
        return found

    def attributes(
        self, docs: dict[str, AttributeDoc], side: str, use_cases: dict[str, UseCase]
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
                    self._same_values(loc, values)
                else:
                    self._error(loc, "missing-key", f"{name} is an {kind.value}: give its 'values'")
            elif doc.values or doc.values_from:
                self._error(
                    loc, "bad-value", f"'values' only applies to enum attributes, and {name} is {kind.value}"
                )
            if (doc.min is not None or doc.max is not None) and kind is not AttrType.NUMBER:
                self._error(
                    loc, "bad-value", f"min and max only apply to numbers, and {name} is {kind.value}"
                )
            for bound in (doc.min, doc.max):
                if bound is not None and not math.isfinite(bound):
                    self._error(loc, "bad-value", "min and max must be finite numbers")
            if doc.min is not None and doc.max is not None and doc.min > doc.max:
                self._error(loc, "bad-range", f"{name}: min is above max")
            attributes.append(Attribute(name, side, kind, doc.description, values, doc.min, doc.max))
        return tuple(attributes)

    def masks(self, declared: dict[str, tuple[Attribute, ...]]) -> tuple[Mask, ...]:
        """decision_log.mask, each naming an attribute the pack declares: a mask that
        names nothing would leave the field it meant in every log line."""
        masks = []
        for i, doc in enumerate(self.doc.decision_log.mask):
            where = tuple(doc.path.strip("/").split("/"))
            if where[0] in declared and len(where) == 2:
                names = [a.name for a in declared[where[0]]]
                if where[1] not in names:
                    self._error(
                        ("decision_log", "mask", i, "path"),
                        "unknown-attribute",
                        f"'{where[1]}' is not one of the {where[0]} attributes this pack declares,"
                        f" so this mask would hide nothing{did_you_mean(where[1], names)}",
                    )
                    continue
            masks.append(Mask(where, doc.replace))
        return tuple(masks)

    def _same_values(self, loc: tuple[object, ...], values: tuple[str, ...]) -> None:
        """Values are matched ignoring case, spaces, '-' and '_' (model.value_key), so two
        that differ only in those would be one value to a request."""
        seen: dict[str, str] = {}
        for value in values:
            first = seen.setdefault(value_key(value), value)
            if first != value or values.count(value) > 1:
                self._error(
                    loc,
                    "duplicate-id",
                    f"'{value}' and '{first}' are the same value to a request (case, spaces, - and _ "
                    "are ignored when matching); keep one",
                )
                return

    def wording(self) -> Wording | None:
        w = self.doc.wording
        loc = ("wording",)
        texts, source = self.texts.texts, self.source
        score_bands = self._bands(w.score_bands, (*loc, "score_bands"), WORDING_PLACEHOLDERS["band"])
        fit_bands = self._bands(w.fit_bands, (*loc, "fit_bands"), WORDING_PLACEHOLDERS["fit_band"])
        pros = texts(w.pros, source, (*loc, "pros"), WORDING_PLACEHOLDERS["reasons"])
        cons = texts(w.cons, source, (*loc, "cons"), WORDING_PLACEHOLDERS["reasons"])
        s = w.summary
        reason = texts(s.reason, source, (*loc, "summary", "reason"), WORDING_PLACEHOLDERS["summary.reason"])
        best = texts(
            s.best_for, source, (*loc, "summary", "best_for"), WORDING_PLACEHOLDERS["summary.best_for"]
        )
        highlights = texts(
            s.highlights, source, (*loc, "summary", "highlights"), WORDING_PLACEHOLDERS["reasons"]
        )
        conjunction = texts(w.conjunction, source, (*loc, "conjunction"), set())
        if (
            score_bands is None
            or fit_bands is None
            or pros is None
            or cons is None
            or reason is None
            or best is None
            or highlights is None
            or conjunction is None
        ):
            return None
        return Wording(
            score_bands, fit_bands, pros, cons, reason, best, highlights, conjunction, w.max_reasons
        )

    def _bands(
        self, docs: list[BandDoc], loc: tuple[object, ...], allowed: set[str]
    ) -> tuple[Band, ...] | None:
        bands = []
        for i, doc in enumerate(docs):
            text: Texts | None = self.texts.texts(doc.text, self.source, (*loc, i, "text"), allowed)
            if text is None:
                return None
            bands.append(Band(doc.start, text))
        starts = [b.start for b in bands]
        if starts != sorted(starts, reverse=True) or len(set(starts)) != len(starts) or starts[-1] != 0:
            self._error(
                loc, "bad-range", "bands go from the highest 'from' down, and the last one is 'from: 0'"
            )
            return None
        return tuple(bands)
