"""What the tests share: builders of requests and packs, fakes at the boundary, and real
servers (in-process or as an `earmark serve` process) to talk to."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import struct_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from earmark.config import Settings
from earmark.evaluation.evaluator import Evaluator
from earmark.server.grpc_server import EarmarkServer
from earmark.server.live import LivePack
from earmark.server.reload import Reloader, ReloadStatus
from earmark.v1 import earmark_pb2 as pb
from earmark.v1 import earmark_pb2_grpc

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
EXAMPLES = ROOT / "examples"

BOOM_GAMING_HEADSET: dict[str, Any] = {
    "mic": "boom",
    "form_factor": "over_ear",
    "connectivity": ["wireless_dongle", "usb"],
    "noise_cancelling": "passive",
    "back": "closed",
    "driver_mm": 50,
    "battery_hours": 30,
    "weight_g": 320,
    "price_usd": 149,
    "mic_noise_cancelling": True,
}

ANC_HEADPHONES: dict[str, Any] = {
    "mic": "integrated",
    "form_factor": "over_ear",
    "connectivity": ["bluetooth"],
    "noise_cancelling": "active",
    "back": "closed",
    "battery_hours": 30,
    "weight_g": 250,
    "price_usd": 399,
}


def struct(values: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(values)
    return message


def product(product_id: str, specs: dict[str, Any]) -> pb.Product:
    return pb.Product(id=product_id, specs=struct(specs))


def evaluate_request(
    product_id: str, specs: dict[str, Any], shopper: dict[str, Any] | None = None, *, trace: bool = False
) -> pb.EvaluateRequest:
    request = pb.EvaluateRequest(product=product(product_id, specs), trace=trace)
    if shopper is not None:
        request.shopper.CopyFrom(struct(shopper))
    return request


def make_pack(rules: list[Any], specs: tuple[Any, ...], shopper: tuple[Any, ...] = ()) -> Any:
    """A minimal Pack around hand-built rules, for engine tests."""
    from earmark.rulepack.model import Band, Category, Location, Pack, Rule, UseCase, Wording
    from earmark.rulepack.templates import parse_template

    text = parse_template("x")
    wording = Wording((Band(0, text),), (Band(0, text),), text, text, text, text, text, "and", 2)
    built = [
        Rule(
            id=f"rule-{i}",
            description="d",
            condition=condition,
            location=Location("t.yaml", i + 1),
            index=i,
            fit=1,
        )
        for i, condition in enumerate(rules)
    ]
    return Pack(
        name="test",
        version="test-1",
        categories=(Category("c", "C", "e"),),
        default_category="c",
        use_cases=(UseCase("u", "U", "u", 50, 0),),
        specs=specs,
        shopper=shopper,
        rules=tuple(built),
        wording=wording,
        explanation_limit=300,
    )


def rss_bytes() -> int:
    """This process's resident memory now."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class FailingEvaluator:
    """A fake at the boundary: an evaluator whose engine call fails as a bug would."""

    def __init__(self, real: Evaluator, error: Exception) -> None:
        self.pack = real.pack
        self.validator = real.validator
        self.loaded_at = real.loaded_at
        self._error = error

    def evaluate(self, subject: object, *, words: bool = True) -> object:
        raise self._error

    def keep_composed(self, entries: int) -> None:
        """Nothing is composed here, so there is nothing to keep."""


class SlowEvaluator(FailingEvaluator):
    """A fake at the boundary: evaluation that takes a while, and says when it started."""

    def __init__(self, real: Evaluator, seconds: float = 0.5) -> None:
        super().__init__(real, RuntimeError("unused"))
        self.seconds = seconds
        self._real = real
        self.started = threading.Event()

    def evaluate(self, subject: object, *, words: bool = True) -> object:
        self.started.set()
        time.sleep(self.seconds)
        return self._real.evaluate(subject, words=words)  # type: ignore[arg-type]


# ---- hostile rule files, shared by the limit, file and soak tests -----------------------


def probe_rule(rule_id: str, when: str, then: str = "scores: {music: 1}") -> str:
    """One rule, as YAML in a rule file's `rules:` list, with `when` on one line."""
    return f"  - id: {rule_id}\n    description: probe\n    when:\n      {when}\n    then:\n      {then}\n"


def alias_bomb(levels: int, width: int) -> str:
    """A YAML file whose aliases expand to width**levels values."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\nrules: []\n"


WIDE_ANY = "any:\n" + "".join(f"        - weight_g: {{at_least: {i}}}\n" for i in range(512))
LONG_ONE_OF = "price_usd: [" + ", ".join(str(i) for i in range(600)) + "]"
MANY_CERTIFICATIONS = "certifications: {contains_any: [" + ", ".join(f"c{i}" for i in range(600)) + "]}"


def wait_for(condition: Callable[[], bool], seconds: float = 20) -> bool:
    """Poll `condition` until it holds (True) or `seconds` pass (False)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


