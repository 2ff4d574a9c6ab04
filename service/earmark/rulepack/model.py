"""The rule pack as data: vocabulary, use cases, rules, wording and example cases.

Everything here is frozen and built once per load; the request path only reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from typing import Any

from earmark.diagnostics import Location, Problem


class AttrType(str, Enum):
    """The types an attribute can be declared with in pack.yaml."""

    NUMBER = "number"
    BOOL = "bool"
    TEXT = "text"
    ENUM = "enum"
    ENUM_LIST = "enum_list"
    TEXT_LIST = "text_list"

    @property
    def is_list(self) -> bool:
        return self in (AttrType.ENUM_LIST, AttrType.TEXT_LIST)

    @property
    def item_type(self) -> AttrType:
        """The type of one item: ENUM for ENUM_LIST, TEXT for TEXT_LIST, else itself."""
        return {AttrType.ENUM_LIST: AttrType.ENUM, AttrType.TEXT_LIST: AttrType.TEXT}.get(self, self)


def value_key(text: str) -> str:
    """How enum values are matched: ignoring case, spaces, '-' and '_', so that a catalog's
    "ipx 4" or "usb_c" finds the declared "IPX4" or "USB-C". Two declared values with the
    same key are refused at load, so the match is never ambiguous."""
    return "".join(ch for ch in text.casefold() if ch not in " \t-_")


@dataclass(frozen=True)
class Attribute:
    """One declared spec or shopper attribute. Enum values keep the spelling pack.yaml
    gives them (e.g. "IPX4"), which is what explanations show."""

    name: str
    side: str  # "spec" or "shopper"
    type: AttrType
    description: str = ""
    values: tuple[str, ...] = ()  # allowed values of ENUM and ENUM_LIST
    minimum: float | None = None
    maximum: float | None = None

    @cached_property
    def by_key(self) -> dict[str, str]:
        """Each declared enum value by its value_key."""
        return {value_key(v): v for v in self.values}

    def declared_value(self, written: str) -> str | None:
        """The declared spelling of an enum value however it was written, or None."""
        return self.by_key.get(value_key(written))

    @property
    def ref(self) -> str:
        """How rules and fragments name it: `mic`, or `shopper.budget_usd`."""
        return self.name if self.side == "spec" else f"shopper.{self.name}"


@dataclass(frozen=True)
class Template:
    """A text with {placeholders}, split once at load time so rendering is a join."""

    source: str
    parts: tuple[tuple[str, str | None], ...]  # (literal text, placeholder name or None)

    @property
    def placeholders(self) -> tuple[str, ...]:
        return tuple(name for _, name in self.parts if name is not None)

    @property
    def plain(self) -> str:
        """The text itself, for texts that have no placeholders."""
        return "".join(literal for literal, _ in self.parts)


@dataclass(frozen=True)
class Texts:
    """One text in the pack's default locale, with its translations."""

    default: Template
    translations: tuple[tuple[str, Template], ...] = ()

    def get(self, locale: str) -> Template:
        """The text for `locale` (an exact code the pack declares), else the default."""
        for code, template in self.translations:
            if code == locale:
                return template
        return self.default

    def text(self, locale: str) -> str:
        return self.get(locale).plain


@dataclass(frozen=True)
class Category:
    id: str
    title: Texts
    explanation: Texts  # used when no rule that fired says why


@dataclass(frozen=True)
class UseCase:
    id: str
    title: Texts
    phrase: Texts  # how the use case reads inside a sentence, e.g. "gaming with friends"
    default: int
    floor: int


# ---- conditions -------------------------------------------------------------------------

# Operators a test may use, as written in rule files.
EQUALITY_OPS = ("is", "is_not")
SET_OPS = ("one_of", "none_of")
NUMBER_OPS = ("at_least", "at_most", "more_than", "less_than")
RANGE_OPS = ("between",)
LIST_OPS = ("contains", "contains_any", "contains_all")
PRESENCE_OPS = ("present", "missing")
ALL_OPS = EQUALITY_OPS + SET_OPS + NUMBER_OPS + RANGE_OPS + LIST_OPS + PRESENCE_OPS


@dataclass(frozen=True)
class AttributeTest:
    """`attribute op value`. `value` is a constant, a tuple of constants, or an Attribute
    (a comparison with another attribute, such as price against the shopper's budget)."""

    attribute: Attribute
    op: str
    value: Any


@dataclass(frozen=True)
class AllOf:
    children: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    children: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    child: Condition


Condition = AttributeTest | AllOf | AnyOf | Not


