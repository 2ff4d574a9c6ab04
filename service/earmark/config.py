"""Settings, read from EARMARK_* environment variables in this one place."""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, NamedTuple

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from earmark.diagnostics import did_you_mean, shown
from earmark.errors import ConfigError

# The bundled pack: <repo>/rules/audio when running from a checkout.
BUNDLED_RULES = Path(__file__).resolve().parents[2] / "rules" / "audio"


DEFAULT_METRICS_PORT = 9464  # Prometheus' registered default for exporters like this one
DEFAULT_MEMO_ENTRIES = 4096  # also what commands and Studio use, which read no settings for it


def usable_cpus(
    cgroup_root: Path = Path("/sys/fs/cgroup"), proc: Path = Path("/proc/self")
) -> tuple[int, str]:
    """How many CPUs this process may really use, and where that number came from: the
    affinity mask (taskset, a cpuset), and the cgroup v2 quota in cpu.max (a container's
    CPU limit), whichever is smaller. os.cpu_count() counts the machine's CPUs, so a pod
    limited to 2 of 64 started 64 workers, each one core's worth of memory."""
    try:
        count, source = len(os.sched_getaffinity(0)), "the affinity mask"
    except AttributeError:  # not Linux
        count, source = os.cpu_count() or 1, "os.cpu_count()"
    quota = _cgroup_cpu_quota(cgroup_root, proc)
    if quota is not None and quota < count:
        count, source = max(1, math.ceil(quota)), f"the cgroup's cpu.max ({quota:g} CPUs)"
    return count, f"{count} from {source}"


def _cgroup_cpu_quota(root: Path, proc: Path) -> float | None:
    """The tightest cpu.max quota from this process's cgroup (v2) up to the root, in CPUs."""
    try:
        line = next(p for p in (proc / "cgroup").read_text().splitlines() if p.startswith("0::"))
    except (OSError, StopIteration):
        return None
    folder = root / line[3:].strip().lstrip("/")
    quotas = []
    while True:
        try:
            limit, period = (folder / "cpu.max").read_text().split()[:2]
            if limit != "max":
                quotas.append(int(limit) / int(period))
        except (OSError, ValueError):
            pass
        if folder == root or root not in folder.parents:
            break
        folder = folder.parent
    return min(quotas, default=None)


class Address(NamedTuple):
    """HOST:PORT, parsed once: every address Earmark listens on or dials goes through here."""

    host: str  # as written: an IPv6 host keeps its brackets
    port: int

    @classmethod
    def parse(cls, text: str) -> Address:
        host, sep, port = text.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError("must look like HOST:PORT, e.g. 127.0.0.1:50051")
        return cls(host, int(port))

    @property
    def bind_host(self) -> str:
        """The host as a socket takes it: without an IPv6 host's brackets."""
        return self.host.strip("[]")

    def to_dial(self) -> Address:
        """The address a client on this machine dials: a server listening on every
        interface is reached on loopback."""
        return Address("127.0.0.1", self.port) if self.host in ("0.0.0.0", "[::]") else self

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


