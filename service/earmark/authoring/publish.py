"""`earmark publish WORKING_COPY LIVE_DIR`: the working copy staged once, the staged copy
put through the reload's own gate, and that same copy made live in one step.

Checking the working copy and then copying it again would let a save in between put
files live that were never checked. So the files are read once (exactly those a load
reads, no links, no special files) into a private staged folder; the gate and the
contract check read that folder; and that folder, unchanged, becomes the live version
(see releases.py). A server watching LIVE_DIR sees one change and reloads once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from earmark.authoring.contract import ContractChange, contract_changes
from earmark.authoring.releases import Releases, read_pack_files
from earmark.diagnostics import Location, Problem
from earmark.errors import BreakingPublish, PackError, PublishRefused
from earmark.evaluation.examples import load_checked
from earmark.rulepack.files import display_path
from earmark.rulepack.loader import load_pack
from earmark.rulepack.model import Pack


@dataclass(frozen=True)
class Published:
    version: str
    previous: str | None  # the version the live directory held, if it held a pack
    contract: tuple[ContractChange, ...]  # against the live pack, breaking first
    files: Path  # the kept version folder now live: the very files that were checked


def publish(
    working_copy: Path,
    live_dir: Path,
    *,
    allow_breaking: bool = False,
    before_live: Callable[[Published], object] | None = None,
) -> Published:
    """Check `working_copy` as a reload would (load, every check, its example cases) and
    against the live pack's contract, then make it the content of `live_dir`. Writes
    nothing live, and raises PackError if the pack would be refused, or PublishRefused if
    it would break requests that work today (unless `allow_breaking`) or can't be written
    whole. `before_live` is called with the checked, kept version just before it goes
    live (Studio records its history there, so a record exists for what goes live)."""
    if not live_dir.is_dir():
        raise PublishRefused(f"{display_path(live_dir)} is not a folder")
    releases = Releases(live_dir)
    with releases.staged(read_pack_files(working_copy)) as staged:
        candidate = _checked(staged, working_copy)
        live = _live_pack(live_dir)
        changes = tuple(contract_changes(live, candidate)) if live is not None else ()
        breaking = [c for c in changes if c.breaking]
        if breaking and not allow_breaking:
            listed = "\n".join(f"  {c}" for c in breaking)
            raise BreakingPublish(
                f"the change breaks the contract clients rely on:\n{listed}\n"
                "publish with --allow-breaking once every storefront is ready for it",
                tuple(breaking),
            )
        kept = releases.keep(staged, candidate.version)
    done = Published(candidate.version, live.version if live is not None else None, changes, kept)
    if before_live is not None:
        before_live(done)
    releases.make_live(kept)
    return done


def _checked(staged: Path, working_copy: Path) -> Pack:
    """The staged pack once it passed the gate. Problems name the working copy's files,
    which the author edits, not the staged copy's."""
    try:
        evaluator = load_checked(staged)
    except PackError as exc:
        raise PackError([_as_in(p, staged, working_copy) for p in exc.problems]) from None
    evaluator.close()
    return evaluator.pack


def _as_in(problem: Problem, staged: Path, working_copy: Path) -> Problem:
    at = problem.location
    path = at.path.replace(display_path(staged), display_path(working_copy), 1)
    return Problem(Location(path, at.line, at.column), problem.code, problem.message, problem.severity)


def _live_pack(live_dir: Path) -> Pack | None:
    """The pack in the live directory, or None if there is none that loads (a first
    publish, or one that replaces a broken pack)."""
    try:
        return load_pack(live_dir)
    except PackError:
        return None
