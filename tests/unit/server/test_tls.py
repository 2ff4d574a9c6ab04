"""TLS and mutual TLS from certificate paths, with a throwaway CA made by trustme."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import pytest
import trustme
from click.testing import CliRunner
from grpc_health.v1 import health_pb2, health_pb2_grpc

from earmark.cli import main
from earmark.config import load_settings
from earmark.errors import ConfigError
from earmark.evaluation.evaluator import Evaluator
from earmark.server.grpc_server import EarmarkServer, check_health
from earmark.server.live import LivePack
from earmark.v1 import earmark_pb2_grpc

from helpers import evaluate_request


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def files(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tls")
    server = ca.issue_cert("localhost", "127.0.0.1")
    paths = {"cert": folder / "server.pem", "key": folder / "server.key", "ca": folder / "ca.pem"}
    server.cert_chain_pems[0].write_to_path(str(paths["cert"]))
    for extra in server.cert_chain_pems[1:]:
        extra.write_to_path(str(paths["cert"]), append=True)
    server.private_key_pem.write_to_path(str(paths["key"]))
    ca.cert_pem.write_to_path(str(paths["ca"]))
    return paths


@contextmanager
def _serve_tls(evaluator: Evaluator, env: dict[str, str]) -> Iterator[int]:
    """The port of a started server configured by `env`, as an operator would set it."""
    with EarmarkServer(
        load_settings({"EARMARK_ADDRESS": "127.0.0.1:0", **env}), LivePack(evaluator)
    ) as server:
        yield server.port


def _call(port: int, credentials: grpc.ChannelCredentials) -> str:
    with grpc.secure_channel(f"localhost:{port}", credentials) as channel:
        stub = earmark_pb2_grpc.EarmarkStub(channel)
        return stub.Evaluate(evaluate_request("p", {"mic": "boom"}), timeout=5).verdict.category


def test_tls_serves_a_client_that_trusts_the_ca(
    evaluator: Evaluator, ca: trustme.CA, files: dict[str, Path]
) -> None:
    with _serve_tls(
        evaluator, {"EARMARK_TLS_CERT": str(files["cert"]), "EARMARK_TLS_KEY": str(files["key"])}
    ) as port:
        assert "headset" == _call(port, grpc.ssl_channel_credentials(root_certificates=ca.cert_pem.bytes()))
        with grpc.insecure_channel(f"localhost:{port}") as plain, pytest.raises(grpc.RpcError):
            earmark_pb2_grpc.EarmarkStub(plain).Evaluate(evaluate_request("p", {}), timeout=2)


def test_mutual_tls_refuses_a_client_without_a_certificate_and_serves_one_with(
    evaluator: Evaluator, ca: trustme.CA, files: dict[str, Path]
) -> None:
    env = {
        "EARMARK_TLS_CERT": str(files["cert"]),
        "EARMARK_TLS_KEY": str(files["key"]),
        "EARMARK_TLS_CLIENT_CA": str(files["ca"]),
    }
    trust = ca.cert_pem.bytes()
    client = ca.issue_cert("storefront@example.com")
    with _serve_tls(evaluator, env) as port:
        with pytest.raises(grpc.RpcError) as caught:
            _call(port, grpc.ssl_channel_credentials(root_certificates=trust))
        assert grpc.StatusCode.UNAVAILABLE == caught.value.code()
        stranger = trustme.CA().issue_cert("intruder@example.com")  # signed by another CA
        with pytest.raises(grpc.RpcError):
            _call(
                port,
                grpc.ssl_channel_credentials(
                    trust, stranger.private_key_pem.bytes(), stranger.cert_chain_pems[0].bytes()
                ),
            )
        good = grpc.ssl_channel_credentials(
            trust, client.private_key_pem.bytes(), client.cert_chain_pems[0].bytes()
        )
        assert "headset" == _call(port, good)


def test_with_mutual_tls_probes_use_a_plaintext_port_that_serves_health_only(
    evaluator: Evaluator, files: dict[str, Path]
) -> None:
    env = {
        "EARMARK_TLS_CERT": str(files["cert"]),
        "EARMARK_TLS_KEY": str(files["key"]),
        "EARMARK_TLS_CLIENT_CA": str(files["ca"]),
    }
    # Without a health port, `earmark health` says what to set instead of failing vaguely.
    refused = CliRunner().invoke(main, ["health"], env=env)
    assert 2 == refused.exit_code
    assert "set EARMARK_HEALTH_ADDRESS" in refused.output

    settings = load_settings(
        {**env, "EARMARK_ADDRESS": "127.0.0.1:0", "EARMARK_HEALTH_ADDRESS": "127.0.0.1:0"}
    )
    with EarmarkServer(settings, LivePack(evaluator)) as server:
        health_address = f"127.0.0.1:{server.health_port}"
        assert "SERVING" == check_health(health_address, timeout=5)
        probe = CliRunner().invoke(main, ["health"], env={**env, "EARMARK_HEALTH_ADDRESS": health_address})
        assert 0 == probe.exit_code, probe.output
        with grpc.insecure_channel(health_address) as plain, pytest.raises(grpc.RpcError) as caught:
            earmark_pb2_grpc.EarmarkStub(plain).Evaluate(evaluate_request("p", {}), timeout=5)
        assert grpc.StatusCode.UNIMPLEMENTED == caught.value.code()  # health, and nothing else
        with grpc.insecure_channel(f"localhost:{server.port}") as plain, pytest.raises(grpc.RpcError):
            health_pb2_grpc.HealthStub(plain).Check(health_pb2.HealthCheckRequest(), timeout=2)
        server.health.enter_graceful_shutdown()  # what SIGTERM does first
        assert "NOT_SERVING" == check_health(health_address, timeout=5)


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"EARMARK_TLS_CERT": "/nope.pem"}, "must be set together"),
        (
            {"EARMARK_TLS_CERT": "/nope.pem", "EARMARK_TLS_KEY": "/nope.key"},
            "EARMARK_TLS_CERT='/nope.pem': no such file",
        ),
        ({"EARMARK_TLS_CLIENT_CA": "/ca.pem"}, "EARMARK_TLS_CLIENT_CA needs"),
    ],
)
def test_incomplete_tls_settings_are_named(env: dict[str, str], words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    assert words in str(caught.value)
