"""Building and running the gRPC server: Earmark, health, reflection, graceful stop."""

from __future__ import annotations

import contextlib
import dataclasses
import queue
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from earmark.config import Settings
from earmark.errors import AdmissionUnsupported, ListenFailed, PackUnavailable
from earmark.evaluation.cache import VerdictCache
from earmark.evaluation.evaluator import Evaluator
from earmark.server.admission import Admission, Limits
from earmark.server.connections import ConnectionCount
from earmark.server.decision_log import DecisionLog
from earmark.server.interceptors import (
    CallInterceptor,
    TracedCalls,
    stalled_call_recorder,
    stream_refusal_recorder,
)
from earmark.server.live import LivePack
from earmark.server.metrics import Metrics
from earmark.server.reload import Reloader, ReloadStatus
from earmark.server.servicer import EarmarkServicer
from earmark.tracing import configure_tracing, shutdown_tracing, tracer_provider
from earmark.v1 import earmark_pb2, earmark_pb2_grpc

SERVICE_NAME = earmark_pb2.DESCRIPTOR.services_by_name["Earmark"].full_name
HEALTH_PORT_CONNECTIONS = 64  # kubelets and `earmark health`: a few at a time
# SERVING while the process runs, pack or none: for liveness probes. A process waiting for
# its first good pack is alive, only not ready; restarting it would change nothing.
LIVENESS = "liveness"

log = structlog.get_logger("earmark.server")


def server_credentials(settings: Settings) -> grpc.ServerCredentials | None:
    """TLS credentials from EARMARK_TLS_*, or None for plaintext. With a client CA, every
    client must present a certificate that CA signed."""
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    chain = settings.tls_cert.read_bytes()
    key = settings.tls_key.read_bytes()
    client_ca = settings.tls_client_ca.read_bytes() if settings.tls_client_ca else None
    return grpc.ssl_server_credentials(
        [(key, chain)], root_certificates=client_ca, require_client_auth=client_ca is not None
    )


class TruthfulHealth(health.HealthServicer):
    """The health service, which also says NOT_SERVING while the server can't take calls
    (every thread stuck, calls waiting and none served): a pod that refuses everything
    must not look ready. Check only; Watch reports what was set."""

    def __init__(self, can_take_calls: Callable[[], bool]) -> None:
        super().__init__()
        self._can_take_calls = can_take_calls

    def Check(  # gRPC names it
        self, request: health_pb2.HealthCheckRequest, context: grpc.ServicerContext
    ) -> health_pb2.HealthCheckResponse:
        answer: health_pb2.HealthCheckResponse = super().Check(request, context)
        if (
            answer.status == health_pb2.HealthCheckResponse.SERVING
            and request.service != LIVENESS
            and not self._can_take_calls()
        ):
            return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.NOT_SERVING)
        return answer


def decision_log(settings: Settings, metrics: Metrics) -> DecisionLog | None:
    """The decision log EARMARK_DECISION_LOG asks for, its file opened now: a path that
    can't be written stops the start, rather than losing every decision after it."""
    if settings.decision_log is None:
        return None
    try:
        return DecisionLog(
            settings.decision_log,
            settings.decision_log_sample,
            settings.decision_log_buffer,
            metrics.decisions_logged.inc,
            metrics.decisions_dropped.inc,
        )
    except OSError as exc:
        raise ListenFailed(
            f"cannot write the decision log EARMARK_DECISION_LOG={settings.decision_log}: {exc.strerror}"
        ) from None


def traced_calls() -> list[TracedCalls]:
    """The tracing interceptor, first in the chain, once tracing is configured."""
    provider = tracer_provider()
    return [] if provider is None else [TracedCalls(provider)]


def limits(settings: Settings) -> Limits:
    return Limits(
        threads=settings.threads,
        calls=settings.max_concurrent_rpcs,
        queue_seconds=settings.max_queue_seconds,
        read_seconds=settings.read_timeout_seconds,
        streams=settings.max_streams,
        stream_idle_seconds=settings.stream_idle_seconds,
    )


def connection_options(settings: Settings) -> list[tuple[str, int]]:
    """grpc core's connection limits: a cap, a time to open (a socket that never starts
    HTTP/2 counts against the cap), and idle and age limits; a connection closed for its
    age has the drain grace to finish its calls."""
    return [
        ("grpc.max_allowed_incoming_connections", settings.max_connections),
        ("grpc.server_handshake_timeout_ms", int(settings.read_timeout_seconds * 1000)),
        ("grpc.max_connection_idle_ms", int(settings.connection_idle_seconds * 1000)),
        ("grpc.max_connection_age_ms", int(settings.connection_age_seconds * 1000)),
        ("grpc.max_connection_age_grace_ms", int(settings.grace_seconds * 1000)),
    ]


