"""Reading rule files: YAML that can hold data only, with the line of every value kept.

ruamel.yaml's round-trip loader is used because it records where each key and item sits
(so every problem can say `file:line`) and because it never builds Python objects from
tags. We go further and refuse any explicit tag, anchor or alias while composing: a rule
file is plain data, and an alias can make a tiny file expand without bound.
"""

from __future__ import annotations

import functools
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import Composer
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.events import AliasEvent

from earmark.diagnostics import Location, Problem, shown
from earmark.rulepack.yaml_errors import explain

MAX_FILE_BYTES = 1024 * 1024  # a rule file is text a person wrote; anything bigger is a mistake
# Values (keys, items, texts) in one file. The bundled pack's largest file has under 900;
# 50,000 leaves room for 1,000 long rules in one file, and refuses pasted data in a
# second instead of the ~20 s ruamel takes to compose 280,000 nodes of it.
MAX_FILE_VALUES = 50_000
# A reload, a publish and Studio's check of every edit read the whole pack again, though
# usually one file changed, and ruamel's pure-Python parse is most of a load's time. So a
# file's parse is kept by its bytes: a pack's worth of files (the bundled pack has 24),
# each small enough that the kept trees stay a few megabytes at most.
PARSE_MEMO_FILES = 128
PARSE_MEMO_MAX_BYTES = 32 * 1024


@dataclass(frozen=True)
class Outline:
    """What a cheap pass over a file's YAML events finds, before anything is built."""

    values: int  # keys, items and texts
    rules: tuple[tuple[int, int], ...]  # (line, column) of each item of the top-level `rules:`


def outline(raw: bytes) -> Outline | None:
    """Count a file's values and rules with libyaml's event parser: it builds nothing and
    expands no alias, and it is about a hundred times faster than composing the file with
    ruamel, so that a pack too big to be worth reading is refused in about a second. None
    where PyYAML has no libyaml (then only the full parse runs). A syntax error ends the
    count where it stands: the full parse says what is wrong."""
    if not getattr(yaml, "__with_libyaml__", False):
        return None
    values = 0
    rules: list[tuple[int, int]] = []
    stack: list[list[Any]] = []  # [kind, the next node is a key, the last key] per container
    try:
        for event in yaml.parse(raw, Loader=yaml.CSafeLoader):
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                stack.pop()
                continue
            if not isinstance(
                event, (yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent, yaml.AliasEvent)
            ):
                continue
            values += 1
            parent = stack[-1] if stack else None
            is_key = parent is not None and parent[0] == "map" and parent[1]
            mark = event.start_mark
            if parent is not None and parent[0] == "rules" and mark is not None:
                rules.append((mark.line + 1, mark.column + 1))
            if parent is not None and parent[0] == "map":
                if is_key:
                    parent[2] = event.value if isinstance(event, yaml.ScalarEvent) else None
                parent[1] = not parent[1]
            if isinstance(event, yaml.MappingStartEvent):
                stack.append(["map", True, None])
            elif isinstance(event, yaml.SequenceStartEvent):
                top_rules = len(stack) == 1 and parent is not None and not is_key and parent[2] == "rules"
                stack.append(["rules" if top_rules else "seq", False, None])
    except yaml.YAMLError:
        pass
    return Outline(values, tuple(rules))


class SourceFile:
    """One parsed YAML file and a way to find the line of any value in it."""

    def __init__(self, display_path: str, data: Any) -> None:
        self.path = display_path
        self.data = data

    def problem(self, loc: tuple[Any, ...], code: str, message: str) -> Problem:
        return Problem(self.location(loc), code, message)

    def location(self, loc: tuple[Any, ...]) -> Location:
        line, column = self.position(loc)
        return Location(self.path, line, column)

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


class _RefusedYaml(MarkedYAMLError):
    """Raised while composing a node that a rule file may not hold; `code` names it."""

    code = "yaml-syntax"


class _AliasRefused(_RefusedYaml):
    code = "yaml-alias"


