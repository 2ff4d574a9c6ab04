"""The decision log: a JSON line per evaluated product, for audits and for `earmark replay`.

A call only hands its decision to a bounded queue (put_nowait, about a microsecond); a
thread of its own turns decisions into lines, applies the pack's masks and appends them to
the file. So a slow or stuck sink never slows a call: when the queue is full the decision
is dropped and counted (earmark_decisions_dropped_total), never silently lost. Each write
appends whole lines with O_APPEND, so workers sharing one file never interleave inside a
line.

A line:
  {"decision_id", "request_id", "trace_id", "time", "pack": {"version", "digest"},
   "input": {"product": {"id", "specs"}, "shopper", "locale"}, "masked": [pointers],
   "verdict": {"category", "scores": {use case: score}, "fit"}, "rules_fired": [ids],
   "latency_ms"}
The input is what the pack read: the declared attributes, as validated. What the pack's
`decision_log.mask` names is erased or replaced before the line is written, and listed in
"masked", so that replay knows which inputs it can't reproduce.
"""

from __future__ import annotations

import contextlib
import os
import queue
import random
import select
import stat
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import structlog

from earmark.evaluation.validation import Subject
from earmark.evaluation.verdict import Verdict
from earmark.rulepack.model import Mask, Pack

log = structlog.get_logger("earmark.decisions")
DECISION_ID_KEY = "x-decision-id"
WRITE_BATCH = 1024  # lines per write: one system call for a burst
# The writer wakes this often at most. Woken for every decision, it took the GIL from the
# calls' threads as often as they gave it up, for +100 to +240 µs of CPU per call
# (make bench, "observe"); in batches it costs a few µs per decision.
WRITE_EVERY_SECONDS = 0.05
DROP_WARNING_SECONDS = 10.0  # at most one log line about drops this often


@dataclass(frozen=True, slots=True)
class Decision:
    """What a call hands over: references only; the line is built on the writer's thread."""

    decision_id: str
    request_id: str | None
    trace_id: str | None
    at: float  # time.time()
    pack: Pack
    subject: Subject
    verdict: Verdict
    latency_seconds: float


def new_decision_id() -> str:
    return os.urandom(12).hex()


class DecisionLog:
    """Appends decisions to `path` from a thread of its own. `sample`: the share of calls
    logged (a batch is sampled as a whole); `buffer`: decisions held before dropping."""

    def __init__(
        self,
        path: Path,
        sample: float,
        buffer: int,
        on_written: Callable[[int], None],
        on_dropped: Callable[[int], None],
    ) -> None:
        self.path = path
        self._sample = sample
        self._queue: queue.Queue[Decision | None] = queue.Queue(maxsize=buffer)
        self._on_written = on_written  # metrics, each given a count of decisions
        self._on_dropped = on_dropped
        self._dropped_since_warning = 0
        self._last_warning = 0.0
        self._closed = False
        # Opened now, so that a path that can't be written fails at start-up, not silently.
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        # A pipe (the chart's /dev/stdout) keeps a write whole only up to PIPE_BUF bytes:
        # past that, two workers' writes could mix inside a line. A file appends whole.
        self._whole_up_to = None if stat.S_ISREG(os.fstat(self._fd).st_mode) else select.PIPE_BUF
        self._thread = threading.Thread(target=self._write_until_closed, name="decision-log", daemon=True)
        self._thread.start()

    def sampled(self) -> bool:
        """Whether this call's decisions are logged (drawn once per call)."""
        return self._sample >= 1.0 or random.random() < self._sample

    def offer(self, decision: Decision) -> None:
        """Hand a decision over, or count it dropped: never waits."""
        try:
            self._queue.put_nowait(decision)
        except queue.Full:
            self._on_dropped(1)
            self._dropped_since_warning += 1
            now = time.monotonic()
            if now - self._last_warning >= DROP_WARNING_SECONDS:
                log.warning(
                    "decisions_dropped",
                    dropped=self._dropped_since_warning,
                    reason="the decision log's buffer is full: its file is written slower than calls come",
                    path=str(self.path),
                )
                self._last_warning, self._dropped_since_warning = now, 0

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued (for up to `timeout`), then stop. Once; later calls do nothing."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(queue.Full):  # a stuck sink: the end is not queued, and
            self._queue.put(None, timeout=timeout)  # the writer is given up on below
        self._thread.join(timeout)
        if self._thread.is_alive():
            # A writer still stuck keeps its descriptor (closed under it, the number could
            # be reused and written into); what it never took is lost, and counted.
            unwritten = self._queue.qsize()
            self._on_dropped(unwritten)
            log.error("decision_log_not_flushed", unwritten=unwritten, path=str(self.path))
            return
        os.close(self._fd)

    def _write_until_closed(self) -> None:
        while True:
            batch = [self._queue.get()]
            if batch[0] is not None:
                time.sleep(WRITE_EVERY_SECONDS)  # let a batch gather
            while len(batch) < WRITE_BATCH and batch[-1] is not None:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            closing = batch[-1] is None
            lines = [decision_line(d) for d in batch if d is not None]
            if lines:
                try:
                    for chunk in _chunks(lines, self._whole_up_to):
                        _write_all(self._fd, chunk)
                    self._on_written(len(lines))
                except OSError as exc:  # a full disk: the calls go on, the loss is counted
                    self._on_dropped(len(lines))
                    log.error("decision_log_write_failed", error=str(exc), path=str(self.path))
            if closing:
                return