# ---- wording ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Band:
    """The verdict word for scores from `start` up, e.g. 80 -> "Excellent for {use_case}"."""

    start: int
    text: Texts


@dataclass(frozen=True)
class Wording:
    """The sentence frames that fragments are composed into. Written in pack.yaml."""

    score_bands: tuple[Band, ...]  # highest start first
    fit_bands: tuple[Band, ...]
    pros: Texts  # {reasons}
    cons: Texts  # {reasons}
    summary_reason: Texts  # {label} {reason}
    summary_best_for: Texts  # {use_cases}
    summary_highlights: Texts  # {reasons}
    conjunction: Texts  # joins the last two items of a list: "and"
    max_reasons: int  # fragments per sentence


# ---- rules --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grade:
    """`graded:` on a rule: its amounts scale with a number attribute of the product, from
    nothing at `start` to the full amount at `end` (either way round), clamped beyond."""

    attribute: str
    start: float
    end: float

    def share(self, specs: dict[str, Any]) -> float:
        """How much of the amounts this product gets, from 0 to 1 (0 if the value is missing)."""
        value = specs.get(self.attribute)
        if value is None:
            return 0.0
        return float(min(1.0, max(0.0, (value - self.start) / (self.end - self.start))))


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    condition: Condition
    location: Location
    index: int  # position in the pack; breaks ties and names the rule inside the engine
    category: str | None = None
    label: Texts | None = None
    priority: int = 0
    scores: tuple[tuple[str, int], ...] = ()  # (use case id, signed amount), in pack order
    fit: int = 0
    say: Texts | None = None
    graded: Grade | None = None


# ---- example cases ------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreExpectation:
    """`left op right`: left is a use case id or "fit"; right is a number, one of those, or
    another case's score written `<case id>.<use case>`."""

    left: str
    op: str
    right: str | float
    text: str
    other_case: str | None = None  # the id of the case `right` is read from


@dataclass(frozen=True)
class ExampleCase:
    id: str | None
    name: str
    location: Location
    product: dict[str, Any]
    shopper: dict[str, Any] | None
    category: str | None = None
    scores: tuple[ScoreExpectation, ...] = ()
    fired: tuple[str, ...] = ()
    not_fired: tuple[str, ...] = ()
    explanation_has: tuple[str, ...] = ()
    explanation_lacks: tuple[str, ...] = ()  # words no explanation of the verdict may contain
    locale: str | None = None


# ---- the pack -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Mask:
    """A field of a logged decision's input that the log must not keep as sent:
    `where` is ("specs", name), ("shopper", name), ("specs",), ("shopper",) or
    ("product", "id"); `replace` is what is written instead (None: left out)."""

    where: tuple[str, ...]
    replace: str | None

    @property
    def pointer(self) -> str:
        return "/" + "/".join(self.where)


@dataclass(frozen=True)
class Pack:
    name: str
    version: str  # derived from the files' content: equal files, equal version
    categories: tuple[Category, ...]
    default_category: str
    use_cases: tuple[UseCase, ...]
    specs: tuple[Attribute, ...]
    shopper: tuple[Attribute, ...]
    rules: tuple[Rule, ...]
    wording: Wording
    explanation_limit: int
    examples: tuple[ExampleCase, ...] = ()
    soft_ceiling_from: int = 100  # pack.yaml's scoring: where points start to count for less
    locales: tuple[str, ...] = ("en",)  # the default first
    warnings: tuple[Problem, ...] = ()  # e.g. missing translations
    decision_mask: tuple[Mask, ...] = ()  # pack.yaml's decision_log.mask
    digest: str = ""  # the SHA-256 of every file read (the version carries its first 12 digits)
    # Every file the pack was loaded from, by relative path, as the bytes that were
    # checked: a snapshot writes exactly these, so what was checked is what goes live.
    files: tuple[tuple[str, bytes], ...] = field(default=(), repr=False, compare=False)

    @property
    def default_locale(self) -> str:
        return self.locales[0]

    def resolve_locale(self, requested: str) -> str:
        """The pack locale for a BCP 47 tag: "de-DE" -> "de-de" if declared, else "de",
        else the default."""
        parts = requested.replace("_", "-").lower().split("-")
        for size in range(len(parts), 0, -1):
            candidate = "-".join(parts[:size])
            if candidate in self.locales:
                return candidate
        return self.default_locale

    @cached_property
    def rules_by_id(self) -> dict[str, Rule]:
        return {r.id: r for r in self.rules}
