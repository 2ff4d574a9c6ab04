"""A rule as a form: what a merchandiser fills in instead of YAML, read from a rule file
and written back into it.

A form holds a rule's conditions as a list of tests that must all hold (attribute, test,
value), its effects (category, an amount per use case, fit) and its sentence in every
language. Rules whose conditions say more than that (`any:`, `not:`) keep their
conditions exactly as written; the form edits the rest. Keys the form doesn't show
(`label`, `graded`, `priority`) are kept as they are.

Nothing here decides whether a rule is right: the form writes the file's new text, and
the same check `earmark check` runs decides, in its own words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from earmark.authoring import yaml_edit
from earmark.errors import FormRefused
from earmark.rulepack.model import (
    ALL_OPS,
    LIST_OPS,
    NUMBER_OPS,
    PRESENCE_OPS,
    RANGE_OPS,
    SET_OPS,
    Attribute,
    AttrType,
    Pack,
)

# Tests as a person reads them, in the order the form offers them.
TEST_WORDS = {
    "is": "is",
    "is_not": "is not",
    "one_of": "is one of",
    "none_of": "is none of",
    "at_least": "is at least",
    "at_most": "is at most",
    "more_than": "is more than",
    "less_than": "is less than",
    "between": "is between",
    "contains": "includes",
    "contains_any": "includes any of",
    "contains_all": "includes all of",
    "present": "is listed",
    "missing": "is not listed",
}
assert set(TEST_WORDS) == set(ALL_OPS), "every test the language has, in words"

MANY_VALUES = frozenset(SET_OPS + RANGE_OPS + ("contains_any", "contains_all"))
NEW_FILE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")
RULES_FILE_HEADER = "# yaml-language-server: $schema=schemas/rules.schema.json\n"


@dataclass
class ConditionLine:
    """One row of the conditions: `attribute` `test` `value`, the value as typed (several
    values parted by commas)."""

    attribute: str
    test: str
    value: str = ""


@dataclass
class RuleForm:
    file: str  # the rule file, relative to the pack folder
    original_id: str | None  # the rule's id in the file; None for a new rule
    id: str = ""
    description: str = ""
    tests: list[ConditionLine] = field(default_factory=list)
    written_conditions: str | None = None  # conditions the form can't show as tests, as YAML
    category: str = ""
    scores: dict[str, str] = field(default_factory=dict)  # use case -> amount as typed
    fit: str = ""
    say: dict[str, str] = field(default_factory=dict)  # locale -> text


def tests_allowed(attribute: Attribute) -> list[str]:
    """The tests that make sense for an attribute of this type."""
    presence = list(PRESENCE_OPS)
    if attribute.type.is_list:
        return [*LIST_OPS, *presence]
    if attribute.type is AttrType.NUMBER:
        return [*NUMBER_OPS, *RANGE_OPS, "is", "is_not", *presence]
    if attribute.type is AttrType.BOOL:
        return ["is", *presence]
    return ["is", "is_not", *SET_OPS, *presence]


# ---- reading a rule into a form ----------------------------------------------------------


def rule_files(files: list[str]) -> list[str]:
    """The rule files among a pack folder's files: the YAML beside pack.yaml."""
    return [f for f in files if "/" not in f and f != "pack.yaml"]


def find_rule(texts: dict[str, str], rule_id: str) -> str | None:
    """The rule file that holds `rule_id`, given each rule file's text."""
    for file, text in texts.items():
        try:
            document = yaml_edit.load(text, file)
        except FormRefused:
            continue
        if _index_of(document, rule_id) is not None:
            return file
    return None


