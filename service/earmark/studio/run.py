"""`earmark studio`: Studio served by uvicorn, and the bundled sample it opens without
arguments (a working copy and a live folder made from the bundled pack)."""

from __future__ import annotations

import os
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from earmark.config import BUNDLED_RULES, Address, Settings
from earmark.errors import ListenFailed
from earmark.studio.app import create_app
from earmark.studio.guard import is_loopback, require_token_off_loopback
from earmark.studio.slow_clients import guarded_protocol
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
    where = Address.parse(address or settings.studio_address)
    host, port = where.host, where.port
    require_token_off_loopback(host, settings.studio_token)
    studio = Studio(working_copy, live_dir, catalog, server=server, metrics_url=metrics_url)
    app = create_app(studio, token=settings.studio_token, loopback_only=is_loopback(host))
    # Bound here rather than by uvicorn, so that the line below names the real port even
    # when the address asks for any free one (port 0).
    family = socket.AF_INET6 if ":" in where.bind_host else socket.AF_INET
    try:
        listening = socket.create_server((where.bind_host, port), family=family)
    except OSError as exc:
        studio.close()
        why = os.strerror(exc.errno) if exc.errno else str(exc)
        raise ListenFailed(f"cannot listen on {where}: {why}") from exc
    port = listening.getsockname()[1]
    print(
        f"Earmark Studio on http://{host}:{port}/ (working copy {working_copy}, live {live_dir})", flush=True
    )
    try:
        uvicorn.Server(studio_config(app, host, port)).run(sockets=[listening])
    finally:
        listening.close()
        studio.close()


def studio_config(app: Any, host: str, port: int) -> uvicorn.Config:
    """How uvicorn serves Studio (the tests serve it the same way)."""
    return uvicorn.Config(
        app,
        host=host.strip("[]"),
        port=port,
        log_level="warning",
        # Slow clients finish their headers in time, a few connections each (slow_clients.py);
        # a client that stalls between requests gives its connection up after 5 s.
        http=guarded_protocol(),
        limit_concurrency=512,
        timeout_keep_alive=5,
        h11_max_incomplete_event_size=64 * 1024,
    )
