"""Reading rule files: YAML that can hold data only, with the line of every value kept.

ruamel.yaml's round-trip loader is used because it records where each key and item sits
(so every problem can say `file:line`) and because it never builds Python objects from
tags. We go further and refuse any explicit tag at all: a rule file is plain data.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError

from earmark.errors import Problem

MAX_FILE_BYTES = 1024 * 1024  # a rule file is text a person wrote; anything bigger is a mistake


class SourceFile:
    """One parsed YAML file and a way to find the line of any value in it."""

    def __init__(self, display_path: str, data: Any) -> None:
        self.path = display_path
        self.data = data

    def problem(self, loc: tuple[Any, ...], code: str, message: str) -> Problem:
        line, column = self.position(loc)
        return Problem(self.path, line, column, code, message)

    def position(self, loc: tuple[Any, ...]) -> tuple[int, int]:
        """1-based (line, column) of the value at `loc` (keys and list indexes from the top),
        or of the deepest part of it that exists."""
        node = self.data
        line, column = 1, 1
        for key in loc:
            if isinstance(node, CommentedMap) and key in node:
                line, column = node.lc.key(key)
                line, column = line + 1, column + 1
                node = node[key]
            elif isinstance(node, CommentedSeq) and isinstance(key, int) and key < len(node):
                line, column = node.lc.item(key)
                line, column = line + 1, column + 1
                node = node[key]
            else:
                break
        return line, column


def _yaml() -> YAML:
    yaml = YAML(typ="rt", pure=True)
    yaml.allow_duplicate_keys = False
    return yaml


def read_bytes(path: Path, display_path: str) -> tuple[bytes | None, list[Problem]]:
    """A rule file's bytes, or None and the problem that stopped reading it."""
    try:
        return path.read_bytes(), []
    except OSError as exc:
        return None, [Problem(display_path, 1, 1, "unreadable", exc.strerror or str(exc))]


def parse_yaml(raw: bytes, display_path: str) -> tuple[SourceFile | None, list[Problem]]:
    """Parse one file's bytes. Returns the file, or None and the problems that stopped it."""
    if len(raw) > MAX_FILE_BYTES:
        return None, [Problem(display_path, 1, 1, "too-big", f"file is over {MAX_FILE_BYTES} bytes")]
    try:
        text = raw.decode("utf-8")
        data = _yaml().load(text)
    except UnicodeDecodeError as exc:
        return None, [Problem(display_path, 1, 1, "encoding", f"not UTF-8 text: {exc.reason}")]
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        return None, [Problem(display_path, line, column, "yaml-syntax", what or str(exc))]
    except Exception as exc:  # ruamel raises a few unmarked errors on odd input
        return None, [Problem(display_path, 1, 1, "yaml-syntax", str(exc).splitlines()[0])]
    source = SourceFile(display_path, data)
    problems = [
        source.problem(loc, "yaml-tag", f"tags such as {tag!r} are not allowed in rule files")
        for loc, tag in _explicit_tags(data, ())
    ]
    return (None if problems else source), problems


def _explicit_tags(node: Any, loc: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Yield (location, tag) for every value that carries an explicit YAML tag."""
    if isinstance(node, TaggedScalar):
        yield loc, str(node.tag.value)
        return
    tag = getattr(getattr(node, "tag", None), "value", None)
    if isinstance(node, CommentedMap | CommentedSeq) and tag is not None:
        yield loc, str(tag)
    if isinstance(node, CommentedMap):
        for key, value in node.items():
            yield from _explicit_tags(value, (*loc, key))
    elif isinstance(node, CommentedSeq):
        for index, value in enumerate(node):
            yield from _explicit_tags(value, (*loc, index))


def plain(node: Any) -> Any:
    """The same data as built-in dicts, lists and scalars (for storing example products)."""
    if isinstance(node, CommentedMap):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, CommentedSeq):
        return [plain(v) for v in node]
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node
