"""The shape of each rule-pack file, as pydantic models, and their errors as Problems.

These models check keys and types only. Cross-references (is this use case declared? is
this value allowed for that attribute?) are checked by the loader, which knows the whole
pack. Conditions (`when:`) have a grammar of their own, parsed in conditions.py.
"""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from earmark.diagnostics import Problem, did_you_mean, shown
from earmark.rulepack.source import SourceFile, plain

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
# An enum value as a catalog writes it: "IPX4", "USB-C", "Wi-Fi 6".
EnumValue = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._+/-]{0,59}$")]
RuleId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,79}$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=500)]
Score = Annotated[int, Field(ge=0, le=100)]
Locale = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")]
# Where a decision-log mask may point: the product id, the specs or the shopper, or one
# attribute of either.
MASK_PATH = r"^/(product/id|specs|shopper)(/[a-z][a-z0-9_]{0,62})?$"
# A text an author may translate: one string (the pack's default locale), or one per locale.
LocalText = Text | dict[Locale, Text]


class _Doc(BaseModel):
    # strict: `yes` is not true and "20" is not 20; a typo'd key is an error, not ignored.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


# ---- pack.yaml ----------------------------------------------------------------------------


class CategoryDoc(_Doc):
    id: Identifier
    title: LocalText
    explanation: LocalText


class UseCaseDoc(_Doc):
    id: Identifier
    title: LocalText
    phrase: LocalText | None = None
    default: Score
    floor: Score = 0


class AttributeDoc(_Doc):
    type: Literal["number", "bool", "text", "enum", "enum_list", "text_list"]
    description: str = ""
    values: list[EnumValue] | None = None
    values_from: Literal["use_cases"] | None = None
    min: float | None = None
    max: float | None = None


class BandDoc(_Doc):
    start: Score = Field(alias="from")
    text: LocalText


class SummaryDoc(_Doc):
    reason: LocalText
    best_for: LocalText
    highlights: LocalText


class WordingDoc(_Doc):
    score_bands: list[BandDoc] = Field(min_length=1)
    fit_bands: list[BandDoc] = Field(min_length=1)
    pros: LocalText
    cons: LocalText
    summary: SummaryDoc
    conjunction: LocalText = "and"
    max_reasons: Annotated[int, Field(ge=1, le=5)] = 2


class LimitsDoc(_Doc):
    explanation: Annotated[int, Field(ge=40, le=2000)] = 300
    fragment: Annotated[int, Field(ge=10, le=500)] = 100


class ScoringDoc(_Doc):
    # Up to here a rule's points count in full; above, each point counts for less and the
    # score approaches 100, reaching it (by rounding) only far past any real product
    # (verdict.shown_score). 100: a plain clamp.
    soft_ceiling_from: Annotated[int, Field(ge=50, le=100)] = 100


class MaskDoc(_Doc):
    # Where, in a logged decision's input, and what to write there instead; without
    # `replace`, the field is left out of the log.
    path: Annotated[str, StringConstraints(pattern=MASK_PATH)]
    replace: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None


class DecisionLogDoc(_Doc):
    # In the spirit of OPA's decision-log masks: what of a request must never be kept.
    mask: list[MaskDoc] = []


class ManifestDoc(_Doc):
    pack: Identifier
    title: Text
    # The locales explanations are written in; the first is the default.
    locales: list[Locale] = Field(default=["en"], min_length=1)
    limits: LimitsDoc = LimitsDoc()
    scoring: ScoringDoc = ScoringDoc()
    categories: list[CategoryDoc] = Field(min_length=1)
    default_category: Identifier
    use_cases: list[UseCaseDoc] = Field(min_length=1)
    specs: dict[Identifier, AttributeDoc]
    shopper: dict[Identifier, AttributeDoc] = {}
    wording: WordingDoc
    decision_log: DecisionLogDoc = DecisionLogDoc()


# ---- rule files ---------------------------------------------------------------------------


class GradeDoc(_Doc):
    # The amounts count in full at `to` and not at all at `from`, in proportion between:
    # from: 350, to: 80 on weight_g is "the lighter, the more, from 350 g down to 80 g".
    by: Identifier
    # .nan or .inf would make every share NaN, and the rule silently add nothing.
    start: float = Field(alias="from", allow_inf_nan=False)
    end: float = Field(alias="to", allow_inf_nan=False)


