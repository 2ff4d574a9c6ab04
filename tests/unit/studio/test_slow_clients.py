"""Slow clients against the real `earmark studio` process: 70 connections trickling
their headers once made every other request 503 for as long as they trickled."""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from earmark.config import BUNDLED_RULES
from earmark.studio.slow_clients import CONNECTIONS_PER_CLIENT, HEADER_SECONDS

from helpers import EXAMPLES, studio_process, wait_for

ATTACKERS = 70


@pytest.fixture
def studio_url(tmp_path: Path) -> Iterator[str]:
    working, live = tmp_path / "working", tmp_path / "live"
    shutil.copytree(BUNDLED_RULES, working)
    shutil.copytree(BUNDLED_RULES, live)
    process, url = studio_process(
        *(str(working), "--live", str(live), "--catalog", str(EXAMPLES / "catalog.jsonl"))
    )
    try:
        assert wait_for(lambda: _status(url) == 200, 30), process.poll()
        yield url
    finally:
        process.terminate()
        process.wait(20)


def _status(url: str) -> int:
    try:
        return httpx.get(url + "/static/studio.css", timeout=2).status_code
    except httpx.HTTPError:
        return 0


def _closed(sock: socket.socket) -> bool:
    sock.settimeout(0.01)
    try:
        while sock.recv(4096):  # a 429 first, then the close
            pass
        return True
    except TimeoutError:
        return False
    except OSError:
        return True


def test_slow_clients_neither_lock_others_out_nor_keep_their_connections(studio_url: str) -> None:
    port = int(studio_url.rpartition(":")[2])
    attackers = []
    for _ in range(ATTACKERS):  # another address than the merchandiser's browser
        sock = socket.socket()
        sock.bind(("127.0.0.2", 0))
        sock.connect(("127.0.0.1", port))
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        attackers.append(sock)
    stop = threading.Event()

    def trickle() -> None:  # a header line every half second, never the blank line
        while not stop.wait(0.5):
            for sock in attackers:
                with contextlib.suppress(OSError):  # closed by the server
                    sock.sendall(b"X-Slow: 1\r\n")

    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    try:
        # Past the per-client cap, connections are refused at once.
        assert wait_for(lambda: sum(map(_closed, attackers)) >= ATTACKERS - CONNECTIONS_PER_CLIENT, 5)
        # Each answered at once, not after the attackers' headers time out (HEADER_SECONDS):
        # a bound on each call holds on a loaded machine, where the 20 together took 6 s.
        timed = []
        for _ in range(20):
            started = time.monotonic()
            timed.append((_status(studio_url), time.monotonic() - started))
        assert [200] * 20 == [status for status, _ in timed]
        assert max(took for _, took in timed) < HEADER_SECONDS / 3, timed
        # The ones kept must finish their headers in time, trickle as they may.
        assert wait_for(lambda: all(map(_closed, attackers)), HEADER_SECONDS + 5)
    finally:
        stop.set()
        trickler.join(5)
        for sock in attackers:
            sock.close()
