"""Publishing rule changes: load, check, compile, pass the examples, then swap.

The same gate guards start-up and every reload. A refused pack never replaces the live
one; its problems are logged with file:line and reported through DescribeRules and the
metrics. No pack on disk stops a process: every pack that goes live is also kept whole
in a last-good store on local disk (releases.py), and a process that starts beside a
refused pack serves that one. A process that has never had a good pack serves nothing,
says NOT_SERVING, and keeps watching until one arrives.

Reloads asked for while one runs are coalesced into one, and run on a thread of their
own, so a burst of SIGHUPs costs one reload and never delays a SIGTERM.
"""

from __future__ import annotations

import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import structlog
import watchfiles

from earmark.authoring.contract import ContractChange, contract_changes
from earmark.authoring.releases import Releases
from earmark.diagnostics import MAX_REPORTED_PROBLEMS, clip
from earmark.errors import PackError, PackUnavailable
from earmark.evaluation.evaluator import Evaluator
from earmark.evaluation.examples import load_checked
from earmark.server.live import LivePack
from earmark.server.metrics import Metrics

log = structlog.get_logger("earmark.reload")
MAX_RELOAD_ERROR = 8192  # characters: DescribeRules must stay small whatever a pack holds
WATCH_CHECK_MS = 1000  # how often the watcher checks that the directory is still the same
REPLACED = "the rules directory was replaced"


def _identity(directory: Path) -> tuple[int, int] | None:
    """What tells one directory from another at the same path, or None if there is none."""
    try:
        status = directory.stat()
    except OSError:
        return None
    return (status.st_dev, status.st_ino) if stat.S_ISDIR(status.st_mode) else None


@dataclass(frozen=True)
class ReloadStatus:
    """What DescribeRules (and `earmark status`) report about reloads."""

    last_reload_at: datetime | None = None
    last_reload_error: str = ""
    reloads_succeeded: int = 0
    reloads_failed: int = 0
    watching: bool = False
    watch_problem: str = ""  # why the rules directory is not watched, while it isn't
    watch_stopped_at: datetime | None = None
    contract_changes: tuple[str, ...] = ()  # of the last pack that went live, vs the one before


