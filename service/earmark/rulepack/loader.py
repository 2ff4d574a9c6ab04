"""Loading a rule pack directory into a checked Pack, or every Problem with it at once.

rules/audio/
  pack.yaml            the manifest: vocabulary, categories, use cases, wording
  *.yaml               rule files, grouped by concern, read in name order
  examples/*.yaml      example cases: products with the verdicts they must get

Loading is an explicit, ordered list of stages (as OPA orders its compiler's passes in
ast/compile.go), each working on what the stages before it built. A stage that needs
every part parsed says so, and is skipped once an error has been recorded; a stage that
leaves nothing to build on stops the load. The problems of every stage that ran are
reported together, so an author fixes them in one pass.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from earmark.diagnostics import Findings, Location, Problem
from earmark.errors import PackError
from earmark.rulepack import checks
from earmark.rulepack.cases import read_cases
from earmark.rulepack.files import MANIFEST, PackFiles, display_path
from earmark.rulepack.manifest import Vocabulary, read_manifest
from earmark.rulepack.model import ExampleCase, Pack, Rule
from earmark.rulepack.network import MAX_RULES
from earmark.rulepack.rules import WrittenRules, read_rules
from earmark.rulepack.texts import TextReader

READ_ATTEMPTS = 3  # reads of a folder that changes under the load, before giving up


def load_pack(directory: Path) -> Pack:
    """Load, parse and check the pack in `directory`. Raises PackError with every problem.

    The files are read again if they changed while they were read, so the pack (or the
    problems) always come from one version of the folder, never a mix of two."""
    for _ in range(READ_ATTEMPTS):
        found = Findings()
        load = _Load(PackFiles(directory, found), found)
        for stage in STAGES:
            if stage.needs_every_part_parsed and not load.found.ok:
                continue
            if stage.run(load) is _STOP:
                break
        if not load.files.changed_since_read():
            break
    else:
        raise PackError(
            [
                Problem(
                    Location(display_path(directory)),
                    "changed-while-read",
                    "the files kept changing while they were read; they are read again after the next change",
                )
            ]
        )
    if not load.found.ok or load.vocabulary is None or load.vocabulary.wording is None:
        raise PackError(load.found.errors)  # warnings are shown with a pack that loads
    return load.pack()


def load_vocabulary(directory: Path) -> Vocabulary:
    """Only what the pack's manifest declares, for tools that help while the rules are
    still being written. Raises PackError when the manifest can't be read."""
    found = Findings()
    load = _Load(PackFiles(directory, found), found)
    _read_manifest(load)
    if load.vocabulary is None:
        raise PackError(found.errors)
    return load.vocabulary


@dataclass
class _Load:
    """What the stages have built so far, and every problem they found."""

    files: PackFiles
    found: Findings  # shared with `files`, which records unreadable files here
    vocabulary: Vocabulary | None = None
    texts: TextReader | None = None
    rules: list[Rule] = field(default_factory=list)
    written: WrittenRules = field(default_factory=WrittenRules)
    cases: list[ExampleCase] = field(default_factory=list)

    def pack(self) -> Pack:
        vocabulary = self.vocabulary
        assert vocabulary is not None and vocabulary.wording is not None  # load_pack checked
        doc = vocabulary.doc
        return Pack(
            name=doc.pack,
            version=f"{doc.pack}-{self.files.digest[:12]}",
            digest=self.files.digest,
            categories=tuple(vocabulary.categories.values()),
            default_category=doc.default_category,
            use_cases=tuple(vocabulary.use_cases.values()),
            specs=vocabulary.specs,
            shopper=vocabulary.shopper,
            rules=tuple(self.rules),
            wording=vocabulary.wording,
            explanation_limit=doc.limits.explanation,
            soft_ceiling_from=doc.scoring.soft_ceiling_from,
            decision_mask=vocabulary.masks,
            examples=tuple(self.cases),
            locales=vocabulary.locales,
            warnings=tuple(sorted(self.found.warnings)),
            files=tuple(sorted(self.files.sources.items())),
        )


_STOP = object()  # returned by a stage that leaves the later ones nothing to work on


def _read_manifest(load: _Load) -> object:
    directory = load.files.directory
    if not directory.is_dir():
        load.found.error(Location(display_path(directory)), "no-pack", "not a directory")
        return _STOP
    path = directory / MANIFEST
    source = load.files.read(path)
    if source is None:
        if not os.path.lexists(path):
            load.found.error(
                Location(display_path(path)),
                "no-manifest",
                f"a pack needs a {MANIFEST} declaring its vocabulary",
            )
        return _STOP
    load.vocabulary, load.texts = read_manifest(source, load.found)
    return _STOP if load.vocabulary is None else None


def _read_rules(load: _Load) -> object:
    assert load.vocabulary is not None and load.texts is not None  # the manifest stage stops otherwise
    paths = load.files.rule_files()
    # Counted before any file is parsed: 10,000 rules took 49 s to parse and measure
    # before they were refused for their number.
    starts = [(path, start) for path in paths for start in load.files.rule_items(path)]
    if len(starts) > MAX_RULES:
        path, (line, column) = starts[MAX_RULES]
        load.found.error(
            Location(display_path(path), line, column),
            "too-many-rules",
            f"the pack has {len(starts)} rules; at most {MAX_RULES} fit in the engine",
        )
        return _STOP
    sources = [load.files.read(path) for path in paths]
    load.rules, load.written = read_rules(sources, load.vocabulary, load.texts, load.found)
    return None


def _pack_check(check: Callable[[list[Rule], Vocabulary, Findings], None]) -> Callable[[_Load], object]:
    """A stage that runs one of checks.py's whole-pack checks on the rules read so far."""

    def run(load: _Load) -> object:
        assert load.vocabulary is not None  # the manifest stage stops otherwise
        check(load.rules, load.vocabulary, load.found)
        return None

    return run


def _read_cases(load: _Load) -> object:
    assert load.vocabulary is not None
    sources = [load.files.read(path) for path in load.files.case_files()]
    load.cases = read_cases(sources, load.vocabulary, load.rules, load.written, load.found)
    return None


@dataclass(frozen=True)
class Stage:
    name: str
    run: Callable[[_Load], object]
    # The analyses reason about the pack as a whole: on a pack with parts missing they
    # would report consequences of the errors already shown, not new ones.
    needs_every_part_parsed: bool = False


STAGES = (
    Stage("read the manifest", _read_manifest),
    Stage("read the rules", _read_rules),
    Stage("rule ids are unique", _pack_check(checks.unique_rule_ids)),
    Stage("the engine's limits are kept", _pack_check(checks.engine_limits)),
    Stage("every use case is scored", _pack_check(checks.scored_use_cases), needs_every_part_parsed=True),
    Stage(
        "rules can fire and categories don't collide",
        _pack_check(checks.rules_can_fire_without_collisions),
        needs_every_part_parsed=True,
    ),
    Stage("read the example cases", _read_cases),
)