# ---- real servers ---------------------------------------------------------------------


class RunningServer:
    """An in-process server on a free port, with a real channel and stub to it."""

    def __init__(self, server: EarmarkServer) -> None:
        self.server = server
        self.address = f"127.0.0.1:{server.port}"
        self.channel = grpc.insecure_channel(self.address)
        self.stub = earmark_pb2_grpc.EarmarkStub(self.channel)

    def sample(self, name: str, **labels: str) -> float:
        """A metric of this server (its own registry: other servers never count here)."""
        return self.server.metrics.registry.get_sample_value(name, labels) or 0.0

    def close(self) -> None:
        self.channel.close()
        self.server.stop(grace=1)


@contextmanager
def serving(
    live: LivePack | Any, reloader: Reloader | None = None, **overrides: object
) -> Iterator[RunningServer]:
    """A started server over `live` with `overrides` of the default Settings, closed on
    exit; DescribeRules reports `reloader`'s status, if one is given."""
    # A shared CI host can stall a thread past the production queue limit (1 s) even for
    # one call at a time; tests of admission pass their own limit.
    overrides.setdefault("max_queue_seconds", 30)
    settings = Settings(address="127.0.0.1:0", **overrides)  # type: ignore[arg-type]  # port 0: any free one
    status = (lambda: reloader.status) if reloader is not None else ReloadStatus
    running = RunningServer(EarmarkServer(settings, live, status=status))
    running.server.start()
    try:
        yield running
    finally:
        running.close()


def stalled_call(address: str, method: str, release: threading.Event, outcomes: list[str]) -> None:
    """Open `method` and send headers but never the request message (a unary method
    called as client-streaming, with a request iterator that blocks)."""

    def nothing() -> Iterator[bytes]:
        release.wait()
        return
        yield b""

    with grpc.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)]) as channel:
        call = channel.stream_unary(method, request_serializer=bytes, response_deserializer=bytes)
        try:
            call(nothing(), timeout=60)
            outcomes.append("OK")
        except grpc.RpcError as exc:
            outcomes.append(exc.code().name)


# The log line that says which ports a server bound (a supervisor's, or a lone server's),
# and the ports in it, in either log format.
LISTENING_EVENTS = ("supervising", "serving", "waiting_for_a_good_pack")
_BOUND_PORT = re.compile(r'(?<![a-z_])(port|health_port|metrics_port)"?[=:]\s*(\d+)')


