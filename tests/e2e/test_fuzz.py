"""Fuzzing, as a standing guard: mutated rule files into the pack loader, and arbitrary
bytes into the request path. Seeds live in tests/fuzz/corpus/. `make test` runs a few
dozen cases; `make fuzz` runs FUZZ_EXAMPLES of them (default there: 2,000)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from earmark.errors import PackError
from earmark.evaluation.evaluator import Evaluator

from helpers import TESTS, RunningServer, rss_bytes

CORPUS = TESTS / "fuzz" / "corpus"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
LOAD_SECONDS = 15  # the bundled pack loads in well under a second
MEMORY_BOUND = 300 * 1024**2
# Fragments that have hurt YAML readers: aliases, tags, deep nesting, tabs, odd scalars.
NASTY = [b"&a ", b"*a", b"!x ", b"!!python/object ", b"[" * 300, b"{a: " * 100, b"\t", b": ", b"- ",
         b"\xff", b"\x00", b"1e308", b"-.inf", b"~", b"'", b'"', b"? ", b"%YAML 1.1\n", b"---\n"]  # fmt: skip


def _seeds(suffix: str) -> list[bytes]:
    return [p.read_bytes() for p in sorted(CORPUS.glob(f"*{suffix}"))]


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes], fragments: list[bytes]) -> bytes:
    """A seed with a few bytes replaced, removed or inserted."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        chunk = draw(st.one_of(st.sampled_from(fragments), st.binary(min_size=1, max_size=8)))
        if action == "insert":
            data[at:at] = chunk
        elif action == "delete":
            del data[at : at + len(chunk)]
        else:
            data[at : at + len(chunk)] = chunk
    return bytes(data)


@pytest.fixture(scope="module")
def fuzz_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from earmark.config import BUNDLED_RULES

    target = tmp_path_factory.mktemp("fuzz") / "audio"
    shutil.copytree(BUNDLED_RULES, target)
    return target


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=mutated(_seeds(".yaml"), NASTY))
def test_the_pack_loader_returns_problems_for_any_mutated_rule_file(fuzz_pack: Path, data: bytes) -> None:
    (fuzz_pack / "talking.yaml").write_bytes(data)  # in place of a real file, so a mild mutation loads
    before = rss_bytes()
    started = time.monotonic()
    try:
        Evaluator.from_directory(fuzz_pack).close()
    except PackError as exc:
        assert exc.problems
        assert all(len(str(p)) < 1000 for p in exc.problems)
    assert time.monotonic() - started < LOAD_SECONDS
    assert rss_bytes() - before < MEMORY_BOUND


REQUESTS = ["/earmark.v1.Earmark/Evaluate", "/earmark.v1.Earmark/EvaluateBatch"]


@settings(max_examples=EXAMPLES * 4, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    method=st.sampled_from(REQUESTS),
    data=st.one_of(
        st.binary(max_size=200), mutated(_seeds(".bin"), [b"\x0a\xff\xff\xff\x0f", b"\x32\x00", b"\xff"])
    ),
)
def test_the_request_path_answers_any_bytes_with_a_verdict_or_invalid_argument(
    running: RunningServer, method: str, data: bytes
) -> None:
    call = running.channel.unary_unary(method, request_serializer=bytes, response_deserializer=bytes)
    try:
        call(data, timeout=10)
    except grpc.RpcError as exc:
        assert grpc.StatusCode.INVALID_ARGUMENT == exc.code(), exc.details()
