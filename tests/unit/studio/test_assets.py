"""The front-end Studio ships is what its sources build to: `make assets` rebuilds it from
frontend/ (npm packages pinned by the lockfile), and this test rebuilds it again and
compares byte for byte."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from helpers import ROOT

FRONTEND = ROOT / "frontend"
SHIPPED = ROOT / "service" / "earmark" / "studio" / "static"


def test_the_shipped_assets_match_a_fresh_build(tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node, "Node.js is needed to build Studio's assets"
    assert (FRONTEND / "node_modules" / "esbuild").is_dir(), "run `make assets` (npm ci in frontend/)"
    subprocess.run([node, "build.mjs", str(tmp_path)], cwd=FRONTEND, check=True, timeout=120)
    built = sorted(p.name for p in tmp_path.iterdir())
    assert ["studio.css", "studio.js"] == built
    for name in built:
        assert (tmp_path / name).read_bytes() == (SHIPPED / name).read_bytes(), (
            f"{name} is stale: run `make assets`"
        )


def test_the_pages_load_nothing_from_the_internet() -> None:
    templates = ROOT / "service" / "earmark" / "studio" / "templates"
    for page in templates.glob("*.html"):
        text = page.read_text()
        for attribute in ("src=", "href="):
            for value in text.split(attribute)[1:]:
                assert not value.lstrip("\"'").startswith(("http:", "https:", "//")), (page.name, value[:60])