class ServerProcess(subprocess.Popen[str]):
    """`earmark serve` as a real process, its output read as it comes by a thread per
    pipe: a test can wait for the line that names the ports it bound, and still read all
    of it at the end (communicate). Its addresses default to port 0, so the system picks
    free ports as the server binds them: no port is chosen first and lost to a race."""

    def __init__(self, env: dict[str, str]) -> None:
        super().__init__(
            [sys.executable, "-m", "earmark", "serve"],
            env={
                **os.environ,
                "EARMARK_WORKERS": "1",
                "EARMARK_ADDRESS": "127.0.0.1:0",
                "EARMARK_METRICS_ADDRESS": "127.0.0.1:0",
                "EARMARK_MAX_QUEUE_SECONDS": "30",  # as in serving(): a busy host is not a test failure
                **env,
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [
            threading.Thread(target=_read_lines, args=(pipe, lines), daemon=True)
            for pipe, lines in ((self.stdout, self.out), (self.stderr, self.err))
        ]
        for reader in self._readers:
            reader.start()

    def ports(self, seconds: float = 60) -> dict[str, int]:
        """The ports the server (with workers, its supervisor) says it bound; fails if it
        exits first."""

        def line() -> str | None:
            return next(
                (
                    line
                    for line in list(self.err)
                    if any(e in line for e in LISTENING_EVENTS) and _BOUND_PORT.search(line)
                ),
                None,
            )

        found = line() if wait_for(lambda: line() is not None or self.poll() is not None, seconds) else None
        if found is None:  # never left running behind a failed test
            self.kill()
            raise AssertionError(f"no line naming the ports bound: {self.communicate(timeout=30)}")
        return {name: int(port) for name, port in _BOUND_PORT.findall(found)}

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.ports()['port']}"

    def communicate(self, input: str | None = None, timeout: float | None = None) -> tuple[str, str]:  # type: ignore[override]  # the readers hold the pipes
        self.wait(timeout)
        for reader in self._readers:
            reader.join(timeout)
        return "".join(self.out), "".join(self.err)


def _read_lines(pipe: Any, lines: list[str]) -> None:
    try:
        for line in pipe:
            lines.append(line)
    except (ValueError, OSError):  # the pipe was closed under the reader
        return


def studio_process(*args: str) -> tuple[subprocess.Popen[str], str]:
    """`earmark studio ARGS` on a free port, and its URL, as its first line names it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "earmark", "studio", *args, "--address", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    threading.Thread(target=_read_lines, args=(process.stdout, []), daemon=True).start()
    found = re.search(r" on (http://\S+)/ ", first)
    assert found, (first, process.wait(30))
    return process, found.group(1)


@contextmanager
def unanswered_address() -> Iterator[str]:
    """An address where nothing answers, for as long as it is held: a port bound but never
    listening, so no other test's server can take it meanwhile."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{held.getsockname()[1]}"


def serve_process(env: dict[str, str]) -> ServerProcess:
    """`earmark serve` as a real process; one worker and free ports unless `env` says otherwise."""
    return ServerProcess(env)


def serve_workers(
    pack: Path, workers: int, env: dict[str, str] | None = None
) -> tuple[ServerProcess, str, int]:
    """`earmark serve` over `pack` with `workers` processes, and a /metrics port to watch
    them by: (process, address, metrics port)."""
    process = serve_process({"EARMARK_WORKERS": str(workers), "EARMARK_RULES": str(pack), **(env or {})})
    ports = process.ports()
    return process, f"127.0.0.1:{ports['port']}", ports["metrics_port"]


def node_client_dir(target: Path) -> Path:
    """A copy of tests/node with its two pinned npm packages installed, at `target`: where
    a Node client of Earmark can run."""
    npm = shutil.which("npm")
    assert npm and shutil.which("node"), "Node.js and npm come with this machine image"
    shutil.copytree(TESTS / "node", target)
    installed = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=target,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert 0 == installed.returncode, installed.stderr
    return target


def wait_serving(channel: grpc.Channel, process: subprocess.Popen[str]) -> None:
    """Poll the health service until it answers SERVING; fail if the process exits first."""
    health = health_pb2_grpc.HealthStub(channel)

    def is_serving() -> bool:
        assert process.poll() is None, process.communicate()
        try:
            answer = health.Check(health_pb2.HealthCheckRequest(), timeout=1)
        except grpc.RpcError:
            return False
        return answer.status == health_pb2.HealthCheckResponse.SERVING

    assert wait_for(is_serving, 30), "server never became SERVING"


BOOM_ONLY = {"mic": "boom"}


def meetings_score(live: LivePack, specs: dict[str, Any]) -> tuple[str, int]:
    """(the ruleset version, the meetings score) the live pack gives `specs`."""
    with live.use() as evaluator:
        verdict = evaluator.verdict_for("p", specs)
    return verdict.ruleset_version, next(s.value for s in verdict.scores if s.use_case.id == "meetings")


def set_boom_meetings(pack: Path, amount: int) -> int:
    """Edit the boom mic's meetings score, the way a merchandiser would, and return the
    amount it had (a caller waiting for the edit to go live checks that it differs). The
    tests, the bench and the container test all edit a pack this way."""
    talking = pack / "talking.yaml"
    text = talking.read_text()
    start = text.index("scores: {meetings: ")  # the file's first rule: the boom mic
    end = text.index(",", start)
    before = int(text[start + len("scores: {meetings: ") : end])
    talking.write_text(text[:start] + f"scores: {{meetings: {amount}" + text[end:])
    return before


# ---- an oracle: the bundled pack as written, read without Earmark's loader ---------------


def written_pack(
    specs: dict[str, Any] | None = None,
) -> tuple[dict[str, tuple[int, int]], dict[str, dict[str, int]]]:
    """From the YAML itself: each use case's (default, floor), and each rule's amounts by
    use case (and "fit"). Tests check Earmark's arithmetic against this, not against
    numbers Earmark derived itself. With `specs`, a `graded:` rule's amounts are the
    product's, by the rule docs/rules.md states: the share of the way from `from` to `to`,
    clamped to [0, 1], times the amount, rounded half away from zero."""
    from ruamel.yaml import YAML

    from earmark.config import BUNDLED_RULES

    yaml = YAML(typ="safe", pure=True)
    manifest = yaml.load((BUNDLED_RULES / "pack.yaml").read_text())
    defaults = {
        u["id"]: (u["default"], u.get("floor", 0)) for u in manifest["use_cases"]
    }  # floor: 0 unless written
    amounts: dict[str, dict[str, int]] = {}
    for path in sorted(BUNDLED_RULES.glob("*.yaml")):
        if path.name == "pack.yaml":
            continue
        for rule in yaml.load(path.read_text())["rules"]:
            then = rule["then"]
            written = {**then.get("scores", {}), **({"fit": then["fit"]} if "fit" in then else {})}
            grade = then.get("graded")
            if grade is not None and specs is not None:
                value = specs.get(grade["by"])
                share = 0.0 if value is None else (value - grade["from"]) / (grade["to"] - grade["from"])
                share = min(1.0, max(0.0, share))
                scaled = {
                    k: int(math.copysign(math.floor(abs(v) * share + 0.5), v)) for k, v in written.items()
                }
                written = {k: v for k, v in scaled.items() if v}
            amounts[rule["id"]] = written
    return defaults, amounts


# ---- /metrics of a running process ------------------------------------------------------

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(port: int) -> Samples:
    """Every sample on http://127.0.0.1:<port>/metrics, by name and labels."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def sample_value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples called `name` that carry `labels`."""
    return sum(v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= set(ls))


def scrape_until(port: int, ready: Callable[[Samples], bool], seconds: float = 30) -> Samples:
    """Scrape until `ready` holds: reloads and worker start-ups take longer on a busy machine."""
    found: list[Samples] = []

    def check() -> bool:
        found[:] = [scrape(port)]
        return ready(found[0])

    assert wait_for(check, seconds), "the metrics never showed the expected state"
    return found[0]


def live_versions(samples: Samples) -> list[frozenset[tuple[str, str]]]:
    """One entry per process serving a pack (earmark_ruleset_info is 1 for its version)."""
    return [ls for (n, ls), v in samples.items() if n == "earmark_ruleset_info" and v == 1]


# ---- `earmark serve` logging to a file, for tests that make it log a lot ------------------

BROKEN = "rules: [\n"  # a rule file that never parses


class Served:
    """`earmark serve` with its log in a file (a pipe would fill and stall it)."""

    def __init__(self, process: subprocess.Popen[bytes], log: Path) -> None:
        self.process, self.log = process, log
        self.ports: dict[str, int] = {}

    def bound(self) -> dict[str, int]:
        """The ports it says it bound (the first line that names them, which comes once)."""
        if not self.ports:

            def named() -> bool:
                found = [e for name in LISTENING_EVENTS for e in self.events(name) if e.get("port")]
                if found:
                    self.ports = {
                        k: v for k, v in found[0].items() if k.endswith("port") and isinstance(v, int)
                    }
                return bool(found) or self.process.poll() is not None

            assert wait_for(named, 60) and self.ports, self.log.read_text()[-2000:]
        return self.ports

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.bound()['port']}"

    def events(self, name: str) -> list[dict[str, object]]:
        # Only whole lines: the server may be writing the last one as it is read.
        whole = self.log.read_text().split("\n")[:-1]
        lines = [json.loads(line) for line in whole if line.startswith("{")]
        return [line for line in lines if line.get("event") == name]

    def workers(self) -> list[int]:
        return [int(p) for p in os.popen(f"pgrep -P {self.process.pid}").read().split()]

    def health(self) -> str:
        with grpc.insecure_channel(self.address, options=[("grpc.use_local_subchannel_pool", 1)]) as channel:
            try:
                answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2)
            except grpc.RpcError as exc:
                return exc.code().name
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status))

    def describe(self) -> pb.DescribeRulesResponse:
        """Over a fresh connection, which the kernel gives to any of the workers."""
        with grpc.insecure_channel(self.address, options=[("grpc.use_local_subchannel_pool", 1)]) as channel:
            return earmark_pb2_grpc.EarmarkStub(channel).DescribeRules(pb.DescribeRulesRequest(), timeout=5)

    def evaluate(self, product_id: str) -> str:
        with grpc.insecure_channel(self.address, options=[("grpc.use_local_subchannel_pool", 1)]) as channel:
            answer = earmark_pb2_grpc.EarmarkStub(channel).Evaluate(
                evaluate_request(product_id, {"mic": "boom"}), timeout=5
            )
        return answer.verdict.category


@contextmanager
def served(pack: Path, tmp_path: Path, workers: int, **env: str) -> Iterator[Served]:
    """`earmark serve` over `pack` on free ports, logging JSON to a file in `tmp_path`;
    yielded once it has said which ports it bound."""
    log = tmp_path / f"serve-{time.monotonic_ns()}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "earmark", "serve"],
            env={
                **os.environ,
                "EARMARK_WORKERS": str(workers),
                "EARMARK_ADDRESS": "127.0.0.1:0",
                "EARMARK_METRICS_ADDRESS": "127.0.0.1:0",
                "EARMARK_RULES": str(pack),
                "EARMARK_LAST_GOOD": str(tmp_path / "last-good"),
                "EARMARK_LOG_FORMAT": "json",
                **env,
            },
            stdout=out,
            stderr=out,
        )
    running = Served(process, log)
    try:
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
