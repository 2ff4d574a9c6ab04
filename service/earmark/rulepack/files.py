"""A pack directory's files: which are read, reading each safely, and the version digest.

Only plain files inside the pack directory are read. Every byte read goes into the digest,
with the file's name, so that equal files give an equal version on every pod, and is kept,
so that a snapshot of the pack holds exactly what was checked.

A folder may be replaced while it is read (a publish, a ConfigMap's `..data` flip, an
editor's save): each file's identity is noted before it is read, and `changed_since_read`
says whether any file, or the list of files, is no longer what was read, so that a load
never passes off a file-by-file mix of two versions as a pack.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from earmark.diagnostics import Findings, Location
from earmark.rulepack.source import MAX_FILE_VALUES, Outline, SourceFile, outline, parse_yaml, read_bytes

MANIFEST = "pack.yaml"
EXAMPLES_DIR = "examples"
# A ConfigMap can't hold a folder, so a pack mounted from one is flat: examples/x.yaml is
# the key examples--x.yaml. A flat pack reads the same, with the same version.
FLAT_EXAMPLES = "examples--"


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
        self.sources: dict[str, bytes] = {}  # relative path -> the bytes read
        self._identities: dict[Path, _Identity | None] = {}  # as each file was before it was read
        self._listings: dict[tuple[Path, bool], list[Path]] = {}  # (folder, flat examples)
        self._raw: dict[Path, tuple[bytes | None, Outline | None]] = {}

    @property
    def digest(self) -> str:
        return self._digest.hexdigest()

    def rule_files(self) -> list[Path]:
        """The rule files, in name order: every YAML file beside the manifest."""
        return self._listed(self.directory)

    def case_files(self) -> list[Path]:
        """examples/*.yaml, and in a flat pack examples--*.yaml beside the manifest."""
        return self._listed(self.directory / EXAMPLES_DIR) + self._listed(self.directory, flat_examples=True)

    def _listed(self, folder: Path, *, flat_examples: bool = False) -> list[Path]:
        self._listings[(folder, flat_examples)] = found = _yaml_files(folder, flat_examples=flat_examples)
        return found

    def changed_since_read(self) -> bool:
        """True if a file read so far is no longer the file that was read, or a folder
        listed so far no longer lists the same files."""
        return any(_identity(path) != seen for path, seen in self._identities.items()) or any(
            _yaml_files(folder, flat_examples=flat) != listed
            for (folder, flat), listed in self._listings.items()
        )

    def read(self, path: Path) -> SourceFile | None:
        """The parsed file, or None when it is absent or could not be read or parsed (the
        reason is recorded, except for a file that simply isn't there)."""
        raw, _ = self.read_raw(path)
        if raw is None:
            return None
        source, problems = parse_yaml(raw, display_path(path))
        self.findings.add(problems)
        return source

    def rule_items(self, path: Path) -> tuple[tuple[int, int], ...]:
        """Where each rule of a rule file starts, counted without parsing it (see outline)."""
        _, shape = self.read_raw(path)
        return shape.rules if shape is not None else ()

    def read_raw(self, path: Path) -> tuple[bytes | None, Outline | None]:
        """The file's bytes and outline, read once; None when it can't be read, or holds
        more values than a rule file may (recorded, like every reason)."""
        if path not in self._raw:
            self._raw[path] = self._read_raw(path)
        return self._raw[path]

    def _read_raw(self, path: Path) -> tuple[bytes | None, Outline | None]:
        shown = display_path(path)
        where = Location(shown)
        # Noted before reading: a file replaced after this no longer matches it.
        self._identities[path] = _identity(path)
        if not os.path.lexists(path):
            return None, None
        try:
            resolved = path.resolve(strict=True)
        except FileNotFoundError:
            self.findings.error(where, "unreadable", "a link to a file that does not exist")
            return None, None
        except (OSError, RuntimeError):  # Python 3.11 raises RuntimeError for a loop of links
            self.findings.error(where, "unreadable", "a loop of links that leads to no file")
            return None, None
        # Rule files come from the pack directory only: a symlink out of it is refused.
        if not resolved.is_relative_to(self.root):
            self.findings.error(where, "outside-pack", "links outside the pack directory")
            return None, None
        raw, problems = read_bytes(path, shown)
        if raw is None:
            self.findings.add(problems)
            return None, None
        # The version covers every file that decides, by name and content.
        relative = path.relative_to(self.directory).as_posix()
        if relative.startswith(FLAT_EXAMPLES):  # named as in a folder: one version either way
            relative = f"{EXAMPLES_DIR}/{relative.removeprefix(FLAT_EXAMPLES)}"
        self._digest.update(relative.encode() + b"\0" + raw + b"\0")
        self.sources[relative] = raw
        shape = outline(raw)
        if shape is not None and shape.values > MAX_FILE_VALUES:
            self.findings.error(
                where,
                "too-big",
                f"the file holds more than {MAX_FILE_VALUES:,} values; rule files are written by "
                "people: split it, or remove pasted data",
            )
            return None, shape
        return raw, shape


def pack_file_paths(directory: Path) -> list[Path]:
    """Every file a load of `directory` reads, as it is now: the manifest, the rule files
    and the example cases (a publish copies exactly these)."""
    manifest = directory / MANIFEST
    found = [manifest] if os.path.lexists(manifest) else []
    return (
        found
        + _yaml_files(directory)
        + _yaml_files(directory / EXAMPLES_DIR)
        + _yaml_files(directory, flat_examples=True)
    )


_Identity = tuple[int, int, int, int]


def _identity(path: Path) -> _Identity | None:
    """What tells one file from its replacement: device, inode, size and change time of
    what the path leads to now (links followed, as a read follows them)."""
    try:
        status = path.stat()
    except (OSError, RuntimeError):  # RuntimeError: a loop of links, on Python 3.11
        return None
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)


def _yaml_files(directory: Path, *, flat_examples: bool = False) -> list[Path]:
    """The YAML files of `directory` but the manifest: its rule files, or with
    `flat_examples`, its examples--*.yaml."""
    if not directory.is_dir():
        return []
    return sorted(
        p
        for p in directory.iterdir()
        if p.suffix in (".yaml", ".yml")
        and p.name != MANIFEST
        and not p.name.startswith(".")
        and p.name.startswith(FLAT_EXAMPLES) == flat_examples
    )