class EarmarkServer:
    """A server bound to its ports, and the handles needed to report health and stop it.
    As a context manager it is started on entry and stopped at once on exit.

    `share_port` is for the supervisor's workers only: they share the port on purpose
    (SO_REUSEPORT). A lone server owns its port, so that a second one on the same address
    fails instead of silently taking half its traffic."""

    def __init__(
        self,
        settings: Settings,
        live: LivePack,
        metrics: Metrics | None = None,
        *,
        share_port: bool = False,
        status: Callable[[], ReloadStatus] = ReloadStatus,
    ) -> None:
        self.settings = settings
        self.live = live
        self.metrics = metrics = metrics if metrics is not None else Metrics()

        def tune(evaluator: Evaluator) -> None:
            evaluator.keep_composed(settings.memo_entries)
            if settings.cache_entries:
                evaluator.cache = VerdictCache(settings.cache_entries, metrics.count_cache_lookup)

        live.tune_with(tune)
        self._share_port = share_port
        self._stopping = False
        self.admission = admission = Admission(
            limits(settings),
            on_stalled=stalled_call_recorder(metrics),
            on_stream_refused=stream_refusal_recorder(metrics),
        )
        self.grpc_server = grpc.server(
            admission,  # type: ignore[arg-type]  # grpc takes any Executor; the stubs say ThreadPoolExecutor
            interceptors=[
                *traced_calls(),
                CallInterceptor(
                    settings.max_message_bytes,
                    metrics,
                    keep_bytes_of=frozenset({"/earmark.v1.Earmark/Evaluate"}),
                    log_sample=settings.log_sample,
                    slow_call_seconds=settings.slow_call_seconds,
                ),
            ],
            options=[
                ("grpc.max_receive_message_length", settings.max_message_bytes),
                ("grpc.max_send_message_length", settings.max_message_bytes),
                ("grpc.so_reuseport", 1 if share_port else 0),
                *connection_options(settings),
            ],
        )
        self.decisions = decision_log(settings, metrics)
        earmark_pb2_grpc.add_EarmarkServicer_to_server(  # type: ignore[no-untyped-call]  # generated, untyped
            EarmarkServicer(
                live,
                settings.max_batch_size,
                settings.default_deadline_seconds,
                metrics,
                strict=settings.strict,
                status=status,
                response_entries=settings.cache_entries,
                verdict_bytes_entries=settings.memo_entries,
                decisions=self.decisions,
            ),
            self.grpc_server,
        )
        self.health = TruthfulHealth(admission.can_take_calls)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.grpc_server)
        reflection.enable_server_reflection(
            (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), self.grpc_server
        )
        try:
            credentials = server_credentials(settings)
            if credentials is None:
                self.port = self.grpc_server.add_insecure_port(settings.address)
            else:
                self.port = self.grpc_server.add_secure_port(settings.address, credentials)
        except RuntimeError as exc:  # grpcio raises this when the address can't be bound
            raise ListenFailed(f"cannot listen on {settings.address}: {exc}") from None
        if self.port == 0:
            raise ListenFailed(f"cannot listen on {settings.address}")
        self.health_server, self.health_port = self._health_only_server(settings)
        self.connections = ConnectionCount(self.port, settings.max_connections, metrics)

    def _health_only_server(self, settings: Settings) -> tuple[grpc.Server | None, int | None]:
        """A plaintext server on EARMARK_HEALTH_ADDRESS answering health checks only, for
        probes that cannot speak TLS. It shares the health servicer, so it reports exactly
        what the main port does, drain included."""
        if not settings.health_address:
            return None, None
        # Admission here too: a probe that never sends its message is cancelled at the read
        # timeout, and probes are never refused.
        pool = Admission(
            dataclasses.replace(limits(settings), threads=1, streams=1),
            on_stalled=stalled_call_recorder(self.metrics),
            probes_only=True,
        )
        server = grpc.server(
            pool,  # type: ignore[arg-type]  # as above
            options=[
                ("grpc.so_reuseport", 1 if self._share_port else 0),
                ("grpc.max_allowed_incoming_connections", HEALTH_PORT_CONNECTIONS),
                ("grpc.max_connection_idle_ms", int(settings.connection_idle_seconds * 1000)),
            ],
        )
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        try:
            port = server.add_insecure_port(settings.health_address)
        except RuntimeError as exc:
            raise ListenFailed(f"cannot listen on {settings.health_address}: {exc}") from None
        if port == 0:
            raise ListenFailed(f"cannot listen on {settings.health_address}")
        return server, port

    def start(self) -> None:
        self.grpc_server.start()
        if self.health_server is not None:
            self.health_server.start()
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if self.has_pack()
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for service in ("", SERVICE_NAME):
            self.health.set(service, status)
        self.health.set(LIVENESS, health_pb2.HealthCheckResponse.SERVING)
        self.connections.start()

    def mark_serving(self) -> None:
        """A pack went live: a server that started without one now serves. Called from
        the reload thread; a server already draining stays NOT_SERVING."""
        if self._stopping:
            return
        for service in ("", SERVICE_NAME):
            self.health.set(service, health_pb2.HealthCheckResponse.SERVING)

    def stop(self, grace: float | None = None) -> None:
        """Turn health NOT_SERVING, refuse new calls, let in-flight ones finish."""
        self._stopping = True
        self.connections.stop()
        self.health.enter_graceful_shutdown()
        self.grpc_server.stop(self.settings.grace_seconds if grace is None else grace).wait()
        if self.health_server is not None:
            self.health_server.stop(0).wait()
        if self.decisions is not None:  # after the calls: their last decisions are written
            self.decisions.close()

    def __enter__(self) -> EarmarkServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop(0)

    def has_pack(self) -> bool:
        try:
            self.live.current()
        except PackUnavailable:
            return False
        return True


