"""Shared fixtures: the bundled pack, a copy to break, and a real server on a free port."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from earmark.config import BUNDLED_RULES, Settings
from earmark.evaluation.evaluator import Evaluator
from earmark.server.grpc_server import EarmarkServer
from earmark.server.live import LivePack
from earmark.v1 import earmark_pb2_grpc


@pytest.fixture(scope="session")
def evaluator() -> Evaluator:
    """The bundled audio pack, loaded and compiled once for the whole run."""
    return Evaluator.from_directory(BUNDLED_RULES)


@pytest.fixture
def pack_copy(tmp_path: Path) -> Path:
    """A private copy of the bundled pack that a test may edit or break."""
    target = tmp_path / "audio"
    shutil.copytree(BUNDLED_RULES, target)
    return target


class RunningServer:
    def __init__(self, server: EarmarkServer) -> None:
        self.server = server
        self.address = f"127.0.0.1:{server.port}"
        self.channel = grpc.insecure_channel(self.address)
        self.stub = earmark_pb2_grpc.EarmarkStub(self.channel)

    def close(self) -> None:
        self.channel.close()
        self.server.stop(grace=1)


def start_server(live: LivePack, **overrides: object) -> RunningServer:
    settings = Settings(address="127.0.0.1:0", **overrides)  # port 0: the OS picks a free one
    server = EarmarkServer(settings, live)
    server.start()
    return RunningServer(server)


@pytest.fixture(scope="module")
def running(evaluator: Evaluator) -> Iterator[RunningServer]:
    """A real Earmark server over the bundled pack, with a real channel to it."""
    server = start_server(LivePack(evaluator), max_batch_size=50)
    yield server
    server.close()
