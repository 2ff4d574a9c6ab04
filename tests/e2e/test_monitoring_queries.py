"""Every query of the Grafana dashboard and of the alerts names a metric the service really
exports, as a scrape of a running server finds it: a lone server (every family, even one
with no samples yet) and a supervisor with two workers (the per-worker process_* series
and the supervisor's own counts)."""

from __future__ import annotations

import json
import re
import signal
import urllib.request
from pathlib import Path

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families
from ruamel.yaml import YAML

from helpers import serve_workers, wait_serving

pytestmark = pytest.mark.slow
CHART_FILES = Path(__file__).resolve().parents[2] / "deploy" / "helm" / "earmark" / "files"
# A metric name in PromQL: earmark_… or process_…, not a label (which follows `{` or `,`).
METRIC = re.compile(r"\b((?:earmark|process)_[a-z_]+)\b(?!\s*(?:=[^=]|!=))")


def _exported(pack: Path, workers: int) -> tuple[set[str], set[str]]:
    """(sample names, family names) of one scrape, with worker labels seen on process_*."""
    process, address, metrics_port = serve_workers(pack, workers, {"EARMARK_WATCH": "false"})
    try:
        with grpc.insecure_channel(address) as channel:
            wait_serving(channel, process)
        text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).read().decode()
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
    families = list(text_string_to_metric_families(text))
    samples = {sample.name for family in families for sample in family.samples}
    if workers > 1:
        workers_seen = {
            s.labels.get("worker") for f in families for s in f.samples if s.name.startswith("process_")
        }
        assert {"0", "1", "supervisor"} <= workers_seen
    names = {family.name for family in families}
    # A counter family is named without _total; histograms have _bucket/_count/_sum.
    return samples, names | {f"{n}_total" for n in names} | {
        f"{n}_{s}" for n in names for s in ("bucket", "count", "sum")
    }


def _queries() -> dict[str, str]:
    dashboard = json.loads((CHART_FILES / "dashboard.json").read_text())
    queries = {
        f"dashboard: {panel['title']} ({target['refId']})": target["expr"]
        for panel in dashboard["panels"]
        for target in panel["targets"]
    }
    for group in YAML(typ="safe").load((CHART_FILES / "alerts.yaml").read_text())["groups"]:
        for rule in group["rules"]:
            queries[f"alert {rule['alert']}"] = rule["expr"]
    return queries


def test_every_dashboard_and_alert_query_names_an_exported_metric(pack_copy: Path) -> None:
    lone_samples, lone_families = _exported(pack_copy, 1)
    pod_samples, pod_families = _exported(pack_copy, 2)
    exported = lone_samples | lone_families | pod_samples | pod_families
    queries = _queries()
    assert len(queries) > 20
    assert [where for where, expr in queries.items() if not METRIC.findall(expr)] == []  # none passes empty
    unknown = {
        where: sorted(set(METRIC.findall(expr)) - exported)
        for where, expr in queries.items()
        if set(METRIC.findall(expr)) - exported
    }
    assert not unknown, unknown
    # The check has teeth: a misspelt metric would be named.
    assert set(METRIC.findall("rate(earmark_rpc_total[5m])")) - exported == {"earmark_rpc_total"}
