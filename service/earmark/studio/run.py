"""`earmark studio`: Studio served by uvicorn, and the bundled sample it opens without
arguments (a working copy and a live folder made from the bundled pack)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from earmark.config import BUNDLED_RULES, Settings
from earmark.studio.app import create_app
from earmark.studio.guard import is_loopback, require_token_off_loopback
from earmark.studio.state import Studio

SAMPLE_CATALOG = BUNDLED_RULES.parents[1] / "examples" / "catalog.jsonl"
SAMPLE_DIR = BUNDLED_RULES.parents[1] / "build" / "studio-sample"


@dataclass(frozen=True)
class Sample:
    working_copy: Path
    live_dir: Path
    catalog: Path


def sample(folder: Path = SAMPLE_DIR) -> Sample:
    """The bundled sample, made on first use and kept (edits survive a restart); the
    bundled pack itself is never written."""
    working, live = folder / "working", folder / "live"
    for target in (working, live):
        if not target.exists():
            shutil.copytree(BUNDLED_RULES, target)
    return Sample(working, live, SAMPLE_CATALOG)


def serve_studio(
    settings: Settings,
    working_copy: Path,
    live_dir: Path,
    catalog: Path,
    *,
    server: str | None,
    metrics_url: str | None,
    address: str | None,
) -> None:
    """Serve until interrupted. Raises ConfigError before listening if the address is
    beyond loopback and no token is set."""
    host, _, port = (address or settings.studio_address).rpartition(":")
    require_token_off_loopback(host, settings.studio_token)
    studio = Studio(working_copy, live_dir, catalog, server=server, metrics_url=metrics_url)
    app = create_app(studio, token=settings.studio_token, loopback_only=is_loopback(host))
    print(
        f"Earmark Studio on http://{host}:{port}/ (working copy {working_copy}, live {live_dir})", flush=True
    )
    try:
        uvicorn.run(
            app,
            host=host.strip("[]"),
            port=int(port),
            log_level="warning",
            # A browser tab holds few connections; a client that stalls gives them up.
            limit_concurrency=64,
            timeout_keep_alive=5,
            h11_max_incomplete_event_size=64 * 1024,
        )
    finally:
        studio.close()
