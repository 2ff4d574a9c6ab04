"""Publishing from Studio: through the publish gate, kept as a version with an audit line,
committed when the live folder is in git, and restorable through the same gate."""

from __future__ import annotations

import shutil
import subprocess
import threading
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


def _publish(studio: Studio, amount: int) -> str:
    set_boom_meetings(studio.working.root, amount)
    return studio.publish(who="Mia", summary=f"meetings {amount}", allow_breaking=False).version.id


def test_ids_stay_unique_after_the_oldest_version_is_removed(studio: Studio) -> None:
    """Pruning the oldest kept version made the next id collide (HTTP 500, no record)."""
    _publish(studio, 28)
    shutil.rmtree(studio.history.folder / studio.history.versions()[-1].id)  # the "found" one
    first = _publish(studio, 29)
    second = _publish(studio, 27)
    ids = [v.id for v in studio.history.versions()]
    numbers = [i.split("-")[0] for i in ids]
    assert [second, first] == ids[:2] and sorted(set(numbers), reverse=True) == numbers


def test_a_damaged_version_is_shown_as_damaged_and_skipped(studio: Studio) -> None:
    kept = _publish(studio, 28)
    meta = studio.history.folder / kept / "version.json"
    meta.write_text(meta.read_text().replace('"who"', '"surprise": 1, "who"'))
    assert kept not in [v.id for v in studio.history.versions()]
    assert [kept] == [d.split(":")[0] for d in studio.history.damaged()]
    assert _publish(studio, 29) not in {kept}  # publishing still works beside it


def test_a_kept_version_naming_another_folder_is_refused(studio: Studio) -> None:
    kept = _publish(studio, 28)
    meta = studio.history.folder / kept / "version.json"
    meta.write_text(meta.read_text().replace(f'"id": "{kept}"', '"id": ".."'))
    with pytest.raises(KeyError):
        studio.history.files_of("..")
    assert any(d.startswith(kept) for d in studio.history.damaged())


def test_what_history_keeps_is_what_went_live(studio: Studio) -> None:
    done = studio.publish(who="Mia", summary="same", allow_breaking=False)
    kept = studio.history.files_of(done.version.id)
    assert done.published.version == studio.evaluator("live").pack.version  # type: ignore[union-attr]
    assert (kept / "talking.yaml").read_text() == (studio.live.root / "talking.yaml").read_text()


def test_a_git_failure_is_reported_not_ignored(studio: Studio) -> None:
    hook = studio.live.folder.parent / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'refused by the hook' >&2\nexit 1\n")
    hook.chmod(0o755)
    set_boom_meetings(studio.working.root, 28)
    done = studio.publish(who="Mia", summary="x", allow_breaking=False)
    assert done.published.version == studio.evaluator("live").pack.version  # type: ignore[union-attr]
    assert 1 == len(done.warnings) and "git commit failed: refused by the hook" in done.warnings[0]


def test_a_save_waits_for_a_publish_under_way(studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    """Studio's saves and publishes take one lock: a save that arrives while the gate
    runs lands after the publish, never inside it."""
    from earmark.authoring import publish as publishing

    checked = publishing.load_checked
    saves: list[threading.Thread] = []
    blocked: list[bool] = []

    def check_while_someone_saves(folder: Path) -> object:
        text = (studio.working.root / "talking.yaml").read_text().replace("meetings: 28", "meetings: -30")
        saver = threading.Thread(target=studio.save, args=("talking.yaml", text))
        saver.start()
        saver.join(0.5)
        saves.append(saver)
        blocked.append(saver.is_alive())
        return checked(folder)

    monkeypatch.setattr(publishing, "load_checked", check_while_someone_saves)
    set_boom_meetings(studio.working.root, 28)
    studio.publish(who="Mia", summary="x", allow_breaking=False)
    saves[0].join(10)
    assert [True] == blocked
    assert "meetings: 28" in (studio.live.root / "talking.yaml").read_text()
    assert "meetings: -30" in (studio.working.root / "talking.yaml").read_text()  # saved after


def test_a_publish_whose_flip_fails_leaves_no_record_and_no_audit_line(
    studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    from earmark.authoring import releases
    from earmark.errors import PublishRefused

    def refuse(link: Path, target: Path) -> None:  # a fake at the boundary: the rename fails
        raise PublishRefused("cannot replace rules: Read-only file system")

    monkeypatch.setattr(releases, "point", refuse)
    set_boom_meetings(studio.working.root, 28)
    with pytest.raises(PublishRefused):
        studio.publish(who="Mia", summary="x", allow_breaking=False)
    assert ["found"] == [v.action for v in studio.history.versions()]
    assert ["found"] == [line["action"] for line in studio.history.audit()]
