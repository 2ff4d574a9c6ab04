"""The files Studio may touch: the `.yaml` files of the working copy, read and written
safely, and a check of an unsaved text against the rest of the pack.

Studio writes the files that decide what shoppers see, from requests a browser sends, so
every path is checked here: relative, inside the folder, a `.yaml` file, no symlink that
leads out, and no larger than a rule file may be. Nothing in a file is ever run; it is
parsed by the pack loader's safe YAML reader like any rule file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from earmark.diagnostics import Location, Problem
from earmark.errors import FileRefused, PackError
from earmark.rulepack.source import MAX_FILE_BYTES

SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class CheckedText:
    problems: list[Problem]  # every problem of the pack, as paths relative to its folder
    version: str | None  # the pack's version with this text, when it loads


class Workspace:
    """One folder of `.yaml` files (a working copy, or the live folder)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def root(self) -> Path:
        # Resolved on every use: a published live folder may be a link that now points
        # at a new copy.
        return self.folder.resolve()

    def files(self) -> list[str]:
        """Every `.yaml` file, as a relative path, in name order (the manifest first)."""
        found = []
        for path in self.root.rglob("*"):
            relative = path.relative_to(self.root)
            if (
                path.suffix in SUFFIXES
                and path.is_file()
                and not any(p.startswith(".") for p in relative.parts)
            ):
                found.append(relative.as_posix())
        return sorted(found, key=lambda p: (p != "pack.yaml", p.count("/"), p))

    def path(self, relative: str) -> Path:
        """The file `relative` names, or FileRefused if it would be outside the folder, not a
        rule file, or reached through a link."""
        name = PurePosixPath(relative)
        if not relative or name.is_absolute() or ".." in name.parts or "\\" in relative:
            raise FileRefused(f"{relative!r} is not a file of this pack")
        if name.suffix not in SUFFIXES or any(part.startswith(".") for part in name.parts):
            raise FileRefused(f"{relative!r}: Studio edits only the pack's .yaml files")
        path = self.root / name
        # Each part must be a real folder or file here: a link could lead anywhere.
        current = self.root
        for part in name.parts:
            current = current / part
            if current.is_symlink():
                raise FileRefused(f"{relative!r} is a link; Studio does not follow links")
        if not path.resolve().is_relative_to(self.root):
            raise FileRefused(f"{relative!r} is not a file of this pack")
        return path

    def read(self, relative: str) -> str:
        path = self.path(relative)
        if not path.is_file():
            raise FileRefused(f"{relative!r} does not exist")
        return path.read_text(encoding="utf-8")

    def write(self, relative: str, text: str) -> None:
        """Replace the file in one step: a watching server or editor never sees half of it."""
        data = text.encode("utf-8")
        if len(data) > MAX_FILE_BYTES:
            raise FileRefused(f"{len(data):,} bytes; a rule file may have at most {MAX_FILE_BYTES:,}")
        path = self.path(relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, staged = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(staged, path)
        except BaseException:
            os.unlink(staged)
            raise

    def check(self, texts: dict[str, str], load: Callable[[Path], str]) -> CheckedText:
        """Every problem of the pack if each file of `texts` held its text, without saving
        them: the folder is copied aside with the texts in place, and loaded by `load`,
        which returns the version or raises PackError."""
        for relative, text in texts.items():
            if len(text.encode("utf-8")) > MAX_FILE_BYTES:
                raise FileRefused(f"a rule file may have at most {MAX_FILE_BYTES:,} bytes")
            self.path(relative)  # refuses a path outside the pack before anything is copied
        with tempfile.TemporaryDirectory(prefix="earmark-check-") as scratch:
            copy = Path(scratch) / self.root.name
            shutil.copytree(self.root, copy, symlinks=True)
            for relative, text in texts.items():
                (copy / relative).parent.mkdir(parents=True, exist_ok=True)
                (copy / relative).write_text(text, encoding="utf-8")
            try:
                version = load(copy)
            except PackError as exc:
                return CheckedText([_relative_to(p, copy) for p in exc.problems], None)
            return CheckedText([], version)


def _relative_to(problem: Problem, folder: Path) -> Problem:
    location = problem.location
    try:
        path = Path(os.path.abspath(location.path)).relative_to(folder).as_posix()
    except ValueError:
        path = location.path
    return Problem(
        Location(path, location.line, location.column), problem.code, problem.message, problem.severity
    )
