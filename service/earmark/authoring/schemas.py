"""`earmark schemas PACK`: the pack's JSON Schemas, written to PACK/schemas/ for editors.

The schemas depend on what pack.yaml declares, so they are made from the manifest alone:
an author whose rules don't load yet still gets completion while fixing them. Each pack
file points at its schema with a first line such as

    # yaml-language-server: $schema=schemas/rules.schema.json

which the YAML language server (VS Code's YAML extension, for one) reads. The schemas are
not part of the pack's version: they are made from it and decide nothing.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from earmark.rulepack.files import EXAMPLES_DIR, MANIFEST
from earmark.rulepack.json_schema import (
    EXAMPLES_SCHEMA,
    PACK_SCHEMA,
    RULES_SCHEMA,
    SCHEMA_DIR,
    pack_schemas,
)
from earmark.rulepack.loader import load_vocabulary

MODELINE = "# yaml-language-server: $schema="


def schema_texts(pack_dir: Path) -> dict[str, str]:
    """Each schema file's content, by file name. Raises PackError if pack.yaml can't be read."""
    schemas = pack_schemas(load_vocabulary(pack_dir))
    return {name: json.dumps(schema, indent=2, ensure_ascii=False) + "\n" for name, schema in schemas.items()}


def stale_schemas(pack_dir: Path) -> list[str]:
    """The schema files under PACK/schemas/ that are missing or differ from what the pack
    declares now (empty when they are up to date)."""
    folder = pack_dir / SCHEMA_DIR
    stale = []
    for name, text in schema_texts(pack_dir).items():
        path = folder / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(f"{SCHEMA_DIR}/{name}")
    return stale


def write_schemas(pack_dir: Path) -> list[Path]:
    """Write the schemas (each atomically, so an editor never reads half a file)."""
    folder = pack_dir / SCHEMA_DIR
    folder.mkdir(exist_ok=True)
    written = []
    for name, text in schema_texts(pack_dir).items():
        path = folder / name
        fd, staged = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(staged, path)
        written.append(path)
    return written


def schema_for_file(pack_dir: Path, path: Path) -> str:
    """The schema file (as a path relative to `path`'s folder) that describes `path`, a file
    of the pack: what its modeline should name."""
    relative = path.relative_to(pack_dir)
    if relative.as_posix() == MANIFEST:
        name = PACK_SCHEMA
    elif relative.parts[0] == EXAMPLES_DIR:
        name = EXAMPLES_SCHEMA
    else:
        name = RULES_SCHEMA
    up = "../" * (len(relative.parts) - 1)
    return f"{up}{SCHEMA_DIR}/{name}"
