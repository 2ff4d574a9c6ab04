"""A real Studio over HTTP: uvicorn serving the app on a free loopback port, in a thread,
over private copies of the bundled pack (a working copy and a live folder)."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from earmark.config import BUNDLED_RULES
from earmark.studio.app import create_app
from earmark.studio.run import studio_config
from earmark.studio.state import Studio

from helpers import EXAMPLES


@dataclass
class LiveStudio:
    url: str
    working: Path
    live: Path
    csrf: str
    studio: Studio

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)  # type: ignore[arg-type]


def start_studio(
    tmp_path: Path, *, token: str = "", loopback_only: bool = True, catalog: Path = EXAMPLES / "catalog.jsonl"
) -> Iterator[LiveStudio]:
    working, live = tmp_path / "working", tmp_path / "live"
    shutil.copytree(BUNDLED_RULES, working)
    shutil.copytree(BUNDLED_RULES, live)
    studio = Studio(working, live, catalog)
    app = create_app(studio, token=token, loopback_only=loopback_only)
    server = uvicorn.Server(studio_config(app, "127.0.0.1", 0))  # any free port, read back below
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "Studio did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield LiveStudio(f"http://127.0.0.1:{port}", working, live, app.csrf, studio)
    finally:
        server.should_exit = True
        thread.join(10)
        studio.close()


@pytest.fixture
def running_studio(tmp_path: Path) -> Iterator[LiveStudio]:
    yield from start_studio(tmp_path)
