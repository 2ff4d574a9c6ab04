"""Settings come from EARMARK_* variables, and a bad one is named in the error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from earmark.config import BUNDLED_RULES, load_settings, usable_cpus
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


def _cgroup(tmp_path: Path, limits: dict[str, str]) -> tuple[Path, Path]:
    """A cgroup v2 tree with `limits` (folder -> cpu.max), and a /proc/self placing this
    process in its deepest folder."""
    root, proc = tmp_path / "cgroup", tmp_path / "proc"
    proc.mkdir()
    deepest = max(limits, key=len)
    (proc / "cgroup").write_text(f"0::/{deepest}\n")
    for folder, limit in limits.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / "cpu.max").write_text(limit + "\n")
    return root, proc


def test_workers_default_to_the_cpus_a_cgroup_quota_allows(tmp_path: Path) -> None:
    """Was os.cpu_count(): a pod limited to 2 CPUs of a 64-CPU node started 64 workers."""
    root, proc = _cgroup(tmp_path, {"kubepods/pod": "50000 100000", "kubepods/pod/ctr": "max 100000"})
    assert (1, "1 from the cgroup's cpu.max (0.5 CPUs)") == usable_cpus(root, proc)


def test_without_a_quota_the_affinity_mask_counts(tmp_path: Path) -> None:
    root, proc = _cgroup(tmp_path, {"user.slice": "max 100000"})
    mask = len(os.sched_getaffinity(0))
    assert (mask, f"{mask} from the affinity mask") == usable_cpus(root, proc)


def test_the_log_says_where_the_number_of_workers_came_from() -> None:
    assert "3 from EARMARK_WORKERS" == load_settings({"EARMARK_WORKERS": "3"}).workers_from()
    assert load_settings({}).workers_from().endswith(("the affinity mask", "CPUs)"))
