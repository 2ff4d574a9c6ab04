"""The real image, built from the Dockerfile and run with podman: it serves, answers its
health check, runs as non-root, reloads a mounted pack live, and stops cleanly on SIGTERM.
Run by `make container-test` (scripts/container-test.sh prepares podman and the base)."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from earmark.config import BUNDLED_RULES
from earmark.v1 import earmark_pb2 as pb
from earmark.v1 import earmark_pb2_grpc

from helpers import set_boom_meetings

ROOT = Path(__file__).resolve().parent.parent
BASE = "localhost/bookworm-min:latest"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def podman(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    tag = f"localhost/earmark-test:{uuid.uuid4().hex[:8]}"
    # Docker format: OCI images have no HEALTHCHECK field, and the check would be lost.
    build = [
        "build",
        "--format",
        "docker",
        "--build-arg",
        f"BASE_IMAGE={BASE}",
        "-t",
        tag,
        "-f",
        str(ROOT / "Dockerfile"),
    ]
    if CA_BUNDLE.exists():  # this machine's proxy CA, for pip inside the build; never in a layer
        build += ["--secret", f"id=pip-cert,src={CA_BUNDLE}"]
    started = time.monotonic()
    # One retry: the build fetches packages over the network, which can hiccup.
    if podman(*build, str(ROOT), timeout=900, check=False).returncode != 0:
        podman(*build, str(ROOT), timeout=900)
    size = int(podman("image", "inspect", "--format", "{{.Size}}", tag).stdout.strip())
    print(f"\nimage built in {time.monotonic() - started:.0f} s: {size / 2**20:.0f} MiB on a {BASE} base")
    yield tag
    podman("rmi", "-f", tag, check=False)
    podman("image", "prune", "-f", check=False)  # the builder stage's untagged layers


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(BUNDLED_RULES, target)
    tmp_path.chmod(0o755)
    for path in [target, *target.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)  # readable by the image's user
    return target


def _host_port(name: str, container_port: int) -> int:
    """The host port podman chose for `container_port` (published with no host port)."""
    published = podman("port", name, f"{container_port}/tcp").stdout.split()[0]  # 127.0.0.1:PORT
    return int(published.rpartition(":")[2])


def _describe(stub: earmark_pb2_grpc.EarmarkStub) -> pb.DescribeRulesResponse:
    return stub.DescribeRules(pb.DescribeRulesRequest(), timeout=5)


def test_the_image_serves_reloads_and_stops_cleanly(image: str, pack: Path) -> None:
    name = f"earmark-test-{uuid.uuid4().hex[:8]}"
    podman(
        "run", "-d", "--name", name,
        "-p", "127.0.0.1::50051",  # no host port: podman picks free ones, read back below
        "-p", "127.0.0.1::50052",
        "-v", f"{pack}:/app/rules:ro",
        image,
    )  # fmt: skip
    try:
        port, health_port = _host_port(name, 50051), _host_port(name, 50052)
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=60)
        stub = earmark_pb2_grpc.EarmarkStub(channel)

        request = pb.EvaluateRequest(product=pb.Product(id="hs"))
        request.product.specs.update({"mic": "boom", "connectivity": ["usb"]})
        verdict = stub.Evaluate(request, timeout=5).verdict
        assert "headset" == verdict.category and 7 == len(verdict.scores)

        for address in (f"127.0.0.1:{port}", f"127.0.0.1:{health_port}"):  # main and health-only ports
            with grpc.insecure_channel(address) as probe:
                health = health_pb2_grpc.HealthStub(probe).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert health_pb2.HealthCheckResponse.SERVING == health.status, address  # from the host
        assert 0 == podman("healthcheck", "run", name, check=False).returncode  # the image's HEALTHCHECK
        assert "10001" == podman("exec", name, "id", "-u").stdout.strip()  # not root

        first = _describe(stub).ruleset_version
        assert 21 != set_boom_meetings(pack, 21), "an edit that changes nothing proves nothing below"
        deadline = time.monotonic() + 30
        while _describe(stub).ruleset_version == first:
            assert time.monotonic() < deadline, "the mounted pack's edit never went live"
            time.sleep(0.3)
        channel.close()

        podman("stop", "--time", "20", name, timeout=60)  # SIGTERM, then a drain
        assert "0" == podman("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip()
        logs = podman("logs", name).stdout + podman("logs", name).stderr
        assert '"stopping"' in logs and '"SIGTERM"' in logs and '"reloaded"' in logs
    finally:
        podman("rm", "-f", name, check=False)
