"""deploy/kubernetes: valid for Kubernetes (offline, strict), generated from rules/audio
and up to date, locked down, and a ConfigMap update reloads in place."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

from earmark.config import BUNDLED_RULES
from earmark.evaluation.examples import load_checked
from earmark.server.live import LivePack
from earmark.server.reload import Reloader

from helpers import ROOT

MANIFESTS = ROOT / "deploy" / "kubernetes"
VALIDATE = shutil.which("kubernetes-validate", path=str(Path(sys.executable).parent)) or shutil.which(
    "kubernetes-validate"
)


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_configmap", ROOT / "scripts" / "make-configmap.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_manifest_passes_strict_validation() -> None:
    assert VALIDATE is not None, "kubernetes-validate is a dev dependency"
    files = sorted(str(p) for p in MANIFESTS.glob("*.yaml") if p.name != "kustomization.yaml")
    assert len(files) == 5
    done = subprocess.run(
        [VALIDATE, "--strict", "--quiet", *files], capture_output=True, text=True, timeout=120, check=False
    )
    assert 0 == done.returncode, done.stdout + done.stderr


def test_the_configmap_and_deployment_are_generated_from_the_rules() -> None:
    generator = _generator()
    assert (MANIFESTS / "rules-configmap.yaml").read_text() == generator.render_configmap(), (
        "run `make configmap`"
    )
    assert (MANIFESTS / "deployment.yaml").read_text() == generator.render_deployment(), (
        "run `make configmap`"
    )


def test_the_pod_is_locked_down_and_probed_over_grpc() -> None:
    deployment = YAML(typ="safe").load((MANIFESTS / "deployment.yaml").read_text())
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    # The probes ask the plaintext health-only port the container is told to serve.
    env = {e["name"]: e["value"] for e in container["env"]}
    health_port = int(env["EARMARK_HEALTH_ADDRESS"].rpartition(":")[2])
    assert health_port in {p["containerPort"] for p in container["ports"]}
    assert (
        health_port
        == container["readinessProbe"]["grpc"]["port"]
        == container["livenessProbe"]["grpc"]["port"]
    )
    assert {"requests", "limits"} <= set(container["resources"])
    assert pod["terminationGracePeriodSeconds"] > 20  # longer than the drain it allows


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
    mount = tmp_path / "rules"
    mount.mkdir()
    source = tmp_path / "source"
    shutil.copytree(BUNDLED_RULES, source)
    for name in ("comfort.yaml", "connection.yaml", "listening.yaml", "shopper.yaml"):
        # keep the layout small: fold the other rule files into talking.yaml's directory
        (source / "talking.yaml").write_text(
            (source / "talking.yaml").read_text() + (source / name).read_text().split("rules:", 1)[1]
        )
        (source / name).unlink()
    _kubelet_update(mount, "2026_11_23_1", source)
    live = LivePack(load_checked(mount))
    first = live.current().pack.version
    talking = source / "talking.yaml"
    talking.write_text(talking.read_text().replace("meetings: 22,", "meetings: 21,", 1))
    _kubelet_update(mount, "2026_11_23_2", source)
    assert Reloader(live, mount).reload("configmap update")
    assert first != live.current().pack.version
