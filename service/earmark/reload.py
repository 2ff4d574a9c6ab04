"""Publishing rule changes: load, check, compile, pass the examples, then swap.

The same gate guards start-up and every reload, so a pack that would be refused on a
reload also refuses to start. A refused pack never replaces the live one; its problems
are logged with file:line and reported through DescribeRules.
"""

from __future__ import annotations

import threading
from pathlib import Path

import structlog
import watchfiles

from earmark import metrics
from earmark.errors import PackError, PackUnavailable, Problem
from earmark.evaluation import Evaluator
from earmark.examples import run_examples
from earmark.live import LivePack

log = structlog.get_logger("earmark.reload")


def load_checked(directory: Path) -> Evaluator:
    """A pack that loads, compiles and passes its own example cases; else PackError."""
    evaluator = Evaluator.from_directory(directory)
    failures = [
        Problem(r.case.location.path, r.case.location.line, 1, "example-failed", f"{r.case.name}: {failure}")
        for r in run_examples(evaluator)
        for failure in r.failures
    ]
    if failures:
        evaluator.close()
        raise PackError(failures)
    return evaluator


class Reloader:
    """Reloads one pack directory into a LivePack, one reload at a time."""

    def __init__(self, live: LivePack, directory: Path) -> None:
        self.live = live
        self.directory = directory
        self._lock = threading.Lock()

    def reload(self, reason: str) -> bool:
        """Try the pack on disk now. Returns True if a new version went live."""
        with self._lock:
            try:
                evaluator = load_checked(self.directory)
            except PackError as exc:
                metrics.RELOADS.labels("failed").inc()
                self.live.record_reload(error=str(exc))
                log.error(
                    "reload_refused",
                    reason=reason,
                    problems=[str(p) for p in exc.problems],
                    active_version=self._active_version(),
                )
                return False
            except Exception as exc:  # a bug or an OS error: keep serving, keep watching
                metrics.RELOADS.labels("failed").inc()
                self.live.record_reload(error=f"reload failed: {exc}")
                log.exception("reload_failed", reason=reason, active_version=self._active_version())
                return False
            previous = self._active_version()
            if evaluator.pack.version == previous:
                evaluator.close()  # same files: nothing to publish
                self.live.record_reload()
                metrics.RELOADS.labels("unchanged").inc()
                return False
            self.live.swap(evaluator)
            self.live.record_reload()
            # The version first: a scrape that sees the success also sees what went live.
            metrics.set_ruleset(evaluator.pack.version, previous)
            metrics.RELOADS.labels("succeeded").inc()
            log.info(
                "reloaded",
                reason=reason,
                ruleset_version=evaluator.pack.version,
                previous_version=previous,
                rules_loaded=len(evaluator.pack.rules),
            )
            return True

    def watch(self, stop: threading.Event) -> threading.Thread:
        """Reload whenever a file under the pack directory changes, until `stop` is set."""

        def run() -> None:
            # watchfiles batches a burst of writes (an editor's save, a ConfigMap's symlink
            # swap) into one set of changes, so one edit means one reload.
            try:
                for changes in watchfiles.watch(self.directory, stop_event=stop, debounce=300, step=50):
                    log.info("rules_changed", files=sorted({Path(p).name for _, p in changes}))
                    self.reload("files changed")
            except Exception:  # e.g. the directory was removed; SIGHUP still reloads
                log.exception("rules_watch_stopped", rules=str(self.directory))

        thread = threading.Thread(target=run, name="rules-watcher", daemon=True)
        thread.start()
        return thread

    def _active_version(self) -> str | None:
        try:
            return self.live.current().pack.version
        except PackUnavailable:
            return None