class _TagRefused(_RefusedYaml):
    code = "yaml-tag"


class _PlainDataComposer(Composer):
    """Refuses anchors, aliases and explicit tags as they are met, before anything is
    built: an alias can expand a 500-byte file into billions of nodes, and a tag asks for
    something other than plain data. Keys are nodes too, so a tag on a key is refused."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        if isinstance(event, AliasEvent) or getattr(event, "anchor", None):
            raise _AliasRefused(
                None,
                None,
                "anchors and aliases (& and *) are not allowed in rule files; write the value out in full",
                event.start_mark,
            )
        tag = getattr(event, "tag", None)
        if tag is not None:
            raise _TagRefused(
                None, None, f"tags such as {shown(str(tag))} are not allowed in rule files", event.start_mark
            )
        return super().compose_node(parent, index)


def _yaml() -> YAML:
    yaml = YAML(typ="rt", pure=True)
    yaml.Composer = _PlainDataComposer
    yaml.allow_duplicate_keys = False
    return yaml


def read_bytes(path: Path, display_path: str) -> tuple[bytes | None, list[Problem]]:
    """A rule file's bytes, or None and the problem that stopped reading it.

    Only a regular file is read, and its size is checked before reading: a FIFO would
    block the reader forever (it is opened without blocking, then refused), and a 2 GB
    file would be read whole just to be refused."""

    def refuse(code: str, message: str) -> tuple[None, list[Problem]]:
        return None, [Problem(Location(display_path), code, message)]

    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        return refuse("unreadable", exc.strerror or str(exc))
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            return refuse("unreadable", "not a regular file; a pack holds only plain text files")
        if status.st_size > MAX_FILE_BYTES:
            return refuse("too-big", f"file is over {MAX_FILE_BYTES} bytes")
        with os.fdopen(descriptor, "rb", closefd=False) as file:
            raw = file.read(MAX_FILE_BYTES + 1)  # a file still growing is not read past the limit
    except OSError as exc:
        return refuse("unreadable", exc.strerror or str(exc))
    finally:
        os.close(descriptor)
    return raw, []


def parse_yaml(raw: bytes, display_path: str) -> tuple[SourceFile | None, list[Problem]]:
    """Parse one file's bytes. Returns the file, or None and the problems that stopped it.
    The file's data is shared with earlier parses of the same bytes: read it, never change it."""
    if len(raw) <= PARSE_MEMO_MAX_BYTES:
        source, problems = _parse_kept(raw, display_path)
        return source, list(problems)
    return _parse(raw, display_path)


@functools.lru_cache(maxsize=PARSE_MEMO_FILES)
def _parse_kept(raw: bytes, display_path: str) -> tuple[SourceFile | None, tuple[Problem, ...]]:
    source, problems = _parse(raw, display_path)
    return source, tuple(problems)


def _parse(raw: bytes, display_path: str) -> tuple[SourceFile | None, list[Problem]]:
    if len(raw) > MAX_FILE_BYTES:
        return None, [Problem(Location(display_path), "too-big", f"file is over {MAX_FILE_BYTES} bytes")]
    try:
        text = raw.decode("utf-8")
        data = _yaml().load(text)
    except UnicodeDecodeError as exc:
        return None, [Problem(Location(display_path), "encoding", f"not UTF-8 text: {exc.reason}")]
    except _RefusedYaml as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        return None, [Problem(Location(display_path, line, column), exc.code, what or str(exc))]
    except MarkedYAMLError as exc:
        found = explain(exc, text)
        return None, [Problem(Location(display_path, found.line, found.column), "yaml-syntax", found.message)]
    except RecursionError:
        return None, [Problem(Location(display_path), "yaml-syntax", "nested too deeply")]
    except Exception as exc:  # ruamel raises a few unmarked errors on odd input
        return None, [Problem(Location(display_path), "yaml-syntax", str(exc).splitlines()[0])]
    return SourceFile(display_path, data), []


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