class Reloader:
    """The pack's lifecycle in one serving process: the first pack (or the last good
    one), each reload, the watcher, and the status they leave, which only it writes."""

    def __init__(
        self,
        live: LivePack,
        directory: Path,
        metrics: Metrics | None = None,
        *,
        last_good: Path | None = None,
        on_live: Callable[[], None] | None = None,
    ) -> None:
        self.live = live
        self.directory = directory
        self.metrics = metrics if metrics is not None else Metrics()
        # `pack` in the store: a link to the last version this process made live.
        self.last_good = Releases(last_good / "pack") if last_good is not None else None
        self.on_live = on_live  # told each time a pack goes live (health turns SERVING)
        self._lock = threading.Lock()
        self._requests = threading.Condition()
        self._pending: str | None = None
        self._status = ReloadStatus()
        self._status_lock = threading.Lock()

    @property
    def status(self) -> ReloadStatus:
        return self._status

    def start(self) -> bool:
        """Make the first pack live: the one on disk, or else the last good one. Returns
        False when neither passes; the process then waits for a good pack."""
        with self._lock:
            try:
                on_disk = load_checked(self.directory)
            except Exception as exc:  # PackError, or an OS error: neither may stop the process
                refusal = str(exc)
                self.metrics.rules_refused.set(1)
                log.error("pack_refused_at_start", rules=str(self.directory), error=clip(refusal, 2000))
            else:
                self._go_live(on_disk, None)
                return True
            kept = self.last_good.live if self.last_good is not None else None
            try:
                if kept is None or not kept.is_dir():
                    raise FileNotFoundError("no last good pack is kept yet")
                evaluator = load_checked(kept)
            except Exception as exc:  # a damaged store must not stop the process either
                self._record_reload(error=refusal)
                log.error("no_good_pack", rules=str(self.directory), last_good=clip(str(exc), 500))
                return False
            self._go_live(evaluator, None)
            log.warning("serving_last_good", ruleset_version=evaluator.pack.version, folder=str(kept))
            self._record_reload(error=f"serving the last good pack; the rules on disk are refused: {refusal}")
            return True

    def request(self, reason: str) -> None:
        """Ask for a reload on the reload thread (`serve_requests`); requests made while
        one waits are folded into it."""
        with self._requests:
            if self._pending is None:
                self._pending = reason
            self._requests.notify()

    def serve_requests(self, stop: threading.Event) -> threading.Thread:
        """Run requested reloads, one at a time, until `stop` is set."""

        def run() -> None:
            while not stop.is_set():
                with self._requests:
                    self._requests.wait_for(lambda: self._pending is not None, timeout=WATCH_CHECK_MS / 1000)
                    reason, self._pending = self._pending, None
                if reason is not None and not stop.is_set():
                    self.reload(reason)

        thread = threading.Thread(target=run, name="reloader", daemon=True)
        thread.start()
        return thread

    def join(self, threads: list[threading.Thread], stop: threading.Event, timeout: float) -> None:
        """Wait for the watcher and reload threads to end, once `stop` is set: a reload in
        flight finishes, and no thread is left inside watchfiles' Rust code when the
        interpreter exits. A daemon thread returning from it into a finalizing Python is
        ended by pthread_exit, which aborts the process (PyO3, pyo3#4874): the server
        exited with SIGABRT now and then after a clean "stopped"."""
        assert stop.is_set()
        with self._requests:
            self._requests.notify_all()  # the reload thread need not wait out its timeout
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def reload(self, reason: str) -> bool:
        """Try the pack on disk now. Returns True if a new version went live."""
        with self._lock:
            try:
                evaluator = load_checked(self.directory)
            except PackError as exc:
                self.metrics.reloads.labels("failed").inc()
                self.metrics.rules_refused.set(1)
                self._record_reload(error=str(exc))
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
                self.metrics.rules_refused.set(1)
                self._record_reload(error=f"reload failed: {exc}")
                log.exception("reload_failed", reason=reason, active_version=self._active_version())
                return False
            self.metrics.rules_refused.set(0)
            previous = self._active_version()
            if evaluator.pack.version == previous:
                evaluator.close()  # same files: nothing to publish
                self._record_reload()
                self.metrics.reloads.labels("unchanged").inc()
                return False
            changes = self._go_live(evaluator, previous)
            self._record_reload(contract_changes=tuple(str(c) for c in changes))
            self.metrics.reloads.labels("succeeded").inc()
            log.info(
                "reloaded",
                reason=reason,
                ruleset_version=evaluator.pack.version,
                previous_version=previous,
                rules_loaded=len(evaluator.pack.rules),
            )
            return True

    def _go_live(self, evaluator: Evaluator, previous: str | None) -> list[ContractChange]:
        changes = self._contract_changes(evaluator)
        self.live.swap(evaluator)
        if any(c.breaking for c in changes):  # live anyway: the pack passed its checks
            log.warning(
                "contract_changed",
                changes=[str(c) for c in changes][:MAX_REPORTED_PROBLEMS],
                ruleset_version=evaluator.pack.version,
            )
        # The version first: a scrape that sees the success also sees what went live.
        self.metrics.set_ruleset(evaluator.pack.version, previous)
        self._keep_last_good(evaluator)
        if self.on_live is not None:
            self.on_live()
        return changes

    def _keep_last_good(self, evaluator: Evaluator) -> None:
        """Keep the exact bytes that went live, for a restart beside a refused pack. A
        store that can't be written costs that fallback, never the reload."""
        if self.last_good is None:
            return
        try:
            self.last_good.release(dict(evaluator.pack.files), evaluator.pack.version)
        except Exception as exc:
            log.warning("last_good_not_kept", store=str(self.last_good.store), error=clip(str(exc), 500))

    def watch(self, stop: threading.Event) -> threading.Thread:
        """Reload whenever a file under the pack directory changes, until `stop` is set.

        The directory may be removed, or moved away and replaced (a restore from backup,
        `mv new live`): inotify would follow the old directory, or die with it. So the
        directory's identity is checked every second; when it is gone or replaced, the
        gap is logged and shown in DescribeRules, and watching starts again, with a reload,
        once a directory is back at the path."""

        def run() -> None:
            first, replaced = True, False
            while not stop.is_set():
                identity = self._wait_for_directory(stop)
                if identity is None:
                    return
                self._record_watch()
                if replaced:
                    self.reload("the rules directory was replaced")
                elif not first:
                    log.info("rules_watch_resumed", rules=str(self.directory))
                    self.reload("rules directory is back")
                first = False
                problem = self._watch_until_replaced(identity, stop)
                if stop.is_set():
                    return
                # A publish flips a link or exchanges the folder: the normal way a pack
                # changes, so it is followed at once and is not worth a warning.
                replaced = problem == REPLACED
                if replaced:
                    log.info("rules_directory_replaced", rules=str(self.directory))
                    continue
                log.warning("rules_watch_stopped", rules=str(self.directory), reason=problem)
                self._record_watch(f"{problem}; changes are not picked up until it is back")

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
                    return "the rules directory was removed" if now is None else REPLACED
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

    def _record_reload(self, error: str = "", contract_changes: tuple[str, ...] | None = None) -> None:
        """Note a reload attempt: `error` is empty when the new pack went live, and then
        `contract_changes` says how it changed the contract (None: the pack is the same)."""
        with self._status_lock:
            status = self._status
            self._status = replace(
                status,
                contract_changes=status.contract_changes if contract_changes is None else contract_changes,
                last_reload_at=datetime.now(UTC),
                last_reload_error=clip(error, MAX_RELOAD_ERROR),
                reloads_succeeded=status.reloads_succeeded + (0 if error else 1),
                reloads_failed=status.reloads_failed + (1 if error else 0),
            )

    def _record_watch(self, problem: str = "") -> None:
        """Note that the rules directory is watched (`problem` empty) or why it is not."""
        with self._status_lock:
            status = self._status
            stopped_at = status.watch_stopped_at if status.watch_problem else datetime.now(UTC)
            self._status = replace(
                status,
                watching=not problem,
                watch_problem=clip(problem, MAX_RELOAD_ERROR),
                watch_stopped_at=stopped_at if problem else None,
            )

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
