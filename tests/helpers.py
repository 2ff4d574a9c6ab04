"""Small builders shared by the tests."""

from __future__ import annotations

from typing import Any

from google.protobuf import struct_pb2

from earmark.v1 import earmark_pb2 as pb

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


def evaluate_request(product_id: str, specs: dict[str, Any], shopper: dict[str, Any] | None = None, *, trace: bool = False) -> pb.EvaluateRequest:
    request = pb.EvaluateRequest(product=product(product_id, specs), trace=trace)
    if shopper is not None:
        request.shopper.CopyFrom(struct(shopper))
    return request
