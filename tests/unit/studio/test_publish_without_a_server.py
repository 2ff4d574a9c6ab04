"""Issue 24: with `--server` naming an address where nothing answers, a publish used to
wait the whole 15 s for it before showing its result. It now says at once that the
server does not answer; the pack is live all the same."""

from __future__ import annotations

import shutil
import socket
import time
from pathlib import Path

from earmark.config import BUNDLED_RULES
from earmark.studio.state import WAIT_FOR_SERVER_SECONDS, Studio

from helpers import EXAMPLES, set_boom_meetings


def _closed_port() -> int:
    with socket.socket() as probe:  # bound, then closed: nothing listens there
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_publish_does_not_wait_for_a_server_that_does_not_answer(tmp_path: Path) -> None:
    working, live = tmp_path / "working", tmp_path / "live"
    shutil.copytree(BUNDLED_RULES, working)
    shutil.copytree(BUNDLED_RULES, live)
    set_boom_meetings(working, 29)
    studio = Studio(working, live, EXAMPLES / "catalog.jsonl", server=f"127.0.0.1:{_closed_port()}")
    try:
        started = time.monotonic()
        result = studio.publish(who="Mia", summary="meetings 29", allow_breaking=False)
        took = time.monotonic() - started
    finally:
        studio.close()
    assert result.server_reports is not None and result.server_reports.startswith("no answer")
    assert result.published.version == studio.history.versions()[0].ruleset_version
    assert took < WAIT_FOR_SERVER_SECONDS / 2, f"waited {took:.1f} s for a server that is not there"