def _chunks(lines: list[bytes], whole_up_to: int | None) -> Iterator[bytes]:
    """The lines joined into as few writes as keep each one whole: one for a file, and for
    a pipe, runs of lines of at most `whole_up_to` bytes (a longer line goes alone)."""
    if whole_up_to is None:
        yield b"".join(lines)
        return
    run: list[bytes] = []
    size = 0
    for line in lines:
        if run and size + len(line) > whole_up_to:
            yield b"".join(run)
            run, size = [], 0
        run.append(line)
        size += len(line)
    if run:
        yield b"".join(run)


def _write_all(fd: int, data: bytes) -> None:
    """os.write may take part of a large write to a pipe; the rest follows."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def decision_line(decision: Decision) -> bytes:
    """One decision as a JSON line, masked as its pack says."""
    subject, verdict = decision.subject, decision.verdict
    product: dict[str, Any] = {"id": subject.product_id, "specs": dict(subject.specs)}
    record_input: dict[str, Any] = {
        "product": product,
        "shopper": dict(subject.shopper) if subject.shopper is not None else None,
        "locale": subject.locale,
    }
    masked = [mask.pointer for mask in decision.pack.decision_mask if _apply(mask, record_input)]
    record = {
        "decision_id": decision.decision_id,
        "request_id": decision.request_id,
        "trace_id": decision.trace_id,
        "time": datetime.fromtimestamp(decision.at, UTC).isoformat(timespec="milliseconds"),
        "pack": {"version": decision.pack.version, "digest": decision.pack.digest},
        "input": record_input,
        "masked": masked,
        "verdict": {
            "category": verdict.category,
            "scores": {score.use_case.id: score.value for score in verdict.scores},
            "fit": verdict.fit.value if verdict.fit is not None else None,
        },
        "rules_fired": [rule.id for rule in verdict.fired],
        "latency_ms": round(decision.latency_seconds * 1000, 3),
    }
    return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)


def _apply(mask: Mask, record_input: dict[str, Any]) -> bool:
    """Erase or replace what `mask` names; whether there was anything to hide."""
    section, *attribute = mask.where
    if section == "shopper":
        holder, key = record_input, "shopper"
    else:  # the product's id, or its specs
        holder, key = record_input["product"], "id" if section == "product" else "specs"
    if attribute and section != "product":  # one attribute of the specs or the shopper
        holder, key = holder.get(key) or {}, attribute[0]
    if holder.get(key) is None:
        return False
    if mask.replace is None:
        del holder[key]
    else:
        holder[key] = mask.replace
    return True
