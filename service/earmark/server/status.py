"""What a running server reports about its live pack (`earmark status`), read through
DescribeRules so that a merchandiser can confirm a publish without grpcurl."""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from earmark.v1 import earmark_pb2 as pb
from earmark.v1 import earmark_pb2_grpc


@dataclass(frozen=True)
class LiveStatus:
    version: str
    rules: int
    loaded_at: str  # ISO 8601, UTC
    last_reload_at: str  # "" before the first reload
    last_reload_error: str
    reloads_succeeded: int
    reloads_failed: int
    watching: bool
    watch_problem: str


def live_status(address: str, timeout: float) -> LiveStatus:
    """Ask the server at `address` (plaintext); raises grpc.RpcError if it can't answer."""
    with grpc.insecure_channel(address) as channel:
        stub = earmark_pb2_grpc.EarmarkStub(channel)  # type: ignore[no-untyped-call]  # generated, untyped
        answer = stub.DescribeRules(pb.DescribeRulesRequest(), timeout=timeout)
    return LiveStatus(
        version=answer.ruleset_version,
        rules=answer.rule_count,
        loaded_at=answer.loaded_at.ToJsonString(),
        last_reload_at=answer.last_reload_at.ToJsonString() if answer.HasField("last_reload_at") else "",
        last_reload_error=answer.last_reload_error,
        reloads_succeeded=answer.reloads_succeeded,
        reloads_failed=answer.reloads_failed,
        watching=answer.watching,
        watch_problem=answer.watch_problem,
    )