class EffectsDoc(_Doc):
    category: Identifier | None = None
    priority: Annotated[int, Field(ge=-1000, le=1000)] = 0
    label: LocalText | None = None
    scores: dict[Identifier, Annotated[int, Field(ge=-100, le=100)]] = {}
    fit: Annotated[int, Field(ge=-100, le=100)] = 0
    graded: GradeDoc | None = None
    say: LocalText | None = None


class RuleDoc(_Doc):
    id: RuleId
    description: Text
    when: Any
    then: EffectsDoc


class RuleFileDoc(_Doc):
    # Each rule is validated on its own (as a RuleDoc), so one broken rule doesn't hide
    # the problems of the others or the ids that example cases refer to.
    rules: list[dict[str, Any]]


# ---- example cases ------------------------------------------------------------------------


class ExpectDoc(_Doc):
    category: Identifier | None = None
    scores: list[Text] = []
    fired: list[RuleId] = []
    not_fired: list[RuleId] = []
    explanation_has: list[Text] = []
    explanation_lacks: list[Text] = []


class ExampleDoc(_Doc):
    id: RuleId | None = None  # lets another case compare with this one's scores
    name: Text
    product: dict[str, Any]
    shopper: dict[str, Any] | None = None
    locale: Locale | None = None  # the language the explanations are checked in
    expect: ExpectDoc


class ExampleFileDoc(_Doc):
    examples: list[dict[str, Any]]  # each validated on its own, as an ExampleDoc


M = TypeVar("M", bound=BaseModel)


def parse_doc(model: type[M], source: SourceFile, at: tuple[Any, ...] = ()) -> tuple[M | None, list[Problem]]:
    """Validate the part of a file at `at` (by default the whole file) against `model`;
    every error becomes a located Problem.

    Unknown keys are reported and then set aside: when they are the only errors, the rest
    is returned too, so that the loader checks it in the same pass instead of making the
    author fix a typo first and only then see the next problem.
    """
    data = source.data
    for part in at:
        data = data[part]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        errors = exc.errors()
    # A typo'd key ("wen") shows up twice: as unknown, and as the real key missing. The
    # "did you mean" on the unknown one says it all, so the missing one is dropped.
    unknown = {(tuple(e["loc"][:-1]), str(e["loc"][-1])) for e in errors if e["type"] == "extra_forbidden"}
    kept = [
        e
        for e in errors
        if not (
            e["type"] == "missing"
            and any(
                parent == tuple(e["loc"][:-1]) and difflib.get_close_matches(str(e["loc"][-1]), [key], n=1)
                for parent, key in unknown
            )
        )
    ]
    problems = [_problem(source, model, at, err) for err in kept]
    if all(e["type"] == "extra_forbidden" for e in kept):
        try:
            return model.model_validate(_without(plain(data), [e["loc"] for e in kept])), problems
        except (ValidationError, LookupError):
            pass  # something else is wrong as well: the problems above come first
    return None, problems


def _without(data: Any, locs: list[tuple[Any, ...]]) -> Any:
    """`data` (a plain copy, whose keys are all text) with the keys at `locs` removed."""
    for loc in locs:
        parent = data
        for part in loc[:-1]:
            parent = parent[part if isinstance(parent, list) else str(part)]
        del parent[str(loc[-1])]
    return data


