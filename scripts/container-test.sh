#!/usr/bin/env bash
# `make container-test`: build the real Dockerfile on a local Debian base, run the image,
# and check it from the host. Image registries can't be reached here, so the base is made
# with debootstrap and imported into podman (shared/notes/tooling-here.md); it is kept
# between runs as localhost/bookworm-min. The test image and containers are removed.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=""
for tool in podman buildah debootstrap runc; do
  command -v "$tool" >/dev/null || missing="$missing $tool"
done
if [ -n "$missing" ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi

work="${TMPDIR:-/tmp}/earmark-container-test"
mkdir -p "$work"
# crun and the default ulimits fail in this sandbox; runc with lower limits works.
cat > "$work/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=16384:16384", "nproc=4096:4096"]
[engine]
runtime = "runc"
CONF
export CONTAINERS_CONF="$work/containers.conf"

if ! podman image exists localhost/bookworm-min:latest; then
  mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  rm -rf "$work/rootfs"
  debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >/dev/null
  tar -C "$work/rootfs" -c . | podman import - localhost/bookworm-min:latest >/dev/null
  rm -rf "$work/rootfs"
fi

.venv/bin/python -m pytest container_tests -q -p no:cacheprovider
