"""A pack directory's files: which are read, reading each safely, and the version digest.

Only plain files inside the pack directory are read. Every byte read goes into the digest,
with the file's name, so that equal files give an equal version on every pod.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from earmark.errors import Findings, Location
from earmark.rulepack.source import SourceFile, parse_yaml, read_bytes

MANIFEST = "pack.yaml"
EXAMPLES_DIR = "examples"


def display_path(path: Path) -> str:
    """A path as an author would type it: relative to the working directory when inside it."""
    # abspath, not resolve(): a loop of links must still have a name to report.
    try:
        return str(Path(os.path.abspath(path)).relative_to(os.path.abspath(Path.cwd())))
    except ValueError:
        return str(path)


class PackFiles:
    """Reads the files of one pack directory, recording in `findings` why any could not be
    read (at once: a later stage must know that a file is missing from what it checks)."""

    def __init__(self, directory: Path, findings: Findings) -> None:
        self.directory = directory
        self.root = directory.resolve()
        self.findings = findings
        self._digest = hashlib.sha256()

    @property
    def digest(self) -> str:
        return self._digest.hexdigest()

    def rule_files(self) -> list[Path]:
        """The rule files, in name order: every YAML file beside the manifest."""
        return _yaml_files(self.directory)

    def case_files(self) -> list[Path]:
        return _yaml_files(self.directory / EXAMPLES_DIR)

    def read(self, path: Path) -> SourceFile | None:
        """The parsed file, or None when it is absent or could not be read or parsed (the
        reason is recorded, except for a file that simply isn't there)."""
        shown = display_path(path)
        where = Location(shown)
        if not os.path.lexists(path):
            return None
        try:
            resolved = path.resolve(strict=True)
        except FileNotFoundError:
            self.findings.error(where, "unreadable", "a link to a file that does not exist")
            return None
        except (OSError, RuntimeError):  # Python 3.11 raises RuntimeError for a loop of links
            self.findings.error(where, "unreadable", "a loop of links that leads to no file")
            return None
        # Rule files come from the pack directory only: a symlink out of it is refused.
        if not resolved.is_relative_to(self.root):
            self.findings.error(where, "outside-pack", "links outside the pack directory")
            return None
        raw, problems = read_bytes(path, shown)
        if raw is None:
            self.findings.add(problems)
            return None
        # The version covers every file that decides, by name and content.
        self._digest.update(path.relative_to(self.directory).as_posix().encode() + b"\0" + raw + b"\0")
        source, problems = parse_yaml(raw, shown)
        self.findings.add(problems)
        return source


def _yaml_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(
        p
        for p in directory.iterdir()
        if p.suffix in (".yaml", ".yml") and p.name != MANIFEST and not p.name.startswith(".")
    )
