"""Every hostile client of issue 20 at once, in a process of its own (so that its threads
don't take the measuring process's GIL), for SECONDS:

    python hostile_clients.py GRPC_ADDRESS STUDIO_URL SECONDS

- 64 reflection streams on one connection that ask one question and fall silent, reopened
  when the server ends them;
- three 100,000-name Evaluate calls with a 1 s deadline, every few seconds;
- a 230 KB request of junk names every few seconds (the near-miss memo's poison);
- a burst of 200 concurrent Evaluate calls every few seconds;
- 40 callers that send headers and never their message;
- 10,000 connections that start HTTP/2 and then say nothing, opened 500 a second;
- 70 connections to Studio trickling their headers, from another loopback address,
  reopened when Studio closes them.

Prints one JSON line: what each attacker got, by status code.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator

import grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from earmark.v1 import earmark_pb2 as pb

EVALUATE = "/earmark.v1.Earmark/Evaluate"
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"  # + empty SETTINGS
IDLE_CONNECTIONS = 10_000

outcomes: dict[str, Counter[str]] = {}
lock = threading.Lock()


def count(attacker: str, outcome: str) -> None:
    with lock:
        outcomes.setdefault(attacker, Counter())[outcome] += 1


def junk_request(names: int, prefix: str) -> bytes:
    request = pb.EvaluateRequest(product=pb.Product(id=f"{prefix}-{names}"))
    request.product.specs.update({"mic": "boom", **{f"{prefix}_{i:06d}": i for i in range(names)}})
    return request.SerializeToString()


def raw_call(channel: grpc.Channel) -> Callable[..., bytes]:
    return channel.unary_unary(EVALUATE, request_serializer=bytes, response_deserializer=bytes)


def every(seconds: float, stop: threading.Event, action: Callable[[], None]) -> None:
    while not stop.is_set():
        action()
        stop.wait(seconds)


def reflection_streams(address: str, stop: threading.Event) -> None:
    channel = grpc.insecure_channel(address)

    def one_stream() -> None:
        while not stop.is_set():

            def questions() -> Iterator[reflection_pb2.ServerReflectionRequest]:
                yield reflection_pb2.ServerReflectionRequest(list_services="")
                stop.wait()

            answers = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
                questions(), timeout=120
            )
            try:
                for _ in answers:
                    pass
                count("reflection", "OK")
            except grpc.RpcError as exc:
                count("reflection", exc.code().name)
            stop.wait(1)  # and open it again, holding on to 64

    streams = [threading.Thread(target=one_stream, daemon=True) for _ in range(64)]
    for stream in streams:
        stream.start()
    stop.wait()
    channel.close()


def name_bombs(address: str, stop: threading.Event) -> None:
    bomb = junk_request(100_000, "bomb")
    channel = grpc.insecure_channel(address, options=[("grpc.max_send_message_length", 8 * 1024 * 1024)])
    call = raw_call(channel)

    def three() -> None:
        futures = [call.future(bomb, timeout=1) for _ in range(3)]
        for future in futures:
            try:
                future.result()
                count("name_bombs", "OK")
            except grpc.RpcError as exc:
                count("name_bombs", exc.code().name)

    every(5, stop, three)


def memo_poison(address: str, stop: threading.Event) -> None:
    poison = junk_request(10_000, "poison")
    channel = grpc.insecure_channel(address)
    call = raw_call(channel)

    def send() -> None:
        try:
            call(poison, timeout=5)
            count("memo_poison", "OK")
        except grpc.RpcError as exc:
            count("memo_poison", exc.code().name)

    every(5, stop, send)


def bursts(address: str, stop: threading.Event) -> None:
    request = pb.EvaluateRequest(product=pb.Product(id="burst"))
    request.product.specs.update({"mic": "boom", "form_factor": "over_ear"})
    data = request.SerializeToString()
    channel = grpc.insecure_channel(address)
    call = raw_call(channel)

    def burst() -> None:
        futures = [call.future(data, timeout=5) for _ in range(200)]
        for future in futures:
            try:
                future.result()
                count("bursts", "OK")
            except grpc.RpcError as exc:
                count("bursts", exc.code().name)

    every(4, stop, burst)


def stalled_callers(address: str, stop: threading.Event) -> None:
    def one() -> None:
        while not stop.is_set():

            def nothing() -> Iterator[bytes]:
                stop.wait()
                return
                yield b""

            with grpc.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)]) as channel:
                call = channel.stream_unary(EVALUATE, request_serializer=bytes, response_deserializer=bytes)
                try:
                    call(nothing(), timeout=60)
                    count("stalled_callers", "OK")
                except grpc.RpcError as exc:
                    count("stalled_callers", exc.code().name)

    callers = [threading.Thread(target=one, daemon=True) for _ in range(40)]
    for caller in callers:
        caller.start()
    stop.wait()


def idle_connections(address: str, stop: threading.Event) -> None:
    host, _, port = address.rpartition(":")
    held = []
    for n in range(IDLE_CONNECTIONS):
        if stop.is_set():
            break
        if n % 50 == 49:  # 500 a second: idle connections piling up, not a connect flood
            time.sleep(0.1)
        try:
            sock = socket.create_connection((host, int(port)), timeout=2)
            sock.sendall(PREFACE)
            held.append(sock)
            count("idle_connections", "opened")
        except OSError as exc:
            count("idle_connections", type(exc).__name__)
    stop.wait()
    for sock in held:
        sock.close()


def studio_slowloris(studio_url: str, stop: threading.Event) -> None:
    host, _, port = studio_url.removeprefix("http://").rpartition(":")
    socks = []
    for _ in range(70):
        sock = socket.socket()
        sock.bind(("127.0.0.2", 0))
        try:
            sock.connect((host, int(port)))
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            socks.append(sock)
        except OSError as exc:
            count("studio_slowloris", type(exc).__name__)
    while not stop.wait(1):
        for i, sock in enumerate(socks):
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:
                count("studio_slowloris", "closed by Studio")
                with contextlib.suppress(OSError):  # and come back, as an attacker would
                    sock.close()
                    fresh = socket.socket()
                    fresh.bind(("127.0.0.2", 0))
                    fresh.connect((host, int(port)))
                    fresh.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                    socks[i] = fresh


def main() -> int:
    address, studio_url, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    only = set(sys.argv[4].split(",")) if len(sys.argv) > 4 else None  # for finding which one hurts
    stop = threading.Event()
    attackers = [
        threading.Thread(target=attacker, args=(target, stop), daemon=True)
        for attacker, target in (
            (reflection_streams, address),
            (name_bombs, address),
            (memo_poison, address),
            (bursts, address),
            (stalled_callers, address),
            (idle_connections, address),
            (studio_slowloris, studio_url),
        )
        if only is None or attacker.__name__ in only
    ]
    for attacker in attackers:
        attacker.start()
    time.sleep(seconds)
    stop.set()
    time.sleep(1)
    with lock:
        print(json.dumps({name: dict(counts) for name, counts in outcomes.items()}), flush=True)
    return 0


if __name__ == "__main__":
    code = main()
    # Out at once, leaving the sockets to the OS: a normal exit first waits for gRPC to
    # wind down 64 open streams and thousands of connections, and at nice 19 on a busy
    # machine that outlasted the soak's 60 s of slack (seen twice).
    os._exit(code)
