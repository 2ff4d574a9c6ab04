"""Publishing from Studio: through the publish gate, kept as a version with an audit line,
committed when the live folder is in git, and restorable through the same gate."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from earmark.config import BUNDLED_RULES
from earmark.errors import PackError
from earmark.studio.state import Studio

from helpers import EXAMPLES, set_boom_meetings


@pytest.fixture
def studio(tmp_path: Path) -> Iterator[Studio]:
    repository = tmp_path / "repo"
    live, working = repository / "rules", tmp_path / "working"
    shutil.copytree(BUNDLED_RULES, live)
    shutil.copytree(BUNDLED_RULES, working)
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start"],
    ):
        subprocess.run(["git", "-C", str(repository), *args], check=True, capture_output=True)
    made = Studio(working, live, EXAMPLES / "catalog.jsonl")
    yield made
    made.close()


def _git_log(live: Path) -> list[str]:
    out = subprocess.run(
        ["git", "-C", str(live), "log", "--format=%s"], check=True, capture_output=True, text=True
    )
    return out.stdout.splitlines()


def test_a_publish_is_kept_logged_and_committed(studio: Studio) -> None:
    before = studio.evaluator("live").pack.version  # type: ignore[union-attr]
    set_boom_meetings(studio.working.root, 28)
    done = studio.publish(who="Mia", summary="boom mics count less in meetings", allow_breaking=False)
    assert done.published.previous == before != done.published.version
    assert [v.action for v in studio.history.versions()] == ["publish", "found"]
    audit = studio.history.audit()
    expected = {
        "who": "Mia",
        "action": "publish",
        "previous": before,
        "ruleset_version": done.published.version,
    }
    assert expected.items() <= audit[-1].items()
    assert audit[-1]["summary"] == "boom mics count less in meetings" and audit[-1]["when"]
    log = _git_log(studio.live.root)
    assert log[0] == f"publish {done.published.version} by Mia: boom mics count less in meetings"
    kept = studio.history.files_of(done.version.id)
    assert (kept / "talking.yaml").read_text() == (studio.working.root / "talking.yaml").read_text()


def test_restore_publishes_the_old_files_again_through_the_gate(studio: Studio) -> None:
    original = (studio.live.root / "talking.yaml").read_text()
    set_boom_meetings(studio.working.root, 28)
    studio.publish(who="Mia", summary="try", allow_breaking=False)
    found = studio.history.versions()[-1]
    assert found.action == "found"
    restored = studio.restore(found.id, who="Max", allow_breaking=False)
    assert restored.published.version == found.ruleset_version
    assert original == (studio.live.root / "talking.yaml").read_text()
    assert ["found", "publish", "restore"] == [line["action"] for line in studio.history.audit()]
    assert _git_log(studio.live.root)[0].startswith(f"restore {found.ruleset_version} by Max")


def test_a_refused_publish_writes_and_keeps_nothing(studio: Studio) -> None:
    (studio.working.root / "zz.yaml").write_text("rules:\n  - id: x\n    when: {mic: laser}\n")
    live_before = (studio.live.root / "talking.yaml").read_text()
    with pytest.raises(PackError):
        studio.publish(who="Mia", summary="broken", allow_breaking=False)
    assert live_before == (studio.live.root / "talking.yaml").read_text()
    assert not (studio.live.root / "zz.yaml").exists()
    assert ["found"] == [line["action"] for line in studio.history.audit()]  # what was live, kept
    assert ["start"] == _git_log(studio.live.root)  # the "found" version commits no change