def read_form(file: str, text: str, rule_id: str, pack: Pack) -> RuleForm:
    document = yaml_edit.load(text, file)
    index = _index_of(document, rule_id)
    if index is None:
        raise FormRefused(f"{file} has no rule {rule_id!r}")
    rule = document["rules"][index]
    then = rule.get("then") if isinstance(rule.get("then"), dict) else {}
    tests = _tests_of(rule.get("when"))
    say = then.get("say")
    form = RuleForm(
        file=file,
        original_id=rule_id,
        id=str(rule.get("id", "")),
        description=str(rule.get("description", "") or ""),
        tests=tests or [],
        written_conditions=None if tests is not None else yaml_edit.dump(rule.get("when")).strip(),
        category=str(then.get("category", "") or ""),
        scores={str(k): str(v) for k, v in (then.get("scores") or {}).items()},
        fit=str(then.get("fit", "") or ""),
        say=(
            {str(k): str(v) for k, v in say.items()}
            if isinstance(say, dict)
            else {pack.default_locale: str(say or "")}
        ),
    )
    settle_shorthands(form, pack)
    return form


def _index_of(document: Any, rule_id: str) -> int | None:
    rules = document.get("rules") if isinstance(document, dict) else None
    if not isinstance(rules, list):
        return None
    for index, rule in enumerate(rules):
        if isinstance(rule, dict) and str(rule.get("id")) == rule_id:
            return index
    return None


def _tests_of(when: Any) -> list[ConditionLine] | None:
    """The conditions as a list of tests that must all hold, or None when they say more
    (`any:`, `not:`) than the form can show."""
    if isinstance(when, list):
        rows = [_tests_of(item) for item in when]
        return None if any(r is None for r in rows) else [t for r in rows for t in r or []]
    if not isinstance(when, dict) or not when:
        return None
    found: list[ConditionLine] = []
    for key, value in when.items():
        if key == "all":
            inner = _tests_of(value)
            if inner is None:
                return None
            found.extend(inner)
        elif key in ("any", "not"):
            return None
        elif isinstance(value, dict):
            found.extend(_test_of(str(key), str(op), v) for op, v in value.items())
        else:
            # A shorthand: the test is settled against the attribute's type when written.
            found.append(ConditionLine(str(key), "", _typed_text(value)))
    return found


def _test_of(attribute: str, op: str, value: Any) -> ConditionLine:
    if op in PRESENCE_OPS and isinstance(value, bool):
        # `present: false` is `missing`; the form shows presence tests without a value.
        listed = (op == "present") == value
        return ConditionLine(attribute, "present" if listed else "missing")
    return ConditionLine(attribute, op, _typed_text(value))


def _typed_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(_typed_text(v) for v in value)
    return str(value)


def settle_shorthands(form: RuleForm, pack: Pack) -> None:
    """Give each shorthand test (`mic: boom`, `form_factor: [a, b]`) the test it stands
    for, now that the attribute's type is known."""
    attributes = _attributes(pack)
    for test in form.tests:
        if test.test:
            continue
        attribute = attributes.get(test.attribute)
        is_list = attribute is not None and attribute.type.is_list
        several = "," in test.value
        test.test = (
            ("contains_any" if is_list else "one_of") if several else ("contains" if is_list else "is")
        )


def _attributes(pack: Pack) -> dict[str, Attribute]:
    return {a.ref: a for a in (*pack.specs, *pack.shopper)}


# ---- writing a form into its file --------------------------------------------------------


def new_file_text(name: str, existing: list[str]) -> tuple[str, str]:
    """A new, empty rule file's path and text, for a name a person typed."""
    stem = name.strip().removesuffix(".yaml").lower().replace(" ", "-")
    if not NEW_FILE_NAME.match(stem):
        raise FormRefused(
            f"new file name {name!r}: use lower-case letters, digits and dashes, like 'bone-conduction'"
        )
    path = f"{stem}.yaml"
    if path in existing or path == "pack.yaml":
        raise FormRefused(f"new file name {name!r}: there is already a file {path}")
    return path, RULES_FILE_HEADER + "rules: []\n"


