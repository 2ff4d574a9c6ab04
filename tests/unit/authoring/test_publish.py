"""How `earmark publish` makes a working copy live: the files are staged once, the staged
copy is what the gate checks and what goes live, in one step, and nothing but plain pack
files is ever published."""

from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from earmark.authoring import publish as publishing
from earmark.authoring.publish import publish
from earmark.config import BUNDLED_RULES
from earmark.errors import PackError, PublishRefused
from earmark.rulepack.loader import load_pack

from helpers import set_boom_meetings


def _copies(tmp_path: Path) -> tuple[Path, Path]:
    live, work = tmp_path / "live", tmp_path / "work"
    shutil.copytree(BUNDLED_RULES, live)
    shutil.copytree(BUNDLED_RULES, work)
    return live, work


def _versions(tmp_path: Path) -> list[str]:
    store = tmp_path / ".live.versions"
    return sorted(p.name for p in store.iterdir()) if store.exists() else []


def test_a_live_folder_becomes_a_link_to_the_version_that_was_checked(tmp_path: Path) -> None:
    live, work = _copies(tmp_path)
    set_boom_meetings(work, 28)
    done = publish(work, live)
    assert done.previous is not None and done.previous != done.version
    assert live.is_symlink() and done.files == live.resolve()
    assert (work / "talking.yaml").read_text() == (live / "talking.yaml").read_text()
    assert done.version == load_pack(live).version
    assert [done.version] == _versions(tmp_path)  # no staging folder, no old folder left
    assert ["live", "work"] == sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))


def test_each_publish_flips_the_link_and_keeps_earlier_versions_to_go_back_to(tmp_path: Path) -> None:
    live, work = _copies(tmp_path)
    set_boom_meetings(work, 28)
    first = publish(work, live)
    set_boom_meetings(work, 29)
    second = publish(work, live)
    assert second.previous == first.version and live.resolve().name == second.version
    assert sorted([first.version, second.version]) == _versions(tmp_path)
    assert "scores: {meetings: 28" in (first.files / "talking.yaml").read_text()  # untouched


def test_a_save_during_publish_does_not_go_live_unchecked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Studio save lands while the gate runs: what goes live, and the version reported,
    are the files that were checked; the save waits for the next publish."""
    live, work = _copies(tmp_path)
    set_boom_meetings(work, 28)
    checked = publishing.load_checked

    def check_while_someone_saves(folder: Path) -> object:
        set_boom_meetings(work, -30)  # this pack would fail its example cases
        return checked(folder)

    monkeypatch.setattr(publishing, "load_checked", check_while_someone_saves)
    done = publish(work, live)
    assert "scores: {meetings: 28" in (live / "talking.yaml").read_text()
    assert done.version == load_pack(live).version


def test_a_pack_that_would_be_refused_writes_nothing(tmp_path: Path) -> None:
    live, work = _copies(tmp_path)
    (work / "zz.yaml").write_text(
        "rules:\n  - id: x\n    description: d\n    when: {mic: laser}\n    then: {fit: 1}\n"
    )
    with pytest.raises(PackError) as refused:
        publish(work, live)
    assert any(p.location.path.endswith("work/zz.yaml") for p in refused.value.problems), refused.value
    assert not live.is_symlink() and not (live / "zz.yaml").exists()
    assert [] == _versions(tmp_path)


def test_links_and_special_files_are_refused_by_their_paths(tmp_path: Path) -> None:
    live, work = _copies(tmp_path)
    (work / "zz.yaml").symlink_to("/dev/zero")
    (work / "examples" / "more.yaml").symlink_to(work / "talking.yaml")
    with pytest.raises(PublishRefused) as refused:
        publish(work, live)
    message = str(refused.value)
    assert "work/zz.yaml is a link" in message and "work/examples/more.yaml is a link" in message
    os.mkfifo(work / "zz-pipe.yaml")
    (work / "zz.yaml").unlink()
    (work / "examples" / "more.yaml").unlink()
    with pytest.raises(PublishRefused, match=r"work/zz-pipe.yaml is not a plain file"):
        publish(work, live)
    assert [] == _versions(tmp_path) and not live.is_symlink()


def test_only_the_files_a_load_reads_are_published(tmp_path: Path) -> None:
    """A link to /etc/ssh, notes, schemas: none of it is part of the pack, none is copied."""
    live, work = _copies(tmp_path)
    (work / "keys").symlink_to("/etc/ssh")
    (work / "notes.txt").write_text("draft")
    set_boom_meetings(work, 28)
    publish(work, live)
    published = sorted(
        p.relative_to(live.resolve()).as_posix() for p in live.resolve().rglob("*") if p.is_file()
    )
    expected = sorted(
        p.relative_to(work).as_posix()
        for p in work.rglob("*.yaml")
        if p.is_file() and "schemas" not in p.parts
    )
    assert expected == published


# grpc's C core, imported by the command line for its serving commands, now and then logs
# a line of its own as the process exits ("E1204 17:20:00.902176 10807 ev_epoll1_linux.cc:373]
# ... epoll_wait error: Bad file descriptor", seen once in CI). It is not Earmark's output.
GRPC_CORE_LOG = re.compile(r"^[DIWE]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ \S+:\d+\]")


def _full_disk() -> None:
    # A file-size limit makes writes fail as a full disk does (EFBIG instead of ENOSPC),
    # without a small file system that a test can't mount.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


def test_a_write_that_fails_says_so_in_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    live, work = _copies(tmp_path)
    set_boom_meetings(work, 28)
    done = subprocess.run(
        [sys.executable, "-m", "earmark", "publish", str(work), str(live)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_full_disk,
        check=False,
    )
    assert 1 == done.returncode
    assert ["earmark: not published: cannot write the new version: File too large"] == [
        line for line in done.stderr.splitlines() if not GRPC_CORE_LOG.match(line)
    ]
    assert [] == _versions(tmp_path) and not live.is_symlink()
    assert (BUNDLED_RULES / "talking.yaml").read_text() == (live / "talking.yaml").read_text()


def test_a_breaking_change_is_refused_unless_allowed(tmp_path: Path) -> None:
    live, work = _copies(tmp_path)
    price = "  price_usd:\n    type: number\n    min: 0\n"
    text = (work / "pack.yaml").read_text()
    assert price in text
    (work / "pack.yaml").write_text(text.replace(price, price + "    max: 2000\n", 1))
    with pytest.raises(PublishRefused) as refused:
        publish(work, live)
    assert "BREAKING: specs.price_usd: range narrowed" in str(refused.value)
    assert "--allow-breaking" in str(refused.value)
    assert (BUNDLED_RULES / "pack.yaml").read_text() == (live / "pack.yaml").read_text()
    done = publish(work, live, allow_breaking=True)
    assert [("specs.price_usd", True)] == [(c.subject, c.breaking) for c in done.contract]
    assert (work / "pack.yaml").read_text() == (live / "pack.yaml").read_text()
