"""Versions of a pack kept whole, and made live in one step.

A version is a folder named by the pack's version (a digest of its files), written once
into a store beside the live path (`.<live>.versions/`) and never changed after. The live
path is a symlink to one of them, replaced by one rename, as Kubernetes flips a
ConfigMap's `..data`. A server reading the live path so sees one whole version or the
next, never a mix; the bytes written are the bytes a gate checked (`Pack.files`); and an
earlier version stays on disk to go back to.

`earmark publish` and Studio release into the live folder; every serving process
releases what it made live into its own last-good store, which it falls back to when the
pack on disk is refused at start-up.
"""

from __future__ import annotations

import ctypes
import errno
import os
import secrets
import shutil
import stat
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from earmark.diagnostics import Location, Problem
from earmark.errors import PackError, PublishRefused
from earmark.rulepack.files import EXAMPLES_DIR, display_path, pack_file_paths
from earmark.rulepack.source import read_bytes

KEEP_VERSIONS = 20  # kept in a store besides the live one: enough to go back, not a disk's worth
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2  # linux/fs.h


def read_pack_files(source: Path) -> dict[str, bytes]:
    """The files a load of `source` would read, by relative path, and nothing else.

    A link or a special file is refused with its path: a publish copies bytes a person
    wrote into the pack, never what a link leads to (`/etc/ssh`, `/dev/zero`). A file
    that can't be read as a rule file is left to the gate's own wording (PackError)."""
    refused = [
        f"{display_path(folder)} is a link"
        for folder in (source, source / EXAMPLES_DIR)
        if folder.is_symlink()
    ]
    files: dict[str, bytes] = {}
    problems: list[Problem] = []
    for path in pack_file_paths(source) if not refused else []:
        try:
            mode = path.lstat().st_mode
        except OSError as exc:  # gone since it was listed
            problems.append(Problem(Location(display_path(path)), "unreadable", _why(exc)))
            continue
        if stat.S_ISLNK(mode):
            refused.append(f"{display_path(path)} is a link")
        elif not stat.S_ISREG(mode):
            refused.append(f"{display_path(path)} is not a plain file")
        else:
            raw, problems_here = read_bytes(path, display_path(path))
            problems += problems_here
            if raw is not None:
                files[path.relative_to(source).as_posix()] = raw
    if refused:
        raise PublishRefused(f"{'; '.join(refused)}: a published pack holds only plain files, copy them in")
    if problems:
        raise PackError(problems)
    return files


class Releases:
    """The store of versions beside one live path, and the flip that makes one live."""

    def __init__(self, live: Path) -> None:
        self.live = live
        self.store = live.parent / f".{live.name}.versions"

    @contextmanager
    def staged(self, files: Mapping[str, bytes]) -> Iterator[Path]:
        """A private folder in the store holding `files`, removed on leaving unless
        `keep` took it. A write that fails (a full disk) leaves nothing behind."""
        try:
            self.store.mkdir(parents=True, exist_ok=True)
            staged = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.store))
        except OSError as exc:
            raise PublishRefused(f"cannot write into {display_path(self.store)}: {_why(exc)}") from None
        try:
            try:
                _write(staged, files)
            except OSError as exc:
                raise PublishRefused(f"cannot write the new version: {_why(exc)}") from None
            yield staged
        finally:
            shutil.rmtree(staged, ignore_errors=True)

    def keep(self, staged: Path, version: str) -> Path:
        """The staged folder, kept as the version folder `version` (an equal one kept
        before serves as well: the name is a digest of the content)."""
        kept = self.store / version
        try:
            os.rename(staged, kept)
        except OSError as exc:
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY) or not kept.is_dir():
                raise PublishRefused(f"cannot keep version {version}: {_why(exc)}") from None
        return kept

    def make_live(self, kept: Path) -> None:
        """Point the live path at a kept version in one step, then forget old versions."""
        point(self.live, kept)
        self.prune()

    def release(self, files: Mapping[str, bytes], version: str) -> Path:
        """Keep `files` (already checked) as `version` and make them live."""
        with self.staged(files) as staged:
            kept = self.keep(staged, version)
        self.make_live(kept)
        return kept

    def live_version_folder(self) -> Path | None:
        """The kept version the live path leads to, if it leads to one."""
        if not self.live.is_symlink():
            return None
        target = self.live.resolve()
        return self.store / target.name if target.parent == self.store.resolve() and target.is_dir() else None

    def prune(self) -> None:
        """Remove all but the newest KEEP_VERSIONS versions; never the live one."""
        live = self.live_version_folder()
        versions = []
        for folder in self.store.iterdir():
            try:  # another process may be pruning the same store
                if folder.is_dir() and not folder.name.startswith("."):
                    versions.append((folder.stat().st_mtime_ns, folder))
            except OSError:
                continue
        for _, old in sorted(versions, reverse=True)[KEEP_VERSIONS:]:
            if old != live:
                shutil.rmtree(old, ignore_errors=True)


def point(link: Path, target: Path) -> None:
    """Make `link` a symlink to `target` in one rename. Where `link` is still a real
    folder (a first publish), the two are exchanged atomically (Linux's renameat2), and
    the old folder removed."""
    temporary = link.with_name(f".{link.name}.{secrets.token_hex(6)}.link")
    os.symlink(os.path.relpath(target, link.parent), temporary)
    try:
        if link.is_symlink() or not os.path.lexists(link):
            os.replace(temporary, link)
        elif link.is_dir():
            _exchange(temporary, link)
            shutil.rmtree(temporary, ignore_errors=True)  # now the old folder; the flip is done
        else:
            raise PublishRefused(f"{display_path(link)} is not a folder")
    finally:
        if temporary.is_symlink():
            temporary.unlink()


def _exchange(one: Path, other: Path) -> None:
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        raise PublishRefused("this system cannot swap folders atomically (no renameat2)")
    if renameat2(_AT_FDCWD, os.fsencode(one), _AT_FDCWD, os.fsencode(other), _RENAME_EXCHANGE) != 0:
        raise PublishRefused(f"cannot replace {display_path(other)}: {os.strerror(ctypes.get_errno())}")


def _write(folder: Path, files: Mapping[str, bytes]) -> None:
    for relative, data in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("xb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    for path in (folder, *(p for p in folder.rglob("*") if p.is_dir())):
        path.chmod(0o755)  # readable like the folder it replaces (mkdtemp makes it 0700)


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)
