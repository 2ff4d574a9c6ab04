"""The Helm chart (deploy/helm/earmark) and the plain manifests rendered from it: linted by
helm, valid for Kubernetes (offline, strict), up to date with rules/audio, locked down,
and built so that a rules change reloads in place and never starts a rollout."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from earmark.evaluation.examples import load_checked
from earmark.server.live import LivePack
from earmark.server.reload import Reloader

from helpers import ROOT

CHART = ROOT / "deploy" / "helm" / "earmark"
MANIFESTS = ROOT / "deploy" / "kubernetes"
BIN = Path(sys.executable).parent
HELM = str(BIN / "helm")  # `make test` puts it there (scripts/ensure-helm.sh)
VALIDATE = shutil.which("kubernetes-validate", path=str(BIN)) or shutil.which("kubernetes-validate")
EVERYTHING_ON = (
    "--set",
    "serviceMonitor.enabled=true,prometheusRule.enabled=true,dashboard.enabled=true,"
    "tls.enabled=true,tls.mutualTLS=true,decisionLog.enabled=true",
)


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("make_manifests", ROOT / "scripts" / "make-manifests.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _documents(text: str) -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for document in YAML(typ="safe").load_all(text):
        if document:
            found[(document["kind"], document["metadata"]["name"])] = document
    return found


def _validate(path: Path, version: str) -> subprocess.CompletedProcess[str]:
    assert VALIDATE is not None, "kubernetes-validate is a dev dependency"
    return subprocess.run(
        [VALIDATE, "--strict", "--quiet", "--no-warn", "-k", version, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_helm_lints_the_chart_strictly() -> None:
    linted = subprocess.run(
        [HELM, "lint", "--strict", str(CHART), *EVERYTHING_ON], capture_output=True, text=True
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr


@pytest.mark.parametrize("version", ["1.30.0", "1.37.0"])  # 1.30: the preStop sleep action is on
def test_the_rendered_chart_passes_strict_validation(tmp_path: Path, version: str) -> None:
    rendered = tmp_path / "earmark.yaml"
    rendered.write_text(_generator().rendered(HELM, CHART, *EVERYTHING_ON))
    kinds = {kind for kind, _name in _documents(rendered.read_text())}
    assert {"Deployment", "Service", "ConfigMap", "HorizontalPodAutoscaler", "PodDisruptionBudget"} <= kinds
    assert {"NetworkPolicy", "ServiceMonitor", "PrometheusRule"} <= kinds
    validated = _validate(rendered, version)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    # The checker has teeth: a wrong type in a known kind is refused.
    broken = tmp_path / "broken.yaml"
    broken.write_text(rendered.read_text().replace("minAvailable: 1", "minAvailable: [1]"))
    assert _validate(broken, version).returncode != 0


def test_the_plain_manifests_and_the_charts_rules_are_generated_and_up_to_date() -> None:
    generator = _generator()
    assert (MANIFESTS / "earmark.yaml").read_text() == generator.HEADER + generator.rendered(HELM), (
        "run `make manifests`"
    )
    in_chart = {p.name: p.read_bytes() for p in (CHART / "files" / "rules").glob("*.yaml")}
    assert in_chart == generator.flat_rules(), "run `make manifests`"
    validated = _validate(MANIFESTS / "earmark.yaml", "1.37.0")
    assert validated.returncode == 0, validated.stdout + validated.stderr


def test_the_prometheus_rule_holds_the_tested_alerts_with_absolute_runbooks(tmp_path: Path) -> None:
    documents = _documents(_generator().rendered(HELM, CHART, *EVERYTHING_ON))
    spec = documents[("PrometheusRule", "earmark")]["spec"]
    rules = tmp_path / "rules.yaml"
    YAML().dump(spec, rules)
    checked = subprocess.run(["promtool", "check", "rules", str(rules)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    urls = [rule["annotations"]["runbook_url"] for group in spec["groups"] for rule in group["rules"]]
    assert urls and all(url.startswith("https://") and "docs/operations.md#" in url for url in urls)
    # The ServiceMonitor scrapes a port the Service names.
    monitor = documents[("ServiceMonitor", "earmark")]["spec"]["endpoints"][0]["port"]
    assert monitor in {port["name"] for port in documents[("Service", "earmark")]["spec"]["ports"]}


def test_adding_a_rule_file_changes_only_the_configmap(tmp_path: Path) -> None:
    generator = _generator()
    before = _documents(generator.rendered(HELM, CHART))
    chart = tmp_path / "earmark"
    shutil.copytree(CHART, chart)
    (chart / "files" / "rules" / "zz-new.yaml").write_text("rules: []\n")
    after = _documents(generator.rendered(HELM, chart))
    changed = sorted(key for key in before if before[key] != after[key])
    assert changed == [("ConfigMap", "earmark-rules")]
    assert "zz-new.yaml" in after[("ConfigMap", "earmark-rules")]["data"]


def test_the_pod_is_locked_down_probed_and_drains_before_its_listener_closes() -> None:
    documents = _documents((MANIFESTS / "earmark.yaml").read_text())
    pod = documents[("Deployment", "earmark")]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    env = {e["name"]: e["value"] for e in container["env"]}
    health_port = int(env["EARMARK_HEALTH_ADDRESS"].rpartition(":")[2])
    assert health_port in {p["containerPort"] for p in container["ports"]}
    probes = [container[k]["grpc"]["port"] for k in ("startupProbe", "readinessProbe", "livenessProbe")]
    assert probes == [health_port] * 3
    # The preStop pause, then the drain, both inside the grace period.
    pause = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pause > 0 and pause + float(env["EARMARK_GRACE_SECONDS"]) < pod["terminationGracePeriodSeconds"]
    # The rules ConfigMap as a whole folder: no items list for a new file to change.
    rules = next(v for v in pod["volumes"] if v["name"] == "rules")
    assert "items" not in rules["configMap"]
    assert {c["topologyKey"] for c in pod["topologySpreadConstraints"]} == {
        "topology.kubernetes.io/zone",
        "kubernetes.io/hostname",
    }
    # One CPU requested per worker: the HPA's percentage then means "workers busy".
    assert int(container["resources"]["requests"]["cpu"]) == int(env["EARMARK_WORKERS"])


def test_the_network_policy_admits_calls_from_the_storefront_and_scrapes_from_monitoring() -> None:
    policy = _documents((MANIFESTS / "earmark.yaml").read_text())[("NetworkPolicy", "earmark")]["spec"]
    admitted = {
        (
            rule["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
            rule["ports"][0]["port"],
        )
        for rule in policy["ingress"]
    }
    assert admitted == {("storefront", 50051), ("monitoring", 9464)}


def _kubelet_update(mount: Path, version: str, source: Path) -> None:
    """Lay out a ConfigMap volume the way kubelet does: the files live in a timestamped
    directory, `..data` points at it, and the visible names are links through `..data`.
    An update writes a new directory and swaps `..data` with an atomic rename."""
    payload = mount / f"..{version}"
    shutil.copytree(source, payload)
    link = mount / "..data_tmp"
    link.symlink_to(payload.name)
    os.replace(link, mount / "..data")
    for entry in sorted(p.name for p in payload.iterdir()):
        target = mount / entry
        if not target.is_symlink():
            target.symlink_to(Path("..data") / entry)


def test_a_configmap_update_reloads_in_place(tmp_path: Path) -> None:
    """The chart's flat rules, mounted as kubelet mounts a whole ConfigMap; a new file
    arrives in the same swap as a changed one."""
    mount = tmp_path / "rules"
    mount.mkdir()
    source = tmp_path / "source"
    shutil.copytree(CHART / "files" / "rules", source)
    _kubelet_update(mount, "2026_11_23_1", source)
    live = LivePack(load_checked(mount))
    first = live.current().pack
    talking = source / "talking.yaml"
    talking.write_text(talking.read_text().replace("meetings: 22,", "meetings: 21,", 1))
    (source / "zz-added.yaml").write_text("rules: []\n")
    _kubelet_update(mount, "2026_11_23_2", source)
    assert Reloader(live, mount).reload("configmap update")
    now = live.current().pack
    assert first.version != now.version and len(now.examples) == len(first.examples) > 0
    assert "zz-added.yaml" in dict(now.files)
