"""Studio over private copies of the bundled pack (a working copy and a live folder),
called in-process through httpx.ASGITransport (no socket), or,
where the connection itself is under test, served by uvicorn on a free loopback port."""

from __future__ import annotations

import asyncio
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    app: Any = None  # set when called in-process

    def client(self, **kwargs: Any) -> httpx.Client | InProcess:
        if self.app is not None:
            return InProcess(self.app, self.url, **kwargs)
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)


class InProcess:
    """httpx's AsyncClient over httpx.ASGITransport (the app called in-process, no socket),
    for synchronous tests: each request runs to completion on the client's own loop."""

    def __init__(self, app: Any, base_url: str, **kwargs: Any) -> None:
        self._loop = asyncio.new_event_loop()
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        self._client = httpx.AsyncClient(transport=transport, base_url=base_url, **kwargs)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self._loop.run_until_complete(self._client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def __enter__(self) -> InProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.run_until_complete(self._client.aclose())
        self._loop.close()


def start_studio(
    tmp_path: Path,
    *,
    token: str = "",
    loopback_only: bool = True,
    catalog: Path = EXAMPLES / "catalog.jsonl",
    over_http: bool = False,
) -> Iterator[LiveStudio]:
    working, live = tmp_path / "working", tmp_path / "live"
    shutil.copytree(BUNDLED_RULES, working)
    shutil.copytree(BUNDLED_RULES, live)
    studio = Studio(working, live, catalog)
    app = create_app(studio, token=token, loopback_only=loopback_only)
    if not over_http:
        try:
            yield LiveStudio("http://127.0.0.1", working, live, app.csrf, studio, app)
        finally:
            studio.close()
        return
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


@pytest.fixture
def studio_over_http(tmp_path: Path) -> Iterator[LiveStudio]:
    yield from start_studio(tmp_path, over_http=True)