def write_form(text: str, form: RuleForm, pack: Pack) -> str:
    """The rule file's new text with the form's rule in it: the rule it edits changed in
    place, or a new rule at the end. Everything else in the file stays as it was."""
    document = yaml_edit.load(text, form.file)
    if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
        raise FormRefused(f"{form.file} is not a rule file (it has no list of rules)")
    rules: CommentedSeq = document["rules"]
    rule_id = form.id.strip()
    if not rule_id:
        raise FormRefused("name: give the rule a name, like 'bone-conduction-commute'")
    if rule_id != form.original_id and _index_of(document, rule_id) is not None:
        raise FormRefused(f"name: {form.file} already has a rule named {rule_id!r}")
    if form.original_id is None:
        rule = CommentedMap()
        if not rules:  # `rules: []` of a new file becomes a block list
            rules = document["rules"] = CommentedSeq()
        yaml_edit.append(rules, rule, blank_line=True)
    else:
        index = _index_of(document, form.original_id)
        if index is None:
            raise FormRefused(f"{form.file} no longer has a rule {form.original_id!r}; reload the page")
        rule = rules[index]
    _fill(rule, form, pack)
    return yaml_edit.dump(document)


def delete_rule(text: str, file: str, rule_id: str) -> str:
    document = yaml_edit.load(text, file)
    index = _index_of(document, rule_id)
    if index is None:
        raise FormRefused(f"{file} has no rule {rule_id!r}")
    del document["rules"][index]
    return yaml_edit.dump(document)


def _fill(rule: CommentedMap, form: RuleForm, pack: Pack) -> None:
    _set(rule, "id", form.id.strip())
    _set(rule, "description", form.description.strip())
    if form.written_conditions is None:
        settle_shorthands(form, pack)
        tests = [
            ConditionLine(t.attribute, t.test, "" if t.test in PRESENCE_OPS else t.value)
            for t in form.tests
            if t.attribute
        ]
        if not tests:
            raise FormRefused("conditions: a rule needs at least one condition, like 'mic is boom'")
        # Unchanged conditions keep their node, and with it their comments and shorthands.
        before = _tests_of(rule.get("when"))
        if before is not None:
            form_before = RuleForm(form.file, None, tests=before)
            settle_shorthands(form_before, pack)
            before = form_before.tests
        same_tests = before is not None and [(t.attribute, t.test) for t in before] == [
            (t.attribute, t.test) for t in tests
        ]
        if same_tests and before != tests:
            # Only values changed: each is replaced where it is written, so the comments
            # and the layout of the conditions stay (a table edits values this way).
            _replace_values(rule["when"], iter(tests), _attributes(pack))
        elif before != tests:
            rule["when"] = _when(tests, _attributes(pack))
    then = rule.get("then")
    if not isinstance(then, CommentedMap):
        then = rule["then"] = CommentedMap()
    _set(then, "category", form.category.strip())
    # In the pack's order; a use case declared with this rule (not in `pack` yet) last.
    declared = [uc.id for uc in pack.use_cases]
    ids = declared + [k for k in form.scores if k not in declared]
    scores = {use_case: _amount(f"{use_case} points", form.scores.get(use_case, "")) for use_case in ids}
    kept = {k: v for k, v in scores.items() if v is not None}
    written = then.get("scores")
    if not kept:
        then.pop("scores", None)
    elif isinstance(written, CommentedMap):
        # In place: the amounts keep the order the author gave them; new ones go last.
        for use_case in [k for k in written if k not in kept]:
            del written[use_case]
        for use_case, amount in kept.items():
            if written.get(use_case) != amount:
                written[use_case] = amount
    else:
        then["scores"] = yaml_edit.flow(kept)
    _set(then, "fit", _amount("fit amount", form.fit))
    _set_say(then, form.say, pack)


