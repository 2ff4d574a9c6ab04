"""Request validation: specs and shopper checked against the live pack's vocabulary.

For each pack a pydantic TypeAdapter is built once, at load time, from the attributes
pack.yaml declares; a request then costs one validate call (about 2.5 µs for a product).
Values are also normalised here so that nothing durable_rules mishandles reaches it
(shared/notes/durable-rules.md: exponent floats, non-finite numbers, "10" > 9).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)
from pydantic_core import PydanticCustomError
from typing_extensions import TypedDict  # pydantic needs it on Python < 3.12

from earmark.diagnostics import did_you_mean, shown
from earmark.errors import InvalidArgument
from earmark.rulepack.model import Attribute, AttrType, Pack

# The largest magnitude accepted: beyond it floats print in exponent form, which the engine
# rejects (error 204), and no audio spec or price gets near it.
MAX_NUMBER = 1e15
MAX_TEXT = 200
MAX_ITEMS = 64
MAX_REMEMBERED_NAMES = 10_000
# Non-integral numbers are kept to 4 decimals: a float below 1e-4 would print as 1e-05.
DECIMALS = 4
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8}){0,6}")


@dataclass(frozen=True, slots=True)
class Subject:
    """A validated product, and the shopper if one was sent: what the engine evaluates."""

    product_id: str
    specs: dict[str, Any]
    shopper: dict[str, Any] | None
    locale: str | None = None  # one of the pack's locales; None means its default


class RequestValidator:
    """Checks and normalises request attributes for one pack."""

    def __init__(self, pack: Pack) -> None:
        self._specs = _adapter("Specs", pack.specs)
        self._shopper = _adapter("Shopper", pack.shopper)
        # What a decoder reads from a request: catalogs send many attributes a pack ignores.
        self.spec_names = frozenset(a.name for a in pack.specs)
        self.shopper_names = frozenset(a.name for a in pack.shopper)
        self._resolve_locale = pack.resolve_locale
        # Remembered: a catalog sends the same extra attributes with every product, and
        # finding the closest name is far dearer than evaluating one. Least recently used
        # out: a memo that kept the first names it saw was filled for good by one request
        # of junk names, and every catalog page after it paid in full (13-16x slower).
        self.near_miss = functools.lru_cache(maxsize=MAX_REMEMBERED_NAMES)(self._near_miss)

    def _near_miss(self, section: str, name: str) -> str:
        """ " (did you mean 'mic'?)" when an undeclared `name` is close to a declared one,
        else ""."""
        declared = self.spec_names if section == "specs" else self.shopper_names
        return did_you_mean(name, sorted(declared))

    def specs(self, values: dict[str, Any]) -> dict[str, Any]:
        """Validated, normalised specs; raises InvalidArgument naming the attribute and value."""
        return _normalise(_validate(self._specs, values, "specs"))

    def shopper(self, values: dict[str, Any]) -> dict[str, Any]:
        return _normalise(_validate(self._shopper, values, "shopper"))

    def subject(
        self, product_id: str, specs: dict[str, Any], shopper: dict[str, Any] | None, locale: str | None
    ) -> Subject:
        """A product validated against `shopper` and `locale`, which are already validated
        (a batch checks them once for the page)."""
        return Subject(product_id, self.specs(specs), shopper, locale)

    def locale(self, tag: str) -> str | None:
        """The pack locale for a BCP 47 tag ("de-DE" -> "de"), None for none given.
        An unknown language falls back to the pack's default; a malformed tag is an error."""
        if not tag:
            return None
        if not _LANGUAGE_TAG.fullmatch(tag):
            raise InvalidArgument(f"locale={tag[:40]!r}: not a BCP 47 language tag such as 'de-DE'")
        return self._resolve_locale(tag)


def _validate(adapter: TypeAdapter[Any], values: dict[str, Any], section: str) -> dict[str, Any]:
    try:
        return adapter.validate_python(values)  # type: ignore[no-any-return]  # a TypedDict adapter gives a dict
    except ValidationError as exc:
        raise InvalidArgument("; ".join(_describe(section, err) for err in exc.errors())) from None


def _describe(section: str, err: Any) -> str:
    field = ".".join(str(part) for part in (section, *err["loc"]))
    return f"{field}={shown(err['input'])}: {err['msg']}"


def _normalise(values: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, value in values.items():
        if isinstance(value, float):
            value = int(value) if value.is_integer() else round(value, DECIMALS)
        elif isinstance(value, list):
            if not value:
                # An empty list counts as missing: durable_rules' $iall is false on [],
                # so "contains nothing" and "not given" must look the same to the rules.
                continue
            value = list(dict.fromkeys(value))
        out[name] = value
    return out


def _enum_matcher(attribute: Attribute) -> Any:
    """A request's enum value as pack.yaml spells it ("ipx 4" -> "IPX4"): an exact match
    costs one dict lookup, any other spelling one value_key more."""
    exact = {v: v for v in attribute.values}
    declared = attribute.declared_value
    allowed = ", ".join(f"'{v}'" for v in attribute.values[:-1]) + (
        f" or '{attribute.values[-1]}'" if len(attribute.values) > 1 else f"'{attribute.values[0]}'"
    )

    def match(value: str) -> str:
        found = exact.get(value) or declared(value)
        if found is None:
            raise PydanticCustomError("literal_error", "Input should be {expected}", {"expected": allowed})
        return found

    return match


def _adapter(name: str, attributes: tuple[Attribute, ...]) -> TypeAdapter[Any]:
    fields = {a.name: _field_type(a) for a in attributes}
    # Fields computed at run time are beyond a static checker: the result is typed Any.
    make_typed_dict: Any = TypedDict  # called with fields computed at run time, beyond a static checker
    typed_dict = make_typed_dict(name, fields, total=False)
    typed_dict.__pydantic_config__ = ConfigDict(extra="ignore")
    return TypeAdapter(typed_dict)


def _field_type(attribute: Attribute) -> Any:
    kind = attribute.type
    item: Any
    if kind.item_type is AttrType.NUMBER:
        low = attribute.minimum if attribute.minimum is not None else -MAX_NUMBER
        high = attribute.maximum if attribute.maximum is not None else MAX_NUMBER
        item = Annotated[
            float,
            Field(ge=max(low, -MAX_NUMBER), le=min(high, MAX_NUMBER), allow_inf_nan=False, strict=True),
        ]
    elif kind.item_type is AttrType.BOOL:
        item = StrictBool
    elif kind.item_type is AttrType.ENUM:
        item = Annotated[StrictStr, AfterValidator(_enum_matcher(attribute))]
    else:
        item = Annotated[
            StrictStr,
            # Kept as written, for explanations; the engine's fact compares it lower-cased.
            StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT),
        ]
    if kind.is_list:
        return Annotated[list[item], Field(max_length=MAX_ITEMS)]
    return item