def check_health(address: str, timeout: float) -> str:
    """The health status a server at `address` reports, or why there is none."""
    with grpc.insecure_channel(address) as channel:
        try:
            answer = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=timeout
            )
        except grpc.RpcError as exc:
            return f"UNREACHABLE ({exc.code().name})"
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status))


def serve(settings: Settings, *, as_worker: bool = False, heartbeat: Path | None = None) -> int:
    """Load the pack, serve until SIGTERM or SIGINT, drain, and return the exit code.

    SIGHUP, or any change under the rules directory, reloads the pack; a pack that fails
    its checks or its example cases is refused and the last good one keeps serving. No
    pack stops the process: beside a refused pack it serves the last good one kept on
    disk, or, having none, answers NOT_SERVING until a good pack arrives.
    """
    # Signal handlers only queue a command (SimpleQueue.put is safe there); the main loop
    # does the work, so a reload never runs inside a signal handler. They are installed
    # before the pack loads, so that a SIGTERM or SIGHUP arriving meanwhile is acted on
    # once serving has begun. A worker starts with SIGHUP blocked (see supervisor.py);
    # one that came during start-up is delivered here, to its handler.
    commands: queue.SimpleQueue[signal.Signals] = queue.SimpleQueue()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, lambda received, _frame: commands.put(signal.Signals(received)))
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGHUP})
    stop = threading.Event()
    if heartbeat is not None:
        beat(heartbeat, stop)
    if settings.tracing:  # here, in each worker: an exporter's thread doesn't survive a fork
        configure_tracing()
    live, metrics = LivePack(), Metrics(worker=as_worker)
    reloader = Reloader(live, settings.rules, metrics, last_good=settings.last_good_folder)
    try:
        server = EarmarkServer(settings, live, metrics, share_port=as_worker, status=lambda: reloader.status)
    except (ListenFailed, AdmissionUnsupported) as exc:
        print(f"earmark: {exc}", file=sys.stderr)
        return 1
    reloader.on_live = server.mark_serving
    if not reloader.start():
        print(
            f"earmark: {reloader.status.last_reload_error}\n"
            "earmark: no good pack yet: NOT_SERVING until one arrives",
            file=sys.stderr,
        )
    threads = [reloader.watch(stop)] if settings.watch else []
    threads.append(reloader.serve_requests(stop))
    metrics_port = None
    if settings.metrics_address and not as_worker:  # workers: the supervisor serves their sum
        try:
            metrics_port = metrics.serve(settings.metrics_address)
        except OSError as exc:
            print(f"earmark: cannot serve metrics on {settings.metrics_address}: {exc}", file=sys.stderr)
            return 1
    server.start()
    serving = live.current().pack if server.has_pack() else None
    log.info(
        "serving" if serving is not None else "waiting_for_a_good_pack",
        address=settings.address,
        port=server.port,  # as bound: a port of 0 in the settings becomes a real one
        health_port=server.health_port,
        metrics_port=metrics_port,
        rules=str(settings.rules),
        ruleset_version=serving.version if serving is not None else None,
        rules_loaded=len(serving.rules) if serving is not None else 0,
        threads=settings.threads,
        watching=settings.watch,
        tracing=settings.tracing,
        # One process serving alone: say why it is one (a worker's supervisor says it).
        workers_from=None if as_worker else settings.workers_from(),
    )
    while True:
        try:
            received = commands.get(timeout=1.0)  # a timed wait keeps signals responsive
        except queue.Empty:
            continue
        if received is signal.SIGHUP:
            reloader.request("SIGHUP")  # a burst of them is one reload, on its own thread
            continue
        log.info("stopping", signal=received.name, grace_seconds=settings.grace_seconds)
        break
    stop.set()
    server.stop()
    reloader.join(threads, stop, timeout=settings.grace_seconds)
    metrics.rule_hits.flush()
    shutdown_tracing()  # sends the spans still buffered
    log.info("stopped")
    return 0


HEARTBEAT_SECONDS = 0.5


def beat(heartbeat: Path, stop: threading.Event) -> threading.Thread:
    """Touch `heartbeat` every HEARTBEAT_SECONDS until `stop`: the supervisor replaces a
    worker whose heartbeat stops (SIGSTOP, or an engine call that never returns, which
    holds the GIL and so stops this thread too)."""

    def run() -> None:
        while not stop.is_set():
            # OSError: the supervisor is gone, its folder with it, and no one will ask.
            with contextlib.suppress(OSError):
                heartbeat.touch()
            stop.wait(HEARTBEAT_SECONDS)

    thread = threading.Thread(target=run, name="heartbeat", daemon=True)
    thread.start()
    return thread
