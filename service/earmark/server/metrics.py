"""Prometheus metrics, as an object each server is handed, correct across worker processes.

A lone server serves its own registry. With several workers the supervisor points
PROMETHEUS_MULTIPROC_DIR at a fresh directory before starting them; prometheus_client
then keeps each worker's samples in files there, and the supervisor's /metrics endpoint
adds them up (MultiProcessCollector).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    multiprocess,
    start_http_server,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from earmark.config import Address

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
WORKER_FLUSH_SECONDS = 1.0


RELOAD_OUTCOMES = ("succeeded", "failed", "unchanged")
UNDECLARED_NAMES = 100  # names kept as label values per process; past them, "other"


class Metrics:
    """Every metric one server records, in a registry of its own: two servers in one
    process (as in tests) never share counts."""

    def __init__(self, *, worker: bool = False) -> None:
        self.registry = CollectorRegistry()
        # Before the counters: a scrape collects in registration order, so buffered rule
        # hits land in their counter just before it is read.
        self.rule_hits = RuleHits(self, flush_every=WORKER_FLUSH_SECONDS if worker else None)
        self.registry.register(self.rule_hits)
        if not worker:  # a lone server's own process_* series; a worker's are its supervisor's to report
            self.registry.register(ProcessesByWorker(lambda: {"0": os.getpid()}))
        registry = self.registry
        self.rpcs = Counter(
            "earmark_rpcs_total",
            "RPCs handled, by method and status code.",
            ["method", "code"],
            registry=registry,
        )
        self.rpc_seconds = Histogram(
            "earmark_rpc_duration_seconds",
            "RPC latency in seconds, by method.",
            ["method"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.products = Counter(
            "earmark_products_evaluated_total",
            "Products evaluated (batch items count one each).",
            registry=registry,
        )
        self.rule_hit_counts = Counter(
            "earmark_rule_hits_total",
            "Times each rule fired for a product; rules absent here never fired.",
            ["rule_id"],
            registry=registry,
        )
        self.reloads = Counter(
            "earmark_reloads_total", "Rule pack reloads, by outcome.", ["outcome"], registry=registry
        )
        for outcome in RELOAD_OUTCOMES:  # at 0 from the start: an alert on increase() needs the series
            self.reloads.labels(outcome)
        self.in_flight = Gauge(
            "earmark_calls_in_flight",
            "Calls being handled right now (queued calls wait in admission and are not counted).",
            multiprocess_mode="livesum",
            registry=registry,
        )
        # An "info" metric: 1 for the live version. Per process in multiprocess mode, so a
        # dashboard can see every worker converge on the same version.
        self.ruleset = Gauge(
            "earmark_ruleset_info",
            "The live ruleset version (value 1).",
            ["version"],
            multiprocess_mode="liveall",
            registry=registry,
        )
        self.rules_refused = Gauge(
            "earmark_rules_refused",
            "1 while the rules on disk are refused and an older pack (or none) serves.",
            multiprocess_mode="liveall",
            registry=registry,
        )
        # Which catalog fields the pack ignores: a pack author may want some of them.
        self.undeclared = Counter(
            "earmark_undeclared_attributes_total",
            f"Attributes requests carried that the pack doesn't declare, by section and name "
            f"(the first {UNDECLARED_NAMES} names each process sees; the rest count as 'other').",
            ["section", "name"],
            registry=registry,
        )
        self._undeclared_children: dict[tuple[str, str], Any] = {}
        self.streams_refused = Counter(
            "earmark_streams_refused_total",
            "Streams (reflection, Health/Watch) refused: EARMARK_MAX_STREAMS were open.",
            ["method"],
            registry=registry,
        )
        self.connections = Gauge(
            "earmark_connections_open",
            "Client connections open on the main port, sampled every few seconds.",
            multiprocess_mode="livesum",
            registry=registry,
        )
        # grpc core closes connections past the cap without telling Python, so what can be
        # counted is the time spent at the cap, during which new connections were refused.
        self.connections_at_cap = Counter(
            "earmark_connections_at_cap_seconds_total",
            "Seconds this process held EARMARK_MAX_CONNECTIONS connections and refused more.",
            registry=registry,
        )
        cache = Counter(
            "earmark_verdict_cache_lookups_total",
            "Verdict cache lookups, by result (hit or miss); an Evaluate, or a batch's product, "
            "answered from the response cache counts as a hit. A reload starts both caches empty.",
            ["result"],
            registry=registry,
        )
        self._cache_results = {True: cache.labels("hit"), False: cache.labels("miss")}
        self.decisions_logged = Counter(
            "earmark_decisions_logged_total",
            "Decisions written to the decision log (EARMARK_DECISION_LOG).",
            registry=registry,
        )
        self.decisions_dropped = Counter(
            "earmark_decisions_dropped_total",
            "Decisions the decision log dropped: its buffer was full, or its file could not be written.",
            registry=registry,
        )
        self._calls: dict[tuple[str, str], tuple[Any, Any]] = {}

    def count_cache_lookup(self, hit: bool, lookups: int = 1) -> None:
        self._cache_results[hit].inc(lookups)

    def count_undeclared(self, names: Iterable[tuple[str, str]]) -> None:
        """Count undeclared attributes, keeping the label set bounded: a client sending a
        new name with every request must not grow the metrics without end."""
        children = self._undeclared_children
        for key in names:
            child = children.get(key)
            if child is None:  # labels() is slow: each name's child is looked up once
                section, name = key
                if len(children) >= UNDECLARED_NAMES:
                    name = "other"
                child = self.undeclared.labels(section, name)
                if name != "other":
                    children[key] = child
            child.inc()

    def record_call(self, method: str, code: str, seconds: float) -> None:
        """Count one call and its latency (labelled children are cached: labels() is slow)."""
        key = (method, code)
        children = self._calls.get(key)
        if children is None:
            children = self._calls[key] = (self.rpcs.labels(method, code), self.rpc_seconds.labels(method))
        children[0].inc()
        children[1].observe(seconds)

    def set_ruleset(self, version: str, previous: str | None) -> None:
        if previous and previous != version:
            self.ruleset.labels(previous).set(0)
        self.ruleset.labels(version).set(1)

    def serve(self, address: str) -> int:
        """Serve this registry's /metrics on `address` (HOST:PORT) from a daemon thread;
        returns the port, which the system chose if `address` asked for port 0."""
        where = Address.parse(address)
        http, _ = start_http_server(where.port, addr=where.bind_host, registry=self.registry)
        return int(http.server_port)


class RuleHits(Collector):
    """Counts rule hits in a plain dict and hands them to Prometheus when it scrapes: an
    increment costs about 1.3 µs in multiprocess mode, and a product fires ~10 rules.

    A worker's scrape happens in the supervisor, which cannot reach into the worker, so a
    worker flushes at most every `flush_every` seconds instead, as calls come in."""

    def __init__(self, metrics: Metrics, flush_every: float | None) -> None:
        self._metrics = metrics
        self._flush_every = flush_every
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._children: dict[str, Any] = {}
        self._flushed_at = time.monotonic()

    def add(self, rule_ids: Iterable[str]) -> None:
        with self._lock:
            counts = self._counts
            for rule_id in rule_ids:
                counts[rule_id] = counts.get(rule_id, 0) + 1
            due = self._flush_every is not None and time.monotonic() - self._flushed_at >= self._flush_every
        if due:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            counts, self._counts = self._counts, {}
            self._flushed_at = time.monotonic()
        for rule_id, count in counts.items():
            child = self._children.get(rule_id)
            if child is None:
                child = self._children[rule_id] = self._metrics.rule_hit_counts.labels(rule_id)
            child.inc(count)

    def collect(self) -> Iterator[Any]:
        """Called by the registry on every scrape: yields nothing of its own."""
        self.flush()
        return iter(())


class SupervisorMetrics:
    """The supervisor's /metrics: the workers' series summed (MultiProcessCollector), each
    process's own process_* series labelled by worker, and the supervisor's counts."""

    def __init__(self, multiprocess_dir: str, processes: Callable[[], dict[str, int]]) -> None:
        self.registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(self.registry, path=multiprocess_dir)  # type: ignore[no-untyped-call]  # untyped upstream
        self.registry.register(ProcessesByWorker(processes))
        self.worker_restarts = Counter(
            "earmark_worker_restarts_total",
            "Workers the supervisor started again after one died or hung, by reason.",
            ["reason"],
            registry=self.registry,
        )
        for reason in ("died", "hung"):
            self.worker_restarts.labels(reason)
        self.workers_up = Gauge(
            "earmark_workers_running", "Worker processes running now.", registry=self.registry
        )
        self.workers_up.set_function(lambda: len(processes()) - 1)  # less the supervisor itself

    def serve(self, address: str) -> int:
        """Serve on `address`; returns the port, as Metrics.serve."""
        where = Address.parse(address)
        http, _ = start_http_server(where.port, addr=where.bind_host, registry=self.registry)
        return int(http.server_port)


class ProcessesByWorker(Collector):
    """prometheus_client's process_* series (CPU, memory, file descriptors, start time) for
    each process, labelled worker="0", "1"... or "supervisor". Summed across workers they
    would mean nothing, and the multiprocess collector leaves them out altogether."""

    def __init__(self, processes: Callable[[], dict[str, int]]) -> None:
        self._processes = processes

    def collect(self) -> Iterator[Metric]:
        families: dict[str, Metric] = {}
        for worker, pid in self._processes().items():
            reader = ProcessCollector(pid=lambda pid=pid: pid, registry=None)  # type: ignore[misc]
            for family in reader.collect():
                out = families.get(family.name)
                if out is None:
                    out = families[family.name] = Metric(family.name, family.documentation, family.type)
                for sample in family.samples:
                    out.add_sample(sample.name, {**sample.labels, "worker": worker}, sample.value)
        return iter(families.values())


def forget_process(pid: int, multiprocess_dir: str) -> None:
    """Drop a dead worker's live gauges (its counters keep counting in the sum)."""
    multiprocess.mark_process_dead(pid, multiprocess_dir)  # type: ignore[no-untyped-call]  # untyped upstream
