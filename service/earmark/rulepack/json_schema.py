"""JSON Schemas for a pack's files, made from the models the loader checks them with and
filled with the pack's own vocabulary, for editors with a YAML language server.

The pydantic models in schema.py give the shape of every key. The vocabulary is added on
top: attribute names in `when:` and in example products, enum values, use case ids,
categories and locales. An editor then completes `mic: ` with `boom` and marks `micc:` as
not allowed while the author types.

A schema can say less than the loader, never more: whatever it accepts, the loader may
still refuse (a value at another attribute's limit, a rule id an example names), but
nothing the loader accepts is marked wrong, except enum values spelt other than pack.yaml
spells them, which the loader maps and the schema asks to write as declared. Attributes
in example products that the pack doesn't declare stay allowed, as the loader only warns.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from earmark.rulepack.manifest import Vocabulary
from earmark.rulepack.model import (
    EQUALITY_OPS,
    NUMBER_OPS,
    PRESENCE_OPS,
    SET_OPS,
    Attribute,
    AttrType,
)
from earmark.rulepack.schema import ExampleDoc, ManifestDoc, RuleDoc

DRAFT = "https://json-schema.org/draft/2020-12/schema"
# File names inside a pack's schema folder, by the kind of file each describes.
PACK_SCHEMA, RULES_SCHEMA, EXAMPLES_SCHEMA = "pack.schema.json", "rules.schema.json", "examples.schema.json"
SCHEMA_DIR = "schemas"

_LOCALE_PATTERN = "^[a-z]{2,3}(-[a-z0-9]{2,8})*$"


def pack_schemas(vocabulary: Vocabulary) -> dict[str, dict[str, Any]]:
    """The three schemas of a pack, by file name."""
    return {
        PACK_SCHEMA: _manifest_schema(vocabulary),
        RULES_SCHEMA: _rules_schema(vocabulary),
        EXAMPLES_SCHEMA: _examples_schema(vocabulary),
    }


# ---- pack.yaml ----------------------------------------------------------------------------


def _manifest_schema(vocabulary: Vocabulary) -> dict[str, Any]:
    schema = _model_schema(ManifestDoc, vocabulary)
    schema["title"] = "Earmark pack manifest (pack.yaml)"
    if vocabulary.categories:
        schema["properties"]["default_category"] = {"enum": list(vocabulary.categories)}
    return _document(schema)


# ---- rule files ---------------------------------------------------------------------------


def _rules_schema(vocabulary: Vocabulary) -> dict[str, Any]:
    rule = _model_schema(RuleDoc, vocabulary)
    defs = rule.pop("$defs")
    rule["properties"]["when"] = {"$ref": "#/$defs/condition"}
    effects = defs["EffectsDoc"]["properties"]
    effects["scores"] = {
        "type": "object",
        "description": "Points added to (or taken from) each use case's score.",
        "properties": {u: {"type": "integer", "minimum": -100, "maximum": 100} for u in vocabulary.use_cases},
        "additionalProperties": False,
    }
    if vocabulary.categories:
        effects["category"] = {"enum": list(vocabulary.categories)}
    defs["condition"] = _condition(vocabulary)
    for attribute in vocabulary.attributes.values():
        defs[_test_name(attribute)] = _attribute_test(attribute, vocabulary)
    return _list_file("Earmark rule file", "rules", rule, defs)


def _condition(vocabulary: Vocabulary) -> dict[str, Any]:
    # One schema for both shapes (a mapping, or a list that must all hold) rather than an
    # anyOf of two, so that a misspelt attribute is reported at its own mapping.
    nested = {"$ref": "#/$defs/condition"}
    groups = {
        "all": {"type": "array", "minItems": 1, "items": nested, "description": "Every one must hold."},
        "any": {"type": "array", "minItems": 1, "items": nested, "description": "At least one must hold."},
        "not": {**nested, "description": "Holds when what is inside does not."},
    }
    tests = {
        ref: {"$ref": f"#/$defs/{_test_name(a)}", **_described(a)} for ref, a in vocabulary.attributes.items()
    }
    return {
        "type": ["object", "array"],
        "minItems": 1,
        "items": nested,
        "minProperties": 1,
        "properties": {**tests, **groups},
        "additionalProperties": False,
    }


def _attribute_test(attribute: Attribute, vocabulary: Vocabulary) -> dict[str, Any]:
    """What may follow `name:` in a condition: the shorthand, or a mapping of tests."""
    item = _item_schema(attribute)
    items = {"type": "array", "minItems": 1, "items": item}
    presence = {op: {"type": "boolean"} for op in PRESENCE_OPS}
    if attribute.type.is_list:
        ops = {"contains": item, "contains_any": items, "contains_all": items}
        shorthand = [item, items]
    elif attribute.type is AttrType.NUMBER:
        others = sorted(
            ref
            for ref, a in vocabulary.attributes.items()
            if a.type is AttrType.NUMBER and a is not attribute
        )
        number_or_ref = {"anyOf": [item, {"enum": others}]} if others else item
        ops = {op: number_or_ref for op in (*EQUALITY_OPS, *NUMBER_OPS)}
        ops |= {op: items for op in SET_OPS}
        ops["between"] = {"type": "array", "items": item, "minItems": 2, "maxItems": 2}
        shorthand = [number_or_ref, items]
    else:
        ops = {op: item for op in EQUALITY_OPS} | {op: items for op in SET_OPS}
        shorthand = [item, items]
    described = {op: {**schema, "description": TEST_MEANINGS[op]} for op, schema in (ops | presence).items()}
    tests = {
        "type": "object",
        "minProperties": 1,
        "properties": described,
        "additionalProperties": False,
    }
    # The description here too: an editor that follows the $ref to this definition drops
    # the one written beside the $ref, and would show the shape instead of the meaning.
    return {"anyOf": [*shorthand, tests], **_described(attribute)}


# What each test means, for an editor's hover (docs/rules.md, "Conditions", says the same).
TEST_MEANINGS = {
    "is": "The value is exactly this.",
    "is_not": "The value is listed and is not this.",
    "one_of": "The value is one of these.",
    "none_of": "The value is listed and is none of these.",
    "at_least": "The number is this or more.",
    "at_most": "The number is this or less.",
    "more_than": "The number is more than this.",
    "less_than": "The number is less than this.",
    "between": "The number is from the first to the second, both included.",
    "contains": "The list includes this.",
    "contains_any": "The list includes at least one of these.",
    "contains_all": "The list includes every one of these.",
    "present": "true: the product lists this attribute (any value).",
    "missing": "true: the product does not list this attribute.",
}


def _test_name(attribute: Attribute) -> str:
    return "test:" + attribute.ref


# ---- example cases ------------------------------------------------------------------------


def _examples_schema(vocabulary: Vocabulary) -> dict[str, Any]:
    example = _model_schema(ExampleDoc, vocabulary)
    defs = example.pop("$defs")
    specs = [a for a in vocabulary.attributes.values() if a.side == "spec"]
    shopper = [a for a in vocabulary.attributes.values() if a.side == "shopper"]
    example["properties"]["product"] = _values_of(specs, "The product's specs, as a catalog lists them.")
    example["properties"]["shopper"] = _values_of(shopper, "What the shopper wants.")
    expect = defs["ExpectDoc"]["properties"]
    names = "|".join(re.escape(n) for n in (*vocabulary.use_cases, "fit"))
    expect["scores"] = {
        "type": "array",
        "description": "Comparisons such as 'meetings >= 70', 'music > meetings' or 'music > other-case.music'.",
        "items": {"type": "string", "pattern": rf"^({names}) (>=|<=|==|>|<) \S+$"},
    }
    if vocabulary.categories:
        expect["category"] = {"enum": list(vocabulary.categories)}
    return _list_file("Earmark example cases", "examples", example, defs)


def _values_of(attributes: list[Attribute], description: str) -> dict[str, Any]:
    properties = {}
    for a in attributes:
        item = _item_schema(a)
        properties[a.name] = {"type": "array", "items": item} if a.type.is_list else item
        properties[a.name] |= _described(a)
    # Undeclared names are allowed: catalogs carry attributes a pack doesn't use.
    return {"type": "object", "description": description, "properties": properties}


# ---- shared -------------------------------------------------------------------------------


def _item_schema(attribute: Attribute) -> dict[str, Any]:
    """One value of the attribute (one item, for a list)."""
    kind = attribute.type.item_type
    if kind is AttrType.NUMBER:
        schema: dict[str, Any] = {"type": "number"}
        if attribute.minimum is not None:
            schema["minimum"] = attribute.minimum
        if attribute.maximum is not None:
            schema["maximum"] = attribute.maximum
        return schema
    if kind is AttrType.BOOL:
        return {"type": "boolean"}
    if kind is AttrType.ENUM:
        return {"enum": list(attribute.values)}
    return {"type": "string"}


def _described(attribute: Attribute) -> dict[str, str]:
    return {"description": attribute.description} if attribute.description else {}


def _model_schema(model: type[BaseModel], vocabulary: Vocabulary) -> dict[str, Any]:
    """The model's schema, with every text that may be translated limited to the pack's
    locales, and pydantic's generated titles left out (they only repeat the key)."""
    schema = model.model_json_schema(by_alias=True)  # a new dict on every call
    _with_locales(schema, list(vocabulary.locales))
    return schema


def _with_locales(node: Any, locales: list[str]) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("title"), str):  # not a key named "title" (pack.yaml has one)
            del node["title"]
        by_pattern = node.get("patternProperties")
        if isinstance(by_pattern, dict) and set(by_pattern) == {_LOCALE_PATTERN}:
            text = by_pattern[_LOCALE_PATTERN]
            del node["patternProperties"]
            node["properties"] = {locale: text for locale in locales}
            node["additionalProperties"] = False
        for value in node.values():
            _with_locales(value, locales)
    elif isinstance(node, list):
        for value in node:
            _with_locales(value, locales)


def _list_file(title: str, key: str, item: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """A file holding one list under `key` (`rules:`, `examples:`), each item an `item`."""
    schema = {
        "title": title,
        "type": "object",
        "properties": {key: {"type": "array", "items": item}},
        "required": [key],
        "additionalProperties": False,
        "$defs": defs,
    }
    return _document(schema)


def _document(schema: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": DRAFT, **schema}
