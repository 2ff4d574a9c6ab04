"""Round-trip editing of a pack's YAML files: what Studio's forms write goes into the file
a person may also edit by hand, so its comments, key order, quoting and flow style stay as
they were, and only what the form changed moves (ruamel.yaml's round-trip mode).

Every bundled pack file loads and dumps back byte for byte with these settings (a test
checks it), so a form that changes one rule changes only that rule's lines.
"""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from earmark.errors import FormRefused


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)  # "  - id: ..." as the packs are written
    yaml.width = 4096  # never fold a long sentence onto a second line
    yaml.preserve_quotes = True
    return yaml


def load(text: str, file: str) -> Any:
    """The document of a file, for editing; FormRefused when it is not YAML a form can
    edit (a form never guesses at a file that does not parse: the editor shows why)."""
    try:
        return _yaml().load(text)
    except YAMLError as exc:
        raise FormRefused(
            f"{file} can't be read as YAML ({exc.__class__.__name__}); fix it in the editor first"
        ) from None


def dump(document: Any) -> str:
    out = io.StringIO()
    _yaml().dump(document, out)
    return out.getvalue()


def flow(mapping: dict[str, Any]) -> CommentedMap:
    """A mapping written on one line, `{en: ..., de: ...}`, as the packs write short ones."""
    node = CommentedMap(mapping)
    node.fa.set_flow_style()
    return node


def block(mapping: dict[str, Any]) -> CommentedMap:
    return CommentedMap(mapping)


def flow_list(items: list[Any]) -> CommentedSeq:
    node = CommentedSeq(items)
    node.fa.set_flow_style()
    return node


def append(items: CommentedSeq, item: CommentedMap, *, blank_line: bool) -> None:
    """Add `item` at the end of a block list. Whatever followed the old last item (the
    blank line and comments before the next section) moves below the new one, and with
    `blank_line` the two items are parted by an empty line, as rules are."""
    trailing = pop_trailing(items[-1]) if items else None
    items.append(item)
    if len(items) > 1 and blank_line:
        set_trailing(items[-2], "\n\n")
    if trailing is not None:
        set_trailing(item, trailing)


def _last_key(node: Any) -> tuple[Any, Any] | None:
    """The innermost (mapping, key) a block mapping ends with: ruamel keeps what follows
    a mapping as a comment of its last key, however deep."""
    if not isinstance(node, CommentedMap) or not node or node.fa.flow_style():
        return None
    key = list(node.keys())[-1]
    deeper = _last_key(node[key])
    return deeper if deeper is not None else (node, key)


def pop_trailing(node: Any) -> str | None:
    found = _last_key(node)
    if found is None:
        return None
    mapping, key = found
    tokens = mapping.ca.items.get(key)
    if not tokens or len(tokens) < 3 or tokens[2] is None:
        return None
    text = str(tokens[2].value)
    tokens[2] = None
    return text


def set_trailing(node: Any, text: str) -> None:
    found = _last_key(node)
    if found is None:
        return
    mapping, key = found
    mapping.yaml_add_eol_comment("# placeholder", key)  # makes the comment slot ruamel dumps
    token = mapping.ca.items[key][2]
    token.value = text
    token.column = 0
