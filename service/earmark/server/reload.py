"""Publishing rule changes: load, check, compile, pass the examples, then swap.

The same gate guards start-up and every reload, so a pack that would be refused on a
reload also refuses to start. A refused pack never replaces the live one; its problems
are logged with file:line and reported through DescribeRules.
"""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import structlog
import watchfiles

from earmark.authoring.contract import ContractChange, contract_changes
from earmark.errors import MAX_REPORTED_PROBLEMS, PackError, PackUnavailable, clip
from earmark.evaluation.evaluator import Evaluator
from earmark.evaluation.examples import load_checked
from earmark.server.live import LivePack
from earmark.server.metrics import Metrics

log = structlog.get_logger("earmark.reload")
WATCH_CHECK_MS = 1000  # how often the watcher checks that the directory is still the same


def _identity(directory: Path) -> tuple[int, int] | None:
    """What tells one directory from another at the same path, or None if there is none."""
    try:
        status = directory.stat()
    except OSError:
        return None
    return (status.st_dev, status.st_ino) if stat.S_ISDIR(status.st_mode) else None


class Reloader:
    """Reloads one pack directory into a LivePack, one reload at a time."""

    def __init__(self, live: LivePack, directory: Path, metrics: Metrics | None = None) -> None:
        self.live = live
        self.directory = directory
        self.metrics = metrics if metrics is not None else Metrics()
        self._lock = threading.Lock()

    def reload(self, reason: str) -> bool:
        """Try the pack on disk now. Returns True if a new version went live."""
        with self._lock:
            try:
                evaluator = load_checked(self.directory)
            except PackError as exc:
                self.metrics.reloads.labels("failed").inc()
                self.live.record_reload(error=str(exc))
                log.error(
                    "reload_refused",
                    reason=reason,
                    problems=[str(p) for p in exc.problems[:MAX_REPORTED_PROBLEMS]],
                    problem_count=len(exc.problems),
                    active_version=self._active_version(),
                )
                return False
            except Exception as exc:  # a bug or an OS error: keep serving, keep watching
                self.metrics.reloads.labels("failed").inc()
                self.live.record_reload(error=f"reload failed: {exc}")
                log.exception("reload_failed", reason=reason, active_version=self._active_version())
                return False
            previous = self._active_version()
            if evaluator.pack.version == previous:
                evaluator.close()  # same files: nothing to publish
                self.live.record_reload()
                self.metrics.reloads.labels("unchanged").inc()
                return False
            changes = self._contract_changes(evaluator)
            self.live.swap(evaluator)
            self.live.record_reload(contract_changes=tuple(str(c) for c in changes))
            if any(c.breaking for c in changes):  # live anyway: the pack passed its checks
                log.warning(
                    "contract_changed",
                    changes=[str(c) for c in changes][:MAX_REPORTED_PROBLEMS],
                    ruleset_version=evaluator.pack.version,
                )
            # The version first: a scrape that sees the success also sees what went live.
            self.metrics.set_ruleset(evaluator.pack.version, previous)
            self.metrics.reloads.labels("succeeded").inc()
            log.info(
                "reloaded",
                reason=reason,
                ruleset_version=evaluator.pack.version,
                previous_version=previous,
                rules_loaded=len(evaluator.pack.rules),
            )
            return True

    def watch(self, stop: threading.Event) -> threading.Thread:
        """Reload whenever a file under the pack directory changes, until `stop` is set.

        The directory may be removed, or moved away and replaced (a restore from backup,
        `mv new live`): inotify would follow the old directory, or die with it. So the
        directory's identity is checked every second; when it is gone or replaced, the
        gap is logged and shown in DescribeRules, and watching starts again, with a reload,
        once a directory is back at the path."""

        def run() -> None:
            first = True
            while not stop.is_set():
                identity = self._wait_for_directory(stop)
                if identity is None:
                    return
                self.live.record_watch()
                if not first:
                    log.info("rules_watch_resumed", rules=str(self.directory))
                    self.reload("rules directory is back")
                first = False
                problem = self._watch_until_replaced(identity, stop)
                if stop.is_set():
                    return
                log.warning("rules_watch_stopped", rules=str(self.directory), reason=problem)
                self.live.record_watch(f"{problem}; changes are not picked up until it is back")

        thread = threading.Thread(target=run, name="rules-watcher", daemon=True)
        thread.start()
        return thread

    def _watch_until_replaced(self, identity: tuple[int, int], stop: threading.Event) -> str:
        """Reload on changes until the directory is gone or replaced; returns which."""
        try:
            # watchfiles batches a burst of writes (an editor's save, a ConfigMap's symlink
            # swap) into one set of changes, so one edit means one reload. The timeout
            # makes it yield every second, to check the directory is still the same one.
            for changes in watchfiles.watch(
                self.directory,
                stop_event=stop,
                debounce=300,
                step=50,
                rust_timeout=WATCH_CHECK_MS,
                yield_on_timeout=True,
            ):
                now = _identity(self.directory)
                if now != identity:
                    return (
                        "the rules directory was removed"
                        if now is None
                        else "the rules directory was replaced"
                    )
                if changes:
                    log.info("rules_changed", files=sorted({Path(p).name for _, p in changes}))
                    self.reload("files changed")
        except Exception as exc:  # e.g. the directory vanished under the watcher
            if _identity(self.directory) is None:
                return "the rules directory was removed"
            return f"watching failed: {clip(str(exc), 200)}"
        return "watching stopped"

    def _wait_for_directory(self, stop: threading.Event) -> tuple[int, int] | None:
        """The directory's identity once it exists, or None if `stop` was set first."""
        while not stop.is_set():
            identity = _identity(self.directory)
            if identity is not None:
                return identity
            stop.wait(WATCH_CHECK_MS / 1000)
        return None

    def _contract_changes(self, evaluator: Evaluator) -> list[ContractChange]:
        try:
            return contract_changes(self.live.current().pack, evaluator.pack)
        except PackUnavailable:
            return []

    def _active_version(self) -> str | None:
        try:
            return self.live.current().pack.version
        except PackUnavailable:
            return None
