"""Settings come from EARMARK_* variables, and a bad one is named in the error."""

from __future__ import annotations

import pytest

from earmark.config import BUNDLED_RULES, load_settings
from earmark.errors import ConfigError


def test_defaults_serve_the_bundled_pack_on_loopback() -> None:
    settings = load_settings({})
    assert "127.0.0.1:50051" == settings.address
    assert BUNDLED_RULES == settings.rules
    assert 500 == settings.max_batch_size


def test_values_are_read_and_typed() -> None:
    settings = load_settings(
        {"EARMARK_ADDRESS": "0.0.0.0:6000", "EARMARK_MAX_BATCH_SIZE": "20", "OTHER": "x"}
    )
    assert ("0.0.0.0:6000", 20) == (settings.address, settings.max_batch_size)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"EARMARK_ADDRESS": "nowhere"}, "EARMARK_ADDRESS='nowhere'"),
        ({"EARMARK_MAX_BATCH_SIZE": "0"}, "EARMARK_MAX_BATCH_SIZE='0'"),
        ({"EARMARK_THREADS": "many"}, "EARMARK_THREADS='many'"),
        ({"EARMARK_LOG_LEVEL": "loud"}, "EARMARK_LOG_LEVEL='loud'"),
        ({"EARMARK_HEALTH_ADDRESS": "50052"}, "EARMARK_HEALTH_ADDRESS='50052'"),
        (
            {"EARMARK_HEALTH_ADDRESS": "0.0.0.0:9464"},
            "EARMARK_HEALTH_ADDRESS='0.0.0.0:9464' uses the port of EARMARK_METRICS_ADDRESS='127.0.0.1:9464'",
        ),
        (
            {"EARMARK_ADRESS": "127.0.0.1:1"},
            "EARMARK_ADRESS is not a setting (did you mean EARMARK_ADDRESS?)",
        ),
    ],
)
def test_a_bad_setting_is_named_with_its_value(environ: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ)
    assert expected in str(caught.value)


def test_an_address_is_parsed_once_into_host_and_port() -> None:
    from earmark.config import Address  # new: the tests above run on older code

    assert Address("0.0.0.0", 50051) == Address.parse("0.0.0.0:50051")
    assert "127.0.0.1:50051" == str(Address.parse("0.0.0.0:50051").to_dial())
    assert "127.0.0.1:8080" == str(Address.parse("[::]:8080").to_dial())
    assert "::1" == Address.parse("[::1]:9464").bind_host
    for bad in ("50051", "host:", ":80", "host:99999", "host:port"):
        with pytest.raises(ValueError, match="HOST:PORT"):
            Address.parse(bad)
