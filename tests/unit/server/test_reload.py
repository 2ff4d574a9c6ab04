"""Publishing rule changes live: a good edit goes live, a broken or failing one is refused
and the last good pack keeps serving, calls in flight never fail or mix two packs, and
replaced rulesets are freed."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from earmark.config import BUNDLED_RULES
from earmark.errors import PackUnavailable
from earmark.evaluation.evaluator import Evaluator
from earmark.evaluation.examples import load_checked
from earmark.rulepack.loader import load_pack
from earmark.server.live import LivePack
from earmark.server.metrics import Metrics
from earmark.server.reload import Reloader
from earmark.server.wire import describe_message
from earmark.v1 import earmark_pb2 as pb

from helpers import (
    BOOM_ONLY,
    meetings_score,
    serving,
    set_boom_meetings,
    wait_for,
)


def test_a_good_edit_goes_live(pack_copy: Path) -> None:
    live = LivePack(load_checked(pack_copy))
    reloader = Reloader(live, pack_copy)
    before, score = meetings_score(live, BOOM_ONLY)
    assert not reloader.reload("unchanged")  # same files: nothing to publish
    set_boom_meetings(pack_copy, 24)
    assert reloader.reload("test")
    after, new_score = meetings_score(live, BOOM_ONLY)
    assert before != after
    assert score + 2 == new_score
    assert (2, 0, "") == (
        reloader.status.reloads_succeeded,
        reloader.status.reloads_failed,
        reloader.status.last_reload_error,
    )


def test_a_broken_edit_is_refused_and_the_last_good_pack_keeps_serving(pack_copy: Path) -> None:
    live = LivePack(load_checked(pack_copy))
    reloader = Reloader(live, pack_copy)
    version, score = meetings_score(live, BOOM_ONLY)
    (pack_copy / "zz.yaml").write_text("rules:\n  - id: x\n    description: [broken\n")
    assert not reloader.reload("test")
    assert (version, score) == meetings_score(live, BOOM_ONLY)
    assert (
        "zz.yaml:4:" in reloader.status.last_reload_error
        and "yaml-syntax" in reloader.status.last_reload_error
    )
    assert 1 == reloader.status.reloads_failed


def test_a_pack_that_fails_its_own_examples_is_refused(pack_copy: Path) -> None:
    live = LivePack(load_checked(pack_copy))
    reloader = Reloader(live, pack_copy)
    version, _ = meetings_score(live, BOOM_ONLY)
    set_boom_meetings(pack_copy, -30)  # office headsets would no longer win meetings
    assert not reloader.reload("test")
    assert version == meetings_score(live, BOOM_ONLY)[0]
    assert "examples/talking.yaml:" in reloader.status.last_reload_error
    assert "error[example-failed]" in reloader.status.last_reload_error


def test_retired_evaluators_wait_for_their_last_request() -> None:
    count = 3
    pack = load_pack(BUNDLED_RULES)
    live = LivePack(Evaluator(pack))
    held = []
    contexts = [live.use() for _ in range(count)]
    for context in contexts:
        held.append(context.__enter__())
    first = held[0]
    live.swap(Evaluator(pack))
    assert not first.rules.closed  # still in use
    for context in contexts[:-1]:
        context.__exit__(None, None, None)
    assert not first.rules.closed
    contexts[-1].__exit__(None, None, None)
    assert first.rules.closed


def test_an_unexpected_error_while_reloading_keeps_the_last_pack(
    pack_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = LivePack(load_checked(pack_copy))
    reloader = Reloader(live, pack_copy)
    version, _ = meetings_score(live, BOOM_ONLY)

    def disk_error(directory: Path) -> Evaluator:
        raise OSError("input/output error")

    monkeypatch.setattr("earmark.server.reload.load_checked", disk_error)  # a fake at the boundary
    assert not reloader.reload("test")
    assert version == meetings_score(live, BOOM_ONLY)[0]
    assert "reload failed: input/output error" == reloader.status.last_reload_error
    assert 1 == reloader.status.reloads_failed


@pytest.mark.parametrize("how", ["removed", "moved away"])
def test_the_watcher_reattaches_when_its_directory_comes_back(pack_copy: Path, how: str) -> None:
    """After `rm -rf` or `mv` of the rules directory and a restore of a changed pack, the
    pack used to stay stale until SIGHUP, with nothing logged."""
    live = LivePack(load_checked(pack_copy))
    stop = threading.Event()
    reloader = Reloader(live, pack_copy)
    reloader.watch(stop)
    try:
        assert wait_for(lambda: reloader.status.watching)
        before, _ = meetings_score(live, BOOM_ONLY)
        backup = pack_copy.with_name("backup")
        shutil.copytree(pack_copy, backup)
        if how == "removed":
            shutil.rmtree(pack_copy)
        else:
            pack_copy.rename(pack_copy.with_name("old"))
        assert wait_for(lambda: not reloader.status.watching)
        assert "the rules directory was" in reloader.status.watch_problem
        assert reloader.status.watch_stopped_at is not None
        set_boom_meetings(backup, 28)
        backup.rename(pack_copy)  # the restore, with a change in it
        assert wait_for(lambda: meetings_score(live, BOOM_ONLY)[0] != before)
        assert reloader.status.watching and "" == reloader.status.watch_problem
    finally:
        stop.set()


def test_describe_rules_shows_the_watch_gap_and_stays_small(pack_copy: Path) -> None:
    live = LivePack(load_checked(pack_copy))
    reloader = Reloader(live, pack_copy)
    for i in range(3):  # three files whose problems quote half a megabyte each
        (pack_copy / f"zz-{i}.yaml").write_text(
            "rules:\n"
            + "".join(f"  - id: bad-{j}\n    description: {'x' * 500_000}\n" for j in range(1))
            + "".join(f"  - id: Bad{j}\n" for j in range(40))
        )
    assert not reloader.reload("test")
    stop = threading.Event()
    reloader.watch(stop)
    try:
        assert wait_for(lambda: reloader.status.watching)
        shutil.rmtree(pack_copy)
        assert wait_for(lambda: not reloader.status.watching)
        with serving(live, reloader) as server:
            described = server.stub.DescribeRules(pb.DescribeRulesRequest(), timeout=5)
    finally:
        stop.set()
    assert described.ByteSize() < 64 * 1024
    assert "more problems" in described.last_reload_error
    assert not described.watching and "removed" in described.watch_problem
    assert described.HasField("watch_stopped_at")


def test_a_reload_that_breaks_the_contract_goes_live_with_a_warning_describe_shows(pack_copy: Path) -> None:
    live = LivePack(load_checked(pack_copy))
    price = "  price_usd:\n    type: number\n    min: 0\n"
    manifest = pack_copy / "pack.yaml"
    manifest.write_text(manifest.read_text().replace(price, price + "    max: 2000\n", 1))
    reloader = Reloader(live, pack_copy)
    with capture_logs() as logs:
        assert reloader.reload("test")
    assert [("contract_changed", "warning")] == [
        (line["event"], line["log_level"]) for line in logs if line["event"] == "contract_changed"
    ]
    described = describe_message(live.current(), reloader.status, 50)
    assert 1 == len(described.contract_changes)
    assert described.contract_changes[0].startswith("BREAKING: specs.price_usd: range narrowed")


def test_a_publish_is_followed_at_once_and_is_not_a_warning(pack_copy: Path, tmp_path: Path) -> None:
    """Every publish replaces the live folder; that used to log `rules_watch_stopped`, a
    warning that pages people, and to show a watch gap in DescribeRules."""
    from earmark.authoring.publish import publish

    live = LivePack(load_checked(pack_copy))
    work = tmp_path / "work"
    shutil.copytree(pack_copy, work)
    stop = threading.Event()
    with capture_logs() as logs:
        reloader = Reloader(live, pack_copy)
        reloader.watch(stop)
        try:
            assert wait_for(lambda: reloader.status.watching)
            before, _ = meetings_score(live, BOOM_ONLY)
            for amount in (28, 29):
                set_boom_meetings(work, amount)
                published = publish(work, pack_copy)
                assert wait_for(lambda v=published.version: meetings_score(live, BOOM_ONLY)[0] == v)
        finally:
            stop.set()
    assert before != published.version
    events = [line["event"] for line in logs]
    assert "rules_watch_stopped" not in events
    assert 2 == events.count("rules_directory_replaced")
    assert reloader.status.watching and "" == reloader.status.watch_problem


def test_a_start_beside_a_refused_pack_serves_the_last_good_one(pack_copy: Path, tmp_path: Path) -> None:
    first = LivePack()
    assert Reloader(first, pack_copy, last_good=tmp_path / "kept").start()
    good = first.current().pack.version
    (pack_copy / "zz.yaml").write_text("rules: [\n")
    restarted, metrics = LivePack(), Metrics()
    reloader = Reloader(restarted, pack_copy, metrics, last_good=tmp_path / "kept")
    with capture_logs() as logs:
        assert reloader.start()
    assert good == restarted.current().pack.version
    assert reloader.status.last_reload_error.startswith(
        "serving the last good pack; the rules on disk are refused"
    )
    assert "zz.yaml:2:1" in reloader.status.last_reload_error
    assert 1 == metrics.registry.get_sample_value("earmark_rules_refused")
    assert ["pack_refused_at_start", "serving_last_good"] == [
        line["event"] for line in logs if line["log_level"] in ("error", "warning")
    ]


def test_without_any_good_pack_a_start_waits_and_the_first_good_pack_goes_live(
    pack_copy: Path, tmp_path: Path
) -> None:
    (pack_copy / "zz.yaml").write_text("rules: [\n")
    live, told = LivePack(), []
    reloader = Reloader(live, pack_copy, last_good=tmp_path / "never", on_live=lambda: told.append(1))
    assert not reloader.start()
    with pytest.raises(PackUnavailable):
        live.current()
    (pack_copy / "zz.yaml").unlink()
    assert reloader.reload("fixed")
    assert [1] == told and live.current().pack.version == load_pack(pack_copy).version
    assert (tmp_path / "never" / "pack").is_symlink()  # now kept for the next start


def test_a_burst_of_reload_requests_is_one_reload(pack_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    live = LivePack(load_checked(pack_copy))
    reloader = Reloader(live, pack_copy)
    loads = []
    real = load_checked

    def slow_load(directory: Path) -> Evaluator:
        loads.append(directory)
        threading.Event().wait(0.3)
        return real(directory)

    monkeypatch.setattr("earmark.server.reload.load_checked", slow_load)
    stop = threading.Event()
    reloader.serve_requests(stop)
    try:
        for _ in range(60):
            reloader.request("SIGHUP")
        assert wait_for(lambda: reloader.status.last_reload_at is not None and len(loads) >= 1)
        threading.Event().wait(1.5)
    finally:
        stop.set()
    assert 1 <= len(loads) <= 2  # the one running when the burst came, and one for the rest
