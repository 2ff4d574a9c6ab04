"""`earmark publish WORKING_COPY LIVE_DIR`: the reload's own gate, run before anything is
written, then the live files replaced in one step.

A server watching LIVE_DIR must never read a half-written pack: copying files one by one
would let it load a mix of old and new files, which may even pass. So the working copy is
staged beside the live directory and the two are exchanged atomically (Linux's
renameat2 with RENAME_EXCHANGE); if LIVE_DIR is a symlink (a Kubernetes-style mount, or
a versioned layout), a new link replaces it instead. Either way the watcher sees one
change and reloads once.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from earmark.authoring.contract import ContractChange, contract_changes
from earmark.errors import PackError
from earmark.evaluation.examples import load_checked
from earmark.rulepack.loader import load_pack
from earmark.rulepack.model import Pack

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2  # linux/fs.h


@dataclass(frozen=True)
class Published:
    version: str
    previous: str | None  # the version the live directory held, if it held a pack
    contract: tuple[ContractChange, ...]  # against the live pack, breaking first


class PublishRefused(Exception):
    """Raised when the live directory cannot, or should not, be replaced; the message
    says why."""


def publish(working_copy: Path, live_dir: Path, *, allow_breaking: bool = False) -> Published:
    """Check `working_copy` as a reload would (load, every check, its example cases) and
    against the live pack's contract, then make it the content of `live_dir`. Writes
    nothing, and raises PackError if the pack would be refused, or PublishRefused if it
    would break requests that work today (unless `allow_breaking`)."""
    candidate = load_checked(working_copy)
    candidate.close()
    live = _live_pack(live_dir)
    changes = tuple(contract_changes(live, candidate.pack)) if live is not None else ()
    breaking = [c for c in changes if c.breaking]
    if breaking and not allow_breaking:
        listed = "\n".join(f"  {c}" for c in breaking)
        raise PublishRefused(
            f"the change breaks the contract clients rely on:\n{listed}\n"
            "publish with --allow-breaking once every storefront is ready for it"
        )
    previous = live.version if live is not None else None
    if live_dir.is_symlink():
        _replace_link(working_copy, live_dir)
    elif live_dir.is_dir():
        _exchange(working_copy, live_dir)
    else:
        raise PublishRefused(f"{live_dir} is not a directory")
    return Published(candidate.pack.version, previous, changes)


def _live_pack(live_dir: Path) -> Pack | None:
    """The pack in the live directory, or None if there is none that loads (a first
    publish, or one that replaces a broken pack)."""
    try:
        return load_pack(live_dir)
    except PackError:
        return None


def _stage(working_copy: Path, beside: Path) -> Path:
    """A copy of the working copy in the live directory's parent (same file system, so
    that the exchange is a rename), readable like the directory it replaces."""
    staged = Path(tempfile.mkdtemp(prefix=f".{beside.name}-publishing-", dir=beside.parent))
    os.rmdir(staged)
    shutil.copytree(working_copy, staged, ignore=shutil.ignore_patterns(".*"))
    os.chmod(staged, 0o755)
    return staged


def _exchange(working_copy: Path, live_dir: Path) -> None:
    staged = _stage(working_copy, live_dir)
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        shutil.rmtree(staged)
        raise PublishRefused("this system cannot swap directories atomically (no renameat2)")
    done = renameat2(_AT_FDCWD, os.fsencode(staged), _AT_FDCWD, os.fsencode(live_dir), _RENAME_EXCHANGE)
    if done != 0:
        error = ctypes.get_errno()
        shutil.rmtree(staged)
        raise PublishRefused(f"cannot replace {live_dir}: {os.strerror(error)}")
    shutil.rmtree(staged)  # now the old content


def _replace_link(working_copy: Path, live_link: Path) -> None:
    previous = live_link.resolve()
    staged = _stage(working_copy, live_link)
    link = live_link.with_name(f".{live_link.name}-publishing-link")
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(staged.name)
    os.replace(link, live_link)  # one rename: the watcher sees the new pack whole
    if previous.parent == live_link.parent and previous.name.startswith(f".{live_link.name}-publishing-"):
        shutil.rmtree(previous, ignore_errors=True)  # an earlier publish's copy, now unused