def _problem(source: SourceFile, model: type[BaseModel], at: tuple[Any, ...], err: Any) -> Problem:
    relative = tuple(err["loc"])
    loc = (*at, *relative)
    if err["type"] == "extra_forbidden":
        key = str(loc[-1])
        belongs_under = _dedented_from(source, model, at, relative, key)
        if belongs_under is not None:  # `de:` written one level left of its `en:`, say
            above, sibling = belongs_under
            return source.problem(
                loc,
                "unknown-key",
                f"'{key}' is indented too little: it belongs under '{above}:' just above; move it right "
                f"so that it lines up with '{sibling}'",
            )
        known = _known_keys(model, relative[:-1])
        hint = did_you_mean(key, known, otherwise=f"; expected one of: {', '.join(known)}")
        return source.problem(loc, "unknown-key", f"unknown key '{key}'{hint}")
    if err["type"] == "missing":
        key = str(loc[-1])
        nested_in = _nested_under(source, loc[:-1], key)
        if nested_in is not None:  # `then:` indented under `when:`, say
            return source.problem(
                (*loc[:-1], nested_in, key),
                "missing-key",
                f"'{key}' is indented under '{nested_in}'; move it left so that it lines up with '{nested_in}'",
            )
        return source.problem(loc[:-1], "missing-key", f"'{key}' is required here")
    where = next((str(part) for part in reversed(loc) if isinstance(part, str)), "value")
    value = err.get("input")
    if err["type"] == "string_pattern_mismatch" and isinstance(value, str):
        return source.problem(loc, "bad-value", f"{where}: {_pattern_in_words(err['ctx']['pattern'], value)}")
    got = f" (got {shown(value)})" if isinstance(value, str | int | float | bool) else ""
    return source.problem(loc, "bad-value", f"{where}: {err['msg']}{got}")


def _dedented_from(
    source: SourceFile, model: type[BaseModel], at: tuple[Any, ...], relative: tuple[Any, ...], key: str
) -> tuple[str, str] | None:
    """(the key just above, its first key) when `key`, unknown where it stands, is a key of
    the block just above it: an indentation slip, not a misspelling. For a text, a key
    shaped like a language code belongs with the language keys above it."""
    node: Any = source.data
    for part in (*at, *relative[:-1]):
        node = node[part]
    if not isinstance(node, dict):
        return None
    names = [str(name) for name in node]
    position = names.index(key) if key in names else 0
    if position == 0:
        return None
    above = names[position - 1]
    child = node[list(node)[position - 1]]
    if not isinstance(child, dict) or not child:
        return None
    first = str(next(iter(child)))
    if key in _known_keys(model, (*relative[:-1], above)):
        return above, first
    texts = all(isinstance(name, str) and _LANGUAGE.fullmatch(name) for name in child)
    return (above, first) if texts and _LANGUAGE.fullmatch(key) else None


_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})*")


def _nested_under(source: SourceFile, loc: tuple[Any, ...], key: str) -> str | None:
    """The key of `loc` whose value holds `key`, when `key` is missing at `loc` itself."""
    node: Any = source.data
    for part in loc:
        node = node[part]
    if isinstance(node, dict):
        for name, child in node.items():
            if isinstance(child, dict) and key in child:
                return str(name)
    return None


# The id patterns above, in words, with how to write the value instead.
_PATTERN_WORDS = {
    "^[a-z][a-z0-9_]{0,62}$": ("lower-case letters, digits and '_', starting with a letter", "_"),
    "^[a-z0-9][a-z0-9_-]{0,79}$": ("lower-case letters, digits, '-' and '_'", "-"),
    "^[a-z]{2,3}(-[a-z0-9]{2,8})*$": ("a language code such as 'en' or 'de-at'", "-"),
    "^[A-Za-z0-9][A-Za-z0-9 ._+/-]{0,59}$": ("at most 60 letters, digits, spaces and . _ + / -", "-"),
    MASK_PATH: ("/product/id, /specs, /shopper, or one attribute such as /shopper/budget_usd", ""),
}


def _pattern_in_words(pattern: str, value: str) -> str:
    words, joiner = _PATTERN_WORDS.get(pattern, ("the form this key needs", "_"))
    fixed = re.sub(r"[^a-z0-9]+", joiner, value.lower()).strip(joiner + "_-") if joiner else ""
    suggestion = f" (write {fixed!r})" if fixed and fixed != value else ""
    return f"{shown(value)} can't be written here: use {words}{suggestion}"


def _known_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed at `loc`, found by walking the model's fields along it."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            field = next(
                (f for f in getattr(current, "model_fields", {}).values() if f.alias == part),
                None,
            )
        current = _model_in(field.annotation) if field else None
        if current is None and field is not None:
            return []
    fields = getattr(current, "model_fields", {}) if current else {}
    return [f.alias or name for name, f in fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The BaseModel inside `annotation` (e.g. list[RuleDoc] -> RuleDoc), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