class Settings(BaseModel):
    """Every knob an operator can turn. Defaults are safe for a laptop."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    address: str = Field("127.0.0.1:50051", description="host:port to listen on")
    metrics_address: str = Field(
        f"127.0.0.1:{DEFAULT_METRICS_PORT}", description="host:port of /metrics; empty turns it off"
    )
    # Kubernetes' gRPC probes and `earmark health` speak plaintext; with TLS on they need
    # a port of their own that serves the health service and nothing else.
    health_address: str = Field(
        "", description="host:port of a plaintext health-only port; empty turns it off"
    )
    rules: Path = Field(BUNDLED_RULES, description="rule pack directory")
    # Where each process keeps the last pack it made live, to serve when it (re)starts
    # beside a refused pack. On Kubernetes, an emptyDir: it outlives container restarts.
    last_good: Path | None = Field(
        None, description="folder for the last good pack; default: one per rules folder in the temp folder"
    )
    max_batch_size: int = Field(500, ge=1, le=100_000)
    # Processes sharing the port (SO_REUSEPORT) under a supervisor; 1 serves in-process.
    workers: int = Field(default_factory=lambda: usable_cpus()[0], ge=1, le=256)
    # durable_rules never releases the GIL, so more threads queue rather than add
    # throughput: 2 served ~40% more than 8 (bench runs with EARMARK_THREADS=2 and =8).
    # More cores need processes.
    threads: int = Field(2, ge=1, le=256, description="gRPC handler threads")
    watch: bool = Field(True, description="reload when a file under the rules directory changes")
    # For integrators while they build: an undeclared attribute is INVALID_ARGUMENT, as if
    # every request set `strict`. Off in production, where catalogs carry many.
    strict: bool = Field(False, description="refuse attributes the pack doesn't declare")
    # Verdicts kept per process, least recently used out; 0 turns the cache off.
    cache_entries: int = Field(10_000, ge=0, le=10_000_000, description="verdicts cached per process")
    # Composed verdicts kept per pack and locale, keyed by what decides one (the rules that
    # fired and the values they read), so that new products reuse them too; 0 turns it off.
    memo_entries: int = Field(
        DEFAULT_MEMO_ENTRIES,
        ge=0,
        le=1_000_000,
        description="composed verdicts kept per locale, for new products too",
    )
    grace_seconds: float = Field(10.0, ge=0, le=600, description="drain time on SIGTERM")
    max_message_bytes: int = Field(4 * 1024 * 1024, ge=1024)
    # Calls held at once, running or queued for a thread: a listing page fans out a few
    # hundred at once, and each waits a moment rather than being refused. Past this, or
    # after waiting max_queue_seconds for a turn, a call gets RESOURCE_EXHAUSTED.
    max_concurrent_rpcs: int = Field(
        512, ge=1, le=100_000, description="calls held at once, running or queued"
    )
    max_queue_seconds: float = Field(1.0, gt=0, le=60, description="longest a call waits for a thread")
    # Reflection and Health/Watch streams, on threads of their own; past this many open,
    # more are refused. A stream that sends nothing for stream_idle_seconds is cancelled.
    max_streams: int = Field(8, ge=1, le=1000, description="streams open at once")
    stream_idle_seconds: float = Field(
        60.0, gt=0, le=86_400, description="a silent stream is cancelled after"
    )
    # Each open connection costs about 15 KB and a file descriptor: 20,000 idle ones took a
    # worker past its memory limit. Past the cap grpc core closes new connections at once.
    max_connections: int = Field(2000, ge=1, le=1_000_000, description="client connections per process")
    connection_idle_seconds: float = Field(
        300.0, gt=0, le=86_400, description="an idle connection is closed after"
    )
    # Rotating connections lets new pods take their share behind a connection-level balancer.
    connection_age_seconds: float = Field(
        1800.0, gt=0, le=604_800, description="a connection is closed after"
    )
    # For calls that set no deadline of their own.
    default_deadline_seconds: float = Field(5.0, gt=0, le=3600)
    # How long a call may take to send its request message, and a new connection to start
    # HTTP/2: grpc core enforces neither, and a client that never sends would hold a thread.
    read_timeout_seconds: float = Field(5.0, gt=0, le=3600, description="time to send a request")
    # TLS: the server's certificate chain and key (PEM). With a client CA as well, clients
    # must present a certificate it signed (mutual TLS).
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_client_ca: Path | None = None
    # Earmark Studio, the merchandisers' web page (`earmark studio`): loopback by default,
    # because it writes the files that decide what shoppers see. Any other address needs
    # the token, which every request must then carry.
    studio_address: str = Field("127.0.0.1:8080", description="host:port Earmark Studio listens on")
    studio_token: str = Field("", description="the token Studio asks for; required off loopback")
    # A JSON line per evaluated product, for audits and `earmark replay`; masked as the
    # pack's decision_log.mask says. Written off the calls' threads: past `buffer`
    # waiting decisions, more are dropped and counted, never waited for.
    decision_log: Path | None = Field(None, description="file the decision log is appended to; unset: off")
    decision_log_sample: float = Field(
        1.0, gt=0, le=1, description="share of calls whose decisions are logged"
    )
    decision_log_buffer: int = Field(10_000, ge=1, le=1_000_000, description="decisions held for the writer")
    # Not an EARMARK_ variable: set from the standard OTEL_* ones (see tracing_wanted).
    tracing: bool = Field(False, description="export OpenTelemetry traces")
    # Every call writes an info line; at thousands of calls a second that is most of a
    # log bill. A share below 1 keeps that share of the successful, quick calls' lines;
    # errors and calls slower than slow_call_seconds are always written.
    log_sample: float = Field(1.0, ge=0, le=1, description="share of successful calls' rpc lines written")
    slow_call_seconds: float = Field(1.0, gt=0, le=3600, description="calls this slow are always logged")
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["auto", "json", "console"] = Field(
        "auto", description="auto: console when stderr is a terminal, JSON otherwise"
    )

    def workers_from(self) -> str:
        """Where `workers` came from, for the start-up log line."""
        if "workers" in self.model_fields_set:
            return f"{self.workers} from EARMARK_WORKERS"
        return usable_cpus()[1]

    @property
    def last_good_folder(self) -> Path:
        """EARMARK_LAST_GOOD, or a folder of this rules folder's own: two servers of two
        packs on one machine must never fall back to each other's pack."""
        if self.last_good is not None:
            return self.last_good
        key = hashlib.sha256(str(self.rules.absolute()).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"earmark-last-good-{key}"

    @model_validator(mode="after")
    def _tls_is_whole(self) -> Settings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("EARMARK_TLS_CERT and EARMARK_TLS_KEY must be set together")
        if self.tls_client_ca is not None and self.tls_cert is None:
            raise ValueError("EARMARK_TLS_CLIENT_CA needs EARMARK_TLS_CERT and EARMARK_TLS_KEY")
        for name in ("tls_cert", "tls_key", "tls_client_ca"):
            path = getattr(self, name)
            if path is not None and not path.is_file():
                raise ValueError(f"EARMARK_{name.upper()}={str(path)!r}: no such file")
        return self

    @model_validator(mode="after")
    def _ports_differ(self) -> Settings:
        ports: dict[int, str] = {}
        for name in ("address", "metrics_address", "health_address"):
            value = getattr(self, name)
            port = Address.parse(value).port if value else 0
            if port != 0 and port in ports:
                other = ports[port]
                raise ValueError(
                    f"EARMARK_{name.upper()}={value!r} uses the port of EARMARK_{other.upper()}"
                    f"={getattr(self, other)!r}"
                )
            ports[port] = name
        return self

    @field_validator("address", "metrics_address", "health_address", "studio_address")
    @classmethod
    def _has_port(cls, value: str, info: ValidationInfo) -> str:
        if not value and info.field_name != "address":
            return value
        Address.parse(value)  # raises ValueError, which pydantic reports with the variable
        return value


TRACE_EXPORTERS = ("otlp", "console")  # what the image ships (tracing.py builds them)


def tracing_wanted(env: Mapping[str, str]) -> bool:
    """Traces are off unless the standard OpenTelemetry variables ask for them: an
    exporter named, or an OTLP endpoint given; OTEL_SDK_DISABLED=true wins over both.
    Raises ConfigError for an exporter or OTLP protocol Earmark doesn't ship, which would
    otherwise send nothing, silently."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none":
        return False
    if exporter and exporter not in TRACE_EXPORTERS:
        raise ConfigError(
            f"invalid configuration:\n  OTEL_TRACES_EXPORTER={shown(exporter)}: Earmark ships the "
            f"{' and '.join(TRACE_EXPORTERS)} exporters"
        )
    for name in ("OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"):
        protocol = env.get(name, "").strip().lower()
        if protocol and protocol != "grpc":
            raise ConfigError(
                f"invalid configuration:\n  {name}={shown(protocol)}: Earmark's OTLP exporter speaks grpc"
            )
    return bool(exporter) or bool(
        env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read settings from `environ` (default: the process environment).

    Raises ConfigError naming each bad variable and its value.
    """
    env = os.environ if environ is None else environ
    prefix = "EARMARK_"
    values: dict[str, object] = {k[len(prefix) :].lower(): v for k, v in env.items() if k.startswith(prefix)}
    if "tracing" in values:  # one way to turn traces on: the one every OTel SDK knows
        raise ConfigError(
            "invalid configuration:\n  EARMARK_TRACING is not a setting: traces are turned on by the"
            " standard variables OTEL_TRACES_EXPORTER or OTEL_EXPORTER_OTLP_ENDPOINT"
        )
    values["tracing"] = tracing_wanted(env)
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        known = [prefix + name.upper() for name in Settings.model_fields]
        lines = []
        for err in exc.errors():
            if not err["loc"]:  # a rule across settings, which names them itself
                lines.append(str(err["msg"]).removeprefix("Value error, "))
                continue
            name = prefix + str(err["loc"][0]).upper()
            if err["type"] == "extra_forbidden":
                # A typo'd variable silently ignored is how a deploy ends up on defaults.
                lines.append(f"{name} is not a setting{did_you_mean(name, known, quote='')}")
            else:
                lines.append(f"{name}={shown(env.get(name, ''))}: {err['msg']}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from None
