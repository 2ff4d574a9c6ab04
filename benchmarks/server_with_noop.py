"""An Earmark server plus a no-op RPC on the same grpc.Server, for `make bench`.

Both no-op methods parse the same EvaluateRequest, through the same interceptor and thread
pool. `Call` answers an empty EvaluateResponse; `Canned` answers a real verdict computed
once at start-up, so comparing against it separates Earmark's work from the cost of
sending an answer of that size.

With `--bare`, the process is instead a bare grpcio server of the same contract: the
generated servicer with a no-op Evaluate, a plain thread pool and no interceptors, the
floor any Python gRPC service stands on.
"""

from __future__ import annotations

import signal
import sys
import threading
from concurrent import futures

import grpc

from earmark.config import load_settings
from earmark.evaluation.evaluator import Evaluator
from earmark.logs import configure_logging
from earmark.server.grpc_server import EarmarkServer
from earmark.server.live import LivePack
from earmark.server.wire import verdict_message
from earmark.tracing import configure_tracing, shutdown_tracing
from earmark.v1 import earmark_pb2 as pb
from earmark.v1 import earmark_pb2_grpc


def _noop(request: pb.EvaluateRequest, context: grpc.ServicerContext) -> pb.EvaluateResponse:
    return pb.EvaluateResponse()


def _canned(evaluator: Evaluator) -> pb.EvaluateResponse:
    case = evaluator.pack.examples[0]
    verdict = evaluator.verdict_for("canned", case.product)
    return pb.EvaluateResponse(verdict=verdict_message(verdict, trace=False))


class _BareNoop(earmark_pb2_grpc.EarmarkServicer):
    def Evaluate(self, request: pb.EvaluateRequest, context: grpc.ServicerContext) -> pb.EvaluateResponse:
        return pb.EvaluateResponse()


def _serve_bare(address: str, stop: threading.Event) -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))  # Earmark's default threads
    earmark_pb2_grpc.add_EarmarkServicer_to_server(_BareNoop(), server)
    server.add_insecure_port(address)
    server.start()
    while not stop.wait(1.0):
        pass
    server.stop(grace=1)


def main() -> int:
    if "--bare" in sys.argv:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        _serve_bare(sys.argv[1], stop)
        return 0
    settings = load_settings().model_copy(update={"address": sys.argv[1]})
    configure_logging(settings.log_level, "json")
    if settings.tracing:  # as `earmark serve` does (bench_observability.py)
        configure_tracing()
    evaluator = Evaluator.from_directory(settings.rules)
    server = EarmarkServer(settings, LivePack(evaluator), share_port="--share-port" in sys.argv)
    canned = _canned(evaluator)
    handler = grpc.method_handlers_generic_handler(
        "earmark.bench.Noop",
        {
            "Call": grpc.unary_unary_rpc_method_handler(
                _noop, pb.EvaluateRequest.FromString, pb.EvaluateResponse.SerializeToString
            ),
            "Canned": grpc.unary_unary_rpc_method_handler(
                lambda request, context: canned,
                pb.EvaluateRequest.FromString,
                pb.EvaluateResponse.SerializeToString,
            ),
        },
    )
    server.grpc_server.add_generic_rpc_handlers((handler,))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server.start()
    while not stop.wait(1.0):
        pass
    server.stop(grace=1)
    shutdown_tracing()
    return 0


if __name__ == "__main__":
    sys.exit(main())