def _replace_values(when: Any, lines: Iterator[ConditionLine], attributes: dict[str, Attribute]) -> None:
    """Walk the conditions in the order _tests_of reads them, putting each line's value
    in the place its test is written."""
    if isinstance(when, list):
        for item in when:
            _replace_values(item, lines, attributes)
        return
    for key in list(when):
        value = when[key]
        if key == "all":
            _replace_values(value, lines, attributes)
        elif isinstance(value, dict):
            for op in list(value):
                line = next(lines)
                if op not in PRESENCE_OPS:
                    value[op] = _test_node(line, attributes.get(line.attribute))[op]
        else:
            line = next(lines)
            node = _test_node(line, attributes.get(line.attribute))
            # A shorthand stays one: `form_factor: [a, b]` rather than `{one_of: [a, b]}`.
            when[key] = next(iter(node.values())) if isinstance(node, dict) else node


def _set(mapping: CommentedMap, key: str, value: Any) -> None:
    """Set `key`, keeping its place; an empty value removes it."""
    if value in (None, ""):
        mapping.pop(key, None)
    elif mapping.get(key) != value:
        mapping[key] = value


def _set_say(then: CommentedMap, say: dict[str, str], pack: Pack) -> None:
    texts = {locale: say.get(locale, "").strip() for locale in pack.locales}
    filled = {k: v for k, v in texts.items() if v}
    written = then.get("say")
    if isinstance(written, str) and set(filled) == {pack.default_locale}:
        _set(then, "say", filled[pack.default_locale])
    elif not filled:
        then.pop("say", None)
    elif not isinstance(written, dict) or dict(written) != filled:
        then["say"] = yaml_edit.block(filled)


def _amount(field_name: str, typed: str) -> int | None:
    typed = typed.strip().replace("+", "", 1)
    if not typed:
        return None
    try:
        return int(typed)
    except ValueError:
        raise FormRefused(f"{field_name}: {typed!r} is not a whole number, like 8 or -5") from None


def _when(tests: list[ConditionLine], attributes: dict[str, Attribute]) -> CommentedMap:
    """Conditions as the packs write them: one mapping when every attribute is named
    once, else a list under `all:`."""
    entries = [(t.attribute, _test_node(t, attributes.get(t.attribute))) for t in tests]
    if len({name for name, _ in entries}) == len(entries):
        return yaml_edit.block(dict(entries))
    return yaml_edit.block({"all": CommentedSeq([yaml_edit.block({name: node}) for name, node in entries])})


def _test_node(test: ConditionLine, attribute: Attribute | None) -> Any:
    if test.test not in TEST_WORDS:
        raise FormRefused(f"{test.attribute}: choose a test, like 'is' or 'is at least'")
    if test.test in PRESENCE_OPS:
        return yaml_edit.flow({test.test: True})
    values = [v.strip() for v in test.value.split(",") if v.strip()]
    if not values:
        raise FormRefused(f"{test.attribute} {TEST_WORDS[test.test]}: give a value")
    typed = [_typed(v, attribute) for v in values]
    if test.test in MANY_VALUES:
        return yaml_edit.flow({test.test: yaml_edit.flow_list(typed)})
    if len(typed) > 1:
        raise FormRefused(
            f"{test.attribute} {TEST_WORDS[test.test]}: one value only; for several, choose "
            f"'{TEST_WORDS['contains_any' if test.test == 'contains' else 'one_of']}'"
        )
    if test.test in ("is", "contains"):
        return typed[0]  # the shorthand: `mic: boom`
    return yaml_edit.flow({test.test: typed[0]})


def _typed(value: str, attribute: Attribute | None) -> Any:
    """A typed value as YAML should hold it. A value of the wrong type is written as typed
    and the pack check says what is wrong with it, in the same words as for a file."""
    kind = attribute.type.item_type if attribute is not None else AttrType.TEXT
    if value.startswith("shopper."):
        return value
    if kind is AttrType.NUMBER:
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if number.is_integer() else number
    if kind is AttrType.BOOL and value.lower() in ("true", "yes", "false", "no"):
        return value.lower() in ("true", "yes")
    return value
