"""Every publish kept as a version (who, when, summary, the files), the audit log, and a
git commit when the live folder is in a git working tree.

The versions live beside the live folder, in `.<name>.history/`, outside what a server
watches: one folder per version holding the pack's files and `version.json`, and
`audit.jsonl`, one JSON line per publish or restore. A version's files are copied from
the kept version folder that went live (releases.py), never from the live path, which a
later publish may already have flipped.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

AUDIT_LOG = "audit.jsonl"
_META = "version.json"
_ID = re.compile(r"^(\d{4,})-[A-Za-z0-9_.-]+$")  # a sequence number and the ruleset version


@dataclass(frozen=True)
class Version:
    id: str  # the folder's name: a sequence number and the ruleset version
    ruleset_version: str
    previous: str | None
    who: str
    when: str
    action: str  # "publish", "restore" or "found"
    summary: str


class History:
    def __init__(self, live_dir: Path) -> None:
        self.live_dir = live_dir
        self.folder = live_dir.parent / f".{live_dir.name}.history"

    def versions(self) -> list[Version]:
        """Every kept version that can be read, newest first (see `read`)."""
        return self.read()[0]

    def damaged(self) -> list[str]:
        """The folders of kept versions that can't be read, and why (see `read`)."""
        return self.read()[1]

    def read(self) -> tuple[list[Version], list[str]]:
        """The kept versions that can be read, newest first, and the folders of those
        that can't, with why: shown, not fatal. One pass over the folder for both."""
        found: list[Version] = []
        damaged: list[str] = []
        if not self.folder.is_dir():
            return found, damaged
        for entry in sorted(self.folder.iterdir()):
            if not entry.is_dir() or entry.name.startswith("."):
                continue
            try:
                found.append(_read_version(entry))
            except OSError as exc:
                damaged.append(f"{entry.name}: its record ({_META}) can't be read: {exc.strerror or exc}")
            except _Damaged as exc:
                damaged.append(f"{entry.name}: {exc}")
            except ValueError:  # json's decode error
                damaged.append(f"{entry.name}: its record ({_META}) is not valid JSON")
        return sorted(found, key=_order, reverse=True), damaged

    def files_of(self, version_id: str) -> Path:
        """The folder holding a kept version's files; KeyError for an unknown id."""
        if version_id not in {v.id for v in self.versions()}:
            raise KeyError(version_id)
        return self.folder / version_id

    def record(
        self, files: Path, *, ruleset_version: str, previous: str | None, who: str, action: str, summary: str
    ) -> Version:
        """Keep `files` as a new version (`confirm` it once it is live). Its id is new
        even when older versions were removed: one past the highest number kept here."""
        self.folder.mkdir(exist_ok=True)
        while True:
            version = Version(
                id=f"{self._next_number():04d}-{ruleset_version}",
                ruleset_version=ruleset_version,
                previous=previous,
                who=who,
                when=datetime.now(UTC).isoformat(timespec="seconds"),
                action=action,
                summary=summary,
            )
            target = self.folder / version.id
            try:
                shutil.copytree(files, target, ignore=shutil.ignore_patterns(".*", "schemas"))
            except FileExistsError:  # another Studio took the number first
                continue
            break
        (target / _META).write_text(json.dumps(asdict(version), indent=2) + "\n", encoding="utf-8")
        return version

    def forget(self, version: Version) -> None:
        """Remove a version recorded for a publish that then did not go live."""
        shutil.rmtree(self.folder / version.id, ignore_errors=True)

    def confirm(self, version: Version) -> str | None:
        """Once a recorded version is live: log it in the audit log, and commit the live
        folder when it is in a git working tree. Returns why git refused, or None
        (committed, or not in a working tree)."""
        with (self.folder / AUDIT_LOG).open("a", encoding="utf-8") as log:
            log.write(json.dumps(asdict(version), sort_keys=True) + "\n")
        if version.action == "found":  # what was live is already in git, if anything is
            return None
        return _commit(
            self.live_dir, f"{version.action} {version.ruleset_version} by {version.who}: {version.summary}"
        )

    def audit(self) -> list[dict[str, object]]:
        path = self.folder / AUDIT_LOG
        if not path.is_file():
            return []
        lines = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue  # a torn last line (a full disk): the rest still counts
        return lines

    def _next_number(self) -> int:
        numbers = [int(m.group(1)) for p in self.folder.iterdir() if (m := _ID.match(p.name))]
        return max(numbers, default=0) + 1


class _Damaged(ValueError):
    """A kept version's record that reads, but not as a record; the message says how."""


def _read_version(entry: Path) -> Version:
    data = json.loads((entry / _META).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise _Damaged(f"its record ({_META}) is not a record")
    known = {f.name for f in fields(Version)}
    if set(data) != known:
        odd = sorted(set(data) ^ known)
        raise _Damaged(f"its record ({_META}) has fields it should not have, or lacks some: {', '.join(odd)}")
    version = Version(**data)
    # The id names the folder a restore reads: it must be that folder, and a plain name.
    if version.id != entry.name or not _ID.match(version.id):
        raise _Damaged(f"its record names another folder ({version.id!r})")
    return version


def _order(version: Version) -> tuple[int, str]:
    match = _ID.match(version.id)
    return (int(match.group(1)) if match else 0, version.id)


def _commit(live_dir: Path, message: str) -> str | None:
    top = _git(live_dir.parent, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        return None  # not in a working tree: nothing to commit to
    root = Path(top.stdout.strip()).resolve()
    # The live path (a link after a first publish) and the versions it may lead to.
    store = live_dir.parent / f".{live_dir.name}.versions"
    paths = [os.path.relpath(p, root) for p in (live_dir.parent.resolve() / live_dir.name, store.resolve())]
    added = _git(root, "add", "-A", "--", *paths)
    if added.returncode != 0:
        return f"git add failed: {added.stderr.strip() or added.returncode}"
    # An identity of its own where the repository has none, so a commit never fails on it.
    has_identity = _git(root, "config", "user.email").returncode == 0
    identity = (
        [] if has_identity else ["-c", "user.name=Earmark Studio", "-c", "user.email=studio@earmark.invalid"]
    )
    done = _git(root, *identity, "commit", "--quiet", "--allow-empty", "-m", message, "--", *paths)
    if done.returncode != 0:
        return f"git commit failed: {done.stderr.strip() or done.returncode}"
    return None


def _git(where: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", "-C", str(where), *args], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return subprocess.CompletedProcess(args, 127, "", str(exc))
