"""Every publish kept as a version (who, when, summary, the files), the audit log, and a
git commit when the live folder is in a git working tree.

The versions live beside the live folder, in `.<name>.history/`, outside what a server
watches: one folder per version holding the pack's files and `version.json`, and
`audit.jsonl`, one JSON line per publish or restore.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

AUDIT_LOG = "audit.jsonl"
_META = "version.json"


@dataclass(frozen=True)
class Version:
    id: str  # the folder's name: a sequence number and the ruleset version
    ruleset_version: str
    previous: str | None
    who: str
    when: str
    action: str  # "publish" or "restore"
    summary: str


class History:
    def __init__(self, live_dir: Path) -> None:
        self.live_dir = live_dir
        self.folder = live_dir.parent / f".{live_dir.name}.history"

    def versions(self) -> list[Version]:
        """Every kept version, newest first."""
        if not self.folder.is_dir():
            return []
        found = []
        for meta in self.folder.glob(f"*/{_META}"):
            found.append(Version(**json.loads(meta.read_text(encoding="utf-8"))))
        return sorted(found, key=lambda v: v.id, reverse=True)

    def files_of(self, version_id: str) -> Path:
        """The folder holding a kept version's files; KeyError for an unknown id."""
        if version_id not in {v.id for v in self.versions()}:
            raise KeyError(version_id)
        return self.folder / version_id

    def record(
        self, *, ruleset_version: str, previous: str | None, who: str, action: str, summary: str
    ) -> Version:
        """Keep the live folder's files as a new version, log it, and commit it to git if
        the live folder is in a working tree."""
        self.folder.mkdir(exist_ok=True)
        number = len(self.versions()) + 1
        version = Version(
            id=f"{number:04d}-{ruleset_version}",
            ruleset_version=ruleset_version,
            previous=previous,
            who=who,
            when=datetime.now(UTC).isoformat(timespec="seconds"),
            action=action,
            summary=summary,
        )
        target = self.folder / version.id
        shutil.copytree(self.live_dir, target, ignore=shutil.ignore_patterns(".*", "schemas"))
        (target / _META).write_text(json.dumps(asdict(version), indent=2) + "\n", encoding="utf-8")
        with (self.folder / AUDIT_LOG).open("a", encoding="utf-8") as log:
            log.write(json.dumps(asdict(version), sort_keys=True) + "\n")
        if action != "found":  # what was live is already in git, if anything is
            _commit(self.live_dir, f"{action} {ruleset_version} by {who}: {summary}")
        return version

    def audit(self) -> list[dict[str, object]]:
        path = self.folder / AUDIT_LOG
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _commit(live_dir: Path, message: str) -> bool:
    """Commit the live folder when it is in a git working tree; False when it isn't."""
    top = _git(live_dir, "rev-parse", "--show-toplevel")
    if top is None:
        return False
    root = Path(top.strip())
    relative = str(live_dir.resolve().relative_to(root.resolve()))
    _git(root, "add", "-A", "--", relative)
    # An identity of its own where the repository has none, so a commit never fails on it.
    has_identity = _git(root, "config", "user.email") is not None
    identity = (
        [] if has_identity else ["-c", "user.name=Earmark Studio", "-c", "user.email=studio@earmark.invalid"]
    )
    _git(
        root,
        *identity,
        "commit",
        "--quiet",
        "--allow-empty",
        "-m",
        message,
        "--",
        relative,
    )
    return True


def _git(where: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(where), *args], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None
