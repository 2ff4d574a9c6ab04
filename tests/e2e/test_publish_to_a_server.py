"""`earmark publish` and `earmark status` against a running server: a working copy that
would be refused changes nothing, a good one goes live whole, and status shows which
version serves."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grpc

from earmark.config import BUNDLED_RULES

from helpers import serve_process, set_boom_meetings, unanswered_address, wait_for, wait_serving


def _earmark(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "earmark", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_publish_goes_live_whole_and_status_shows_it(tmp_path: Path) -> None:
    live, work = tmp_path / "live", tmp_path / "work"
    shutil.copytree(BUNDLED_RULES, live)
    shutil.copytree(BUNDLED_RULES, work)
    server = serve_process({"EARMARK_RULES": str(live)})
    try:
        address = server.address
        with grpc.insecure_channel(address) as channel:
            wait_serving(channel, server)
        before = _earmark("status", address)
        assert 0 == before.returncode, before.stderr
        version = before.stdout.split("serving ", 1)[1].split()[0]

        # A working copy that a reload would refuse: nothing is written.
        set_boom_meetings(work, -30)  # office headsets would lose meetings: cases fail
        refused = _earmark("publish", str(work), str(live))
        assert 1 == refused.returncode
        assert "error[example-failed]" in refused.stderr and "not published" in refused.stderr
        assert (BUNDLED_RULES / "talking.yaml").read_text() == (live / "talking.yaml").read_text()

        set_boom_meetings(work, 28)
        published = _earmark("publish", str(work), str(live))
        assert 0 == published.returncode, published.stderr
        new_version = published.stdout.split()[1]
        assert new_version != version and f"(was {version})" in published.stdout
        assert (work / "talking.yaml").read_text() == (live / "talking.yaml").read_text()
        assert not list(tmp_path.glob(".live-publishing-*"))  # the old content is cleaned up

        def serving_new() -> bool:
            return f"serving {new_version}" in _earmark("status", address).stdout

        assert wait_for(serving_new, 20), _earmark("status", address).stdout
        status = _earmark("status", address).stdout
        assert "reloads: " in status and "watching the rules folder" in status
    finally:
        server.terminate()
        server.communicate(timeout=30)


def test_status_of_nothing_listening_says_so() -> None:
    with unanswered_address() as address:
        done = _earmark("status", address, "--timeout", "1")
    assert 1 == done.returncode
    assert "did not answer: UNAVAILABLE" in done.stderr or "DEADLINE_EXCEEDED" in done.stderr
