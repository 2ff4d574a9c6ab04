"""New words for a pack from a form: a use case, or an attribute a product or a shopper
may have, written into pack.yaml beside the ones it declares.

As with rules (rule_form.py), the form only writes the text; the pack check decides
whether the new word is right, and the manifest's comments and order are kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from earmark.authoring import yaml_edit
from earmark.errors import FormRefused
from earmark.rulepack.model import AttrType

MANIFEST = "pack.yaml"
_ID = re.compile(r"^[a-z][a-z0-9_]{0,40}$")


@dataclass
class UseCaseForm:
    id: str = ""
    titles: dict[str, str] = field(default_factory=dict)  # locale -> "Studio recording"
    phrases: dict[str, str] = field(default_factory=dict)  # locale -> "recording in a studio"
    default: str = ""
    floor: str = ""


@dataclass
class AttributeForm:
    side: str = "specs"  # or "shopper"
    name: str = ""
    type: str = AttrType.ENUM.value
    values: str = ""  # for enum and enum_list: parted by commas
    minimum: str = ""
    maximum: str = ""
    description: str = ""


def add_use_case(text: str, form: UseCaseForm, locales: tuple[str, ...]) -> str:
    document = _manifest(text)
    use_cases = document.get("use_cases")
    if not isinstance(use_cases, CommentedSeq):
        raise FormRefused("pack.yaml has no list of use_cases to add to; fix it in the editor first")
    use_case_id = _identifier("id", form.id)
    if any(isinstance(u, dict) and u.get("id") == use_case_id for u in use_cases):
        raise FormRefused(f"id: the pack already has a use case {use_case_id!r}")
    entry = CommentedMap()
    entry["id"] = use_case_id
    entry["title"] = _per_locale("title", form.titles, locales)
    entry["phrase"] = _per_locale("phrase", form.phrases, locales)
    entry["default"] = _whole("starting score", form.default, required=True)
    floor = _whole("lowest score", form.floor, required=False)
    if floor is not None:
        entry["floor"] = floor
    yaml_edit.append(use_cases, entry, blank_line=False)
    return yaml_edit.dump(document)


def add_attribute(text: str, form: AttributeForm) -> str:
    document = _manifest(text)
    if form.side not in ("specs", "shopper"):
        raise FormRefused(f"side: {form.side!r} is neither 'specs' nor 'shopper'")
    declared = document.get(form.side)
    if declared is None:
        declared = document[form.side] = CommentedMap()
    if not isinstance(declared, CommentedMap):
        raise FormRefused(f"pack.yaml's {form.side} is not a list of names; fix it in the editor first")
    name = _identifier("name", form.name)
    if name in declared:
        raise FormRefused(f"name: the pack already declares {form.side}.{name}")
    try:
        kind = AttrType(form.type)
    except ValueError:
        raise FormRefused(
            f"type: {form.type!r} is not one of {', '.join(t.value for t in AttrType)}"
        ) from None
    entry = CommentedMap()
    entry["type"] = kind.value
    if kind in (AttrType.ENUM, AttrType.ENUM_LIST):
        values = [v.strip() for v in form.values.split(",") if v.strip()]
        if not values:
            raise FormRefused(
                "values: list the values it may take, parted by commas, like 'none, clip, band'"
            )
        entry["values"] = yaml_edit.flow_list(values)
    if kind is AttrType.NUMBER:
        for key, field_name, typed in (("min", "lowest", form.minimum), ("max", "highest", form.maximum)):
            number = _number(field_name, typed)
            if number is not None:
                entry[key] = number
    if form.description.strip():
        entry["description"] = form.description.strip()
    # A new key at the end of a block mapping: whatever followed its last entry (the
    # blank line before the next section) moves below the new one.
    trailing = yaml_edit.pop_trailing(declared)
    declared[name] = entry
    if trailing is not None:
        yaml_edit.set_trailing(declared, trailing)
    return yaml_edit.dump(document)


def _manifest(text: str) -> CommentedMap:
    document = yaml_edit.load(text, MANIFEST)
    if not isinstance(document, CommentedMap):
        raise FormRefused("pack.yaml is not a mapping of sections; fix it in the editor first")
    return document


def _identifier(field_name: str, typed: str) -> str:
    value = typed.strip()
    if not _ID.match(value):
        raise FormRefused(
            f"{field_name}: {typed!r} must start with a lower-case letter and use only "
            "lower-case letters, digits and _, like 'studio_recording'"
        )
    return value


def _per_locale(field_name: str, texts: dict[str, str], locales: tuple[str, ...]) -> CommentedMap | str:
    filled = {locale: texts.get(locale, "").strip() for locale in locales if texts.get(locale, "").strip()}
    if locales[0] not in filled:
        raise FormRefused(f"{field_name}: write it at least in {locales[0]}, the pack's first language")
    return yaml_edit.flow(filled)


def _whole(field_name: str, typed: str, *, required: bool) -> int | None:
    typed = typed.strip()
    if not typed:
        if required:
            raise FormRefused(f"{field_name}: give a whole number from 0 to 100, like 30")
        return None
    try:
        return int(typed)
    except ValueError:
        raise FormRefused(f"{field_name}: {typed!r} is not a whole number, like 30") from None


def _number(field_name: str, typed: str) -> int | float | None:
    typed = typed.strip()
    if not typed:
        return None
    try:
        number = float(typed)
    except ValueError:
        raise FormRefused(f"{field_name}: {typed!r} is not a number") from None
    return int(number) if number.is_integer() else number
