"""A storefront's Earmark client in Python. Generate the code first, from the repository:

    python -m grpc_tools.protoc -Iproto --python_out=gen --grpc_python_out=gen proto/earmark/v1/earmark.proto

then run `PYTHONPATH=gen python storefront.py 127.0.0.1:50051`.
"""

import sys

import grpc
from google.protobuf import struct_pb2

from earmark.v1 import earmark_pb2 as pb
from earmark.v1 import earmark_pb2_grpc


def specs(values: dict) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(values)  # numbers, text, true/false and lists, as the catalog has them
    return struct


def main(address: str) -> None:
    with grpc.insecure_channel(address) as channel:
        earmark = earmark_pb2_grpc.EarmarkStub(channel)
        request = pb.EvaluateRequest(
            product=pb.Product(id="arctis-nova-7", specs=specs({"mic": "boom", "connectivity": ["wireless_dongle"]})),
            locale="en",
        )
        verdict = earmark.Evaluate(request, timeout=2).verdict
        print(verdict.category, {s.use_case: s.score for s in verdict.scores})
        # A typo is ignored, but the verdict says so: log warnings while you integrate.
        typo = pb.EvaluateRequest(product=pb.Product(id="typo", specs=specs({"micc": "boom"})))
        print(earmark.Evaluate(typo, timeout=2).verdict.warnings)
        # Strict mode turns it into an error: switch it on in development.
        typo.strict = True
        try:
            earmark.Evaluate(typo, timeout=2)
        except grpc.RpcError as error:
            print(error.code().name, error.details())


if __name__ == "__main__":
    main(sys.argv[1])
